-- Per person and day: cost and useful ratio (sparklines).
SELECT user_name AS "user", day, usd(exact_sum(cost_usd)) AS cost_usd, total(total_tokens) AS total_tokens,
       useful_ratio(sum(kept_tokens), sum(total_tokens), sum(overhead_tokens)) AS useful_output_ratio
FROM session_days($slice)
GROUP BY user_name, day ORDER BY "user", day;
