-- The Overview's headline (one row): of the spend in the slice, how much went to turns whose edits
-- landed on a default branch, and to turns with a landed line still there at the head. Every request
-- of the slice is in the denominator: sessions that produced nothing, or whose repository is not
-- scanned, too; only Claude Code's own overhead stays out of both sides, as in the useful ratio
-- (docs/metrics.md "Outcomes in git"). repositories = 0: nothing scanned yet.
WITH spend AS (
    SELECT f.session_id, f.turn_no, f.cost_usd, f.user_name, f.outcome = 'overhead' AS overhead
    FROM request_facts f LEFT JOIN org_users o ON o.user_name = f.user_name
    WHERE in_slice($slice, f.day, f.user_name, team_of(o.team), f.project, f.source)
      AND ($slice.model IS NULL OR f.model = $slice.model)
),
turns AS (
    SELECT s.session_id, s.turn_no, sum(s.cost_usd) AS cost_usd, any_value(s.user_name) AS user_name,
           sum(s.cost_usd) FILTER (WHERE NOT s.overhead) AS work_cost_usd,
           sum(s.cost_usd) FILTER (WHERE s.overhead) AS overhead_cost_usd,
           any_value(t.lines_landed) AS lines_landed, any_value(t.lines_alive_head) AS lines_alive_head
    FROM spend s LEFT JOIN git_turns t ON t.session_id = s.session_id AND t.turn_no = s.turn_no
    GROUP BY s.session_id, s.turn_no
)
SELECT usd(sum(cost_usd)) AS cost_usd,
       usd(coalesce(sum(work_cost_usd) FILTER (WHERE lines_landed > 0), 0)) AS landed_cost_usd,
       useful_ratio(sum(work_cost_usd) FILTER (WHERE lines_landed > 0), sum(cost_usd), sum(overhead_cost_usd)) AS landed_cost_share,
       usd(coalesce(sum(work_cost_usd) FILTER (WHERE lines_alive_head > 0), 0)) AS surviving_cost_usd,
       useful_ratio(sum(work_cost_usd) FILTER (WHERE lines_alive_head > 0), sum(cost_usd), sum(overhead_cost_usd)) AS surviving_cost_share,
       as_count(coalesce(sum(lines_landed), 0)) AS lines_landed,
       as_count(coalesce(sum(lines_alive_head), 0)) AS lines_alive_head,
       (SELECT count(*) FROM git_repos) AS repositories
FROM turns
HAVING NOT small_group($slice, count(DISTINCT user_name), bool_or(user_name = scope()['viewer']));
