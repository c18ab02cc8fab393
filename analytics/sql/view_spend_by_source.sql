-- Per source agent: requests, tokens, cost.
SELECT source, total(requests) AS requests, total(total_tokens) AS total_tokens, usd(exact_sum(cost_usd)) AS cost_usd,
       useful_ratio(sum(kept_tokens), sum(total_tokens), sum(overhead_tokens)) AS useful_output_ratio
FROM session_days($slice)
GROUP BY source
HAVING NOT small_group($slice, count(DISTINCT user_name), bool_or(user_name = scope()['viewer']))
ORDER BY source;
