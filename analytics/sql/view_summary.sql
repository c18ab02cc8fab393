-- One row of KPIs for the period (dashboard Overview and the sidebar's "what the period holds").
-- Counts are shown as int64 (as_count: empty beyond it); an empty period gives 0.
WITH f AS (SELECT * FROM session_days($slice)),
flagged AS (
    SELECT count(DISTINCT session_id) AS n, count(*) AS flags, usd(exact_sum(cost_usd)) AS own FROM filtered_flags($slice)
),
-- flagged spend, each request once (macros.sql flagged_requests)
flagged_spend AS (SELECT usd(exact_sum(claimed_cost)) AS cost FROM flagged_requests($slice))
SELECT usd(exact_sum(cost_usd)) AS cost_usd,
       as_count(coalesce(sum(total_tokens), 0)) AS total_tokens,
       as_count(coalesce(sum(requests), 0)) AS requests,
       count(DISTINCT session_id) AS sessions,
       count(DISTINCT user_name) AS active_users,
       as_count(coalesce(sum(kept_tokens), 0)) AS kept_tokens,
       as_count(coalesce(sum(looping_tokens) + sum(discarded_tokens) + sum(idle_tokens), 0)) AS waste_tokens,
       waste_cost(exact_sum(cost_usd), exact_sum(looping_cost_usd), exact_sum(discarded_cost_usd),
                  exact_sum(idle_cost_usd)) AS waste_cost_usd,
       usd(exact_sum(overhead_cost_usd)) AS overhead_cost_usd,
       useful_ratio(sum(kept_tokens), sum(total_tokens), sum(overhead_tokens)) AS useful_output_ratio,
       useful_ratio(exact_sum(kept_cost_usd), exact_sum(cost_usd), exact_sum(overhead_cost_usd)) AS useful_cost_ratio,
       as_count(coalesce(sum(unpriced_requests), 0)) AS unpriced_requests,
       (SELECT n FROM flagged) AS flagged_sessions,
       (SELECT flags FROM flagged) AS flag_count,
       (SELECT cost FROM flagged_spend) AS flagged_cost_usd,
       (SELECT own FROM flagged) AS flags_cost_usd,
       as_count(coalesce(sum(estimated_output_requests), 0)) AS estimated_output_requests,
       usd(exact_sum(estimated_output_cost_usd)) AS estimated_output_cost_usd,
       as_count(coalesce(sum(fallback_model_requests), 0)) AS fallback_model_requests,
       usd(exact_sum(fallback_model_cost_usd)) AS fallback_model_cost_usd
FROM f
HAVING NOT small_group($slice, count(DISTINCT user_name), bool_or(user_name = scope()['viewer']));
