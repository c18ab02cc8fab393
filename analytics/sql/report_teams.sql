-- One row per team (org directory; people not in it under '(unassigned)'), sorted like people.
WITH flagged AS (
    SELECT team, count(DISTINCT session_id) AS flagged_sessions FROM filtered_flags($date_from, $date_to, $team, $user, $project, $source, $model) GROUP BY team
)
SELECT f.team,
       count(DISTINCT f.user_name) AS users,
       count(DISTINCT f.session_id) AS sessions,
       sum(f.requests)::BIGINT AS requests,
       sum(f.input_tokens)::BIGINT AS input_tokens,
       sum(f.output_tokens)::BIGINT AS output_tokens,
       sum(f.cache_creation_tokens)::BIGINT AS cache_creation_tokens,
       sum(f.cache_read_tokens)::BIGINT AS cache_read_tokens,
       sum(f.total_tokens)::BIGINT AS total_tokens,
       usd(sum(f.cost_usd)) AS cost_usd,
       sum(f.kept_tokens)::BIGINT AS kept_tokens,
       useful_ratio(sum(f.kept_tokens)::BIGINT, sum(f.total_tokens)::BIGINT) AS useful_output_ratio,
       coalesce(any_value(g.flagged_sessions), 0) AS flagged_sessions,
       sum(f.looping_tokens + f.discarded_tokens + f.idle_tokens)::BIGINT AS waste_tokens,
       useful_ratio(sum(f.kept_cost_usd), sum(f.cost_usd)) AS useful_cost_ratio,
       sum(f.unpriced_requests)::BIGINT AS unpriced_requests,
       sum(f.overhead_tokens)::BIGINT AS overhead_tokens,
       usd(sum(f.overhead_cost_usd)) AS overhead_cost_usd
FROM session_days($date_from, $date_to, $team, $user, $project, $source, $model) f
LEFT JOIN flagged g ON g.team = f.team
GROUP BY f.team
ORDER BY useful_output_ratio ASC NULLS LAST, waste_tokens DESC, f.team;
