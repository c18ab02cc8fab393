-- Per team and day: cost and useful ratio (sparklines).
SELECT team, day, usd(exact_sum(cost_usd)) AS cost_usd, total(total_tokens) AS total_tokens,
       useful_ratio(sum(kept_tokens), sum(total_tokens), sum(overhead_tokens)) AS useful_output_ratio
FROM session_days($slice)
GROUP BY team, day
HAVING NOT small_group($slice, count(DISTINCT user_name), bool_or(user_name = scope()['viewer']))
ORDER BY team, day;
