-- One row per UTC day: spend, tokens by kind, and where the tokens went.
SELECT day,
       count(DISTINCT user_name) AS users,
       count(DISTINCT session_id) AS sessions,
       total(requests) AS requests,
       total(input_tokens) AS input_tokens,
       total(output_tokens) AS output_tokens,
       total(cache_creation_tokens) AS cache_creation_tokens,
       total(cache_read_tokens) AS cache_read_tokens,
       total(total_tokens) AS total_tokens,
       usd(sum(cost_usd)) AS cost_usd,
       total(unpriced_requests) AS unpriced_requests,
       total(kept_tokens) AS kept_tokens,
       total(looping_tokens) AS looping_tokens,
       total(discarded_tokens) AS discarded_tokens,
       total(idle_tokens) AS idle_tokens,
       usd(sum(kept_cost_usd)) AS kept_cost_usd,
       usd(sum(looping_cost_usd)) AS looping_cost_usd,
       usd(sum(discarded_cost_usd)) AS discarded_cost_usd,
       usd(sum(idle_cost_usd)) AS idle_cost_usd,
       useful_ratio(sum(kept_tokens), sum(total_tokens)) AS useful_output_ratio,
       useful_ratio(sum(kept_cost_usd), sum(cost_usd)) AS useful_cost_ratio
FROM session_days($slice)
GROUP BY day
ORDER BY day;
