-- One row per UTC day: spend, tokens by kind, and where the tokens went.
SELECT day,
       count(DISTINCT user_name) AS users,
       count(DISTINCT session_id) AS sessions,
       sum(requests)::BIGINT AS requests,
       sum(input_tokens)::BIGINT AS input_tokens,
       sum(output_tokens)::BIGINT AS output_tokens,
       sum(cache_creation_tokens)::BIGINT AS cache_creation_tokens,
       sum(cache_read_tokens)::BIGINT AS cache_read_tokens,
       sum(total_tokens)::BIGINT AS total_tokens,
       usd(sum(cost_usd)) AS cost_usd,
       sum(unpriced_requests)::BIGINT AS unpriced_requests,
       sum(kept_tokens)::BIGINT AS kept_tokens,
       sum(looping_tokens)::BIGINT AS looping_tokens,
       sum(discarded_tokens)::BIGINT AS discarded_tokens,
       sum(idle_tokens)::BIGINT AS idle_tokens,
       sum(overhead_tokens)::BIGINT AS overhead_tokens,
       usd(sum(kept_cost_usd)) AS kept_cost_usd,
       usd(sum(looping_cost_usd)) AS looping_cost_usd,
       usd(sum(discarded_cost_usd)) AS discarded_cost_usd,
       usd(sum(idle_cost_usd)) AS idle_cost_usd,
       usd(sum(overhead_cost_usd)) AS overhead_cost_usd,
       useful_ratio(sum(kept_tokens)::BIGINT, sum(total_tokens)::BIGINT) AS useful_output_ratio,
       useful_ratio(sum(kept_cost_usd), sum(cost_usd)) AS useful_cost_ratio
FROM session_days($date_from, $date_to, $team, $user, $project, $source, $model)
GROUP BY day
ORDER BY day;
