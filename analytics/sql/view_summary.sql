-- One row of KPIs for the period (dashboard Overview).
-- Counts are shown as int64 (as_count: empty beyond it); an empty period gives 0.
WITH f AS (SELECT * FROM session_days($slice)),
flagged AS (SELECT count(DISTINCT session_id) AS n FROM filtered_flags($slice))
SELECT usd(exact_sum(cost_usd)) AS cost_usd,
       as_count(coalesce(sum(total_tokens), 0)) AS total_tokens,
       as_count(coalesce(sum(requests), 0)) AS requests,
       count(DISTINCT session_id) AS sessions,
       count(DISTINCT user_name) AS active_users,
       as_count(coalesce(sum(kept_tokens), 0)) AS kept_tokens,
       as_count(coalesce(sum(looping_tokens) + sum(discarded_tokens) + sum(idle_tokens), 0)) AS waste_tokens,
       useful_ratio(sum(kept_tokens), sum(total_tokens), sum(overhead_tokens)) AS useful_output_ratio,
       useful_ratio(exact_sum(kept_cost_usd), exact_sum(cost_usd), exact_sum(overhead_cost_usd)) AS useful_cost_ratio,
       as_count(coalesce(sum(unpriced_requests), 0)) AS unpriced_requests,
       (SELECT n FROM flagged) AS flagged_sessions
FROM f
HAVING NOT small_group($slice, count(DISTINCT user_name), bool_or(user_name = scope()['viewer']));
