-- One row of KPIs for the period (dashboard Overview).
WITH f AS (SELECT * FROM session_days($date_from, $date_to, $team, $user, $project, $source, $model)),
flagged AS (SELECT count(DISTINCT session_id) AS n FROM filtered_flags($date_from, $date_to, $team, $user, $project, $source, $model))
SELECT usd(sum(cost_usd)) AS cost_usd,
       coalesce(sum(total_tokens)::BIGINT, 0) AS total_tokens,
       coalesce(sum(requests)::BIGINT, 0) AS requests,
       count(DISTINCT session_id) AS sessions,
       count(DISTINCT user_name) AS active_users,
       coalesce(sum(kept_tokens)::BIGINT, 0) AS kept_tokens,
       coalesce(sum(looping_tokens + discarded_tokens + idle_tokens)::BIGINT, 0) AS waste_tokens,
       useful_ratio(sum(kept_tokens)::BIGINT, sum(total_tokens)::BIGINT) AS useful_output_ratio,
       useful_ratio(sum(kept_cost_usd), sum(cost_usd)) AS useful_cost_ratio,
       coalesce(sum(unpriced_requests)::BIGINT, 0) AS unpriced_requests,
       (SELECT n FROM flagged) AS flagged_sessions
FROM f;
