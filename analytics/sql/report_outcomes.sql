-- What the spend bought in git, per person, team, project and plugin (docs/metrics.md "Outcomes
-- in git"). Every session in the slice counts in the cost, the ones that produced nothing too.
-- Cost rows come by request day, line rows by edit day, commit rows by link day.
WITH horizon AS (SELECT max(head_at) AS head_at FROM git_repos),
linked AS (SELECT DISTINCT session_id FROM git_links),
ends AS (SELECT session_id, max(last_ts) AS last_ts FROM session_day_facts GROUP BY session_id),
-- A session has "matured" when the newest scanned history reaches 30 days past its end: only
-- then can its lines have reached the 30-day mark, so only then does it count toward that figure.
matured AS (
    SELECT e.session_id FROM ends e, horizon h WHERE e.last_ts + INTERVAL 30 DAY <= h.head_at
),
who AS (
    SELECT session_id, any_value(user_name) AS user_name, any_value(project) AS project, any_value(source) AS source
    FROM session_day_facts GROUP BY session_id
),
costs AS (
    SELECT f.session_id, f.day, f.user_name, f.team, f.project, f.source, f.cost_usd,
           CASE WHEN f.session_id NOT IN (SELECT session_id FROM linked) THEN f.cost_usd ELSE 0 END AS unlinked_cost_usd,
           CASE WHEN f.session_id IN (SELECT session_id FROM matured) THEN f.cost_usd ELSE 0 END AS matured_cost_usd,
           0 AS lines_written, 0 AS lines_committed, 0 AS lines_landed, 0 AS lines_due_30d,
           0 AS lines_alive_30d, 0 AS matured_alive_30d, NULL::VARCHAR AS commit_key
    FROM session_days($slice) f
),
sliced_who AS (
    SELECT w.*, team_of(o.team) AS team FROM who w LEFT JOIN org_users o ON o.user_name = w.user_name
),
lines AS (
    SELECT e.session_id, e.ts::DATE AS day, w.user_name, w.team, w.project, w.source,
           0 AS cost_usd, 0 AS unlinked_cost_usd, 0 AS matured_cost_usd,
           e.lines_written, e.lines_committed, e.lines_landed, e.lines_due_30d, e.lines_alive_30d,
           CASE WHEN e.session_id IN (SELECT session_id FROM matured) THEN e.lines_alive_30d ELSE 0 END AS matured_alive_30d,
           NULL::VARCHAR AS commit_key
    FROM edit_outcomes e JOIN sliced_who w USING (session_id)
    WHERE in_slice($slice, e.ts::DATE, w.user_name, w.team, w.project, w.source)
      AND ($slice.model IS NULL OR e.session_id IN (SELECT session_id FROM session_day_facts WHERE model = $slice.model))
),
commits AS (
    SELECT l.session_id, l.linked_at::DATE AS day, w.user_name, w.team, w.project, w.source,
           0, 0, 0, 0, 0, 0, 0, 0, 0, l.repo_id || ':' || l.sha AS commit_key
    FROM git_links l JOIN sliced_who w ON w.session_id = l.session_id
    JOIN git_commits g ON g.repo_id = l.repo_id AND g.sha = l.sha AND g.landed
    WHERE in_slice($slice, l.linked_at::DATE, w.user_name, w.team, w.project, w.source)
      AND ($slice.model IS NULL OR l.session_id IN (SELECT session_id FROM session_day_facts WHERE model = $slice.model))
),
facts AS (SELECT * FROM costs UNION ALL SELECT * FROM lines UNION ALL SELECT * FROM commits),
by_group AS (
    SELECT CASE WHEN GROUPING(user_name) = 0 THEN 'person' WHEN GROUPING(team) = 0 THEN 'team' ELSE 'project' END AS level,
           CASE WHEN GROUPING(user_name) = 0 THEN user_name WHEN GROUPING(team) = 0 THEN team ELSE project END AS name,
           count(DISTINCT session_id) FILTER (WHERE cost_usd > 0 OR lines_written > 0) AS sessions,
           sum(cost_usd) AS cost_usd, sum(lines_written) AS lines_written, sum(lines_committed) AS lines_committed,
           sum(lines_landed) AS lines_landed, sum(lines_due_30d) AS lines_due_30d, sum(lines_alive_30d) AS lines_alive_30d,
           count(DISTINCT commit_key) AS landed_commits, sum(unlinked_cost_usd) AS unlinked_cost_usd,
           sum(matured_cost_usd) AS matured_cost_usd, sum(matured_alive_30d) AS matured_alive_30d
    FROM facts
    GROUP BY GROUPING SETS ((user_name), (team), (project))
),
-- Plugins: their attributed cost; the lines of edits made by requests attributed to them (by share).
plugin_costs AS (
    SELECT c.plugin, c.session_id, c.cost_usd,
           CASE WHEN c.session_id NOT IN (SELECT session_id FROM linked) THEN c.cost_usd ELSE 0 END AS unlinked_cost_usd,
           CASE WHEN c.session_id IN (SELECT session_id FROM matured) THEN c.cost_usd ELSE 0 END AS matured_cost_usd
    FROM component_days($slice) c
    WHERE c.plugin IS NOT NULL
),
plugin_lines AS (
    SELECT rc.plugin, sum(rc.share * e.lines_written) AS lines_written,
           sum(rc.share * e.lines_committed) AS lines_committed, sum(rc.share * e.lines_landed) AS lines_landed,
           sum(rc.share * e.lines_due_30d) AS lines_due_30d, sum(rc.share * e.lines_alive_30d) AS lines_alive_30d,
           sum(rc.share * e.lines_alive_30d) FILTER (WHERE e.session_id IN (SELECT session_id FROM matured)) AS matured_alive_30d
    FROM edit_outcomes e
    JOIN sliced_who w USING (session_id)
    JOIN tool_calls t ON t.tool_use_id = e.tool_use_id
    JOIN request_components rc ON rc.request_key = t.request_key
    WHERE rc.plugin IS NOT NULL
      AND in_slice($slice, e.ts::DATE, w.user_name, w.team, w.project, w.source)
      AND ($slice.model IS NULL OR e.session_id IN (SELECT session_id FROM session_day_facts WHERE model = $slice.model))
    GROUP BY rc.plugin
),
by_plugin AS (
    SELECT 'plugin' AS level, p.plugin AS name, p.sessions, p.cost_usd, l.lines_written, l.lines_committed,
           l.lines_landed, l.lines_due_30d, l.lines_alive_30d,
           (SELECT count(DISTINCT k.commit_key) FROM commits k
            WHERE k.session_id IN (SELECT session_id FROM plugin_costs x WHERE x.plugin = p.plugin)) AS landed_commits,
           p.unlinked_cost_usd, p.matured_cost_usd, l.matured_alive_30d
    FROM (SELECT plugin, count(DISTINCT session_id) AS sessions, sum(cost_usd) AS cost_usd,
                 sum(unlinked_cost_usd) AS unlinked_cost_usd, sum(matured_cost_usd) AS matured_cost_usd
          FROM plugin_costs GROUP BY plugin) p
    LEFT JOIN plugin_lines l USING (plugin)
)
SELECT level, name, sessions::BIGINT AS sessions, usd(cost_usd) AS cost_usd,
       round(coalesce(lines_written, 0))::BIGINT AS lines_written,
       round(coalesce(lines_committed, 0))::BIGINT AS lines_committed,
       round(coalesce(lines_landed, 0))::BIGINT AS lines_landed,
       round(coalesce(lines_due_30d, 0))::BIGINT AS lines_due_30d,
       round(coalesce(lines_alive_30d, 0))::BIGINT AS lines_alive_30d,
       landed_commits::BIGINT AS landed_commits,
       CASE WHEN lines_landed > 0 THEN usd(cost_usd / lines_landed) END AS cost_per_landed_line,
       CASE WHEN matured_alive_30d > 0 THEN usd(matured_cost_usd / matured_alive_30d) END AS cost_per_alive_30d_line,
       CASE WHEN landed_commits > 0 THEN usd(cost_usd / landed_commits) END AS cost_per_landed_commit,
       usd(unlinked_cost_usd) AS unlinked_cost_usd
FROM (SELECT * FROM by_group UNION ALL BY NAME SELECT * FROM by_plugin)
WHERE name IS NOT NULL OR level <> 'project'
ORDER BY CASE level WHEN 'team' THEN 1 WHEN 'person' THEN 2 WHEN 'project' THEN 3 ELSE 4 END, name;
