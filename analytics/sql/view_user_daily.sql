-- Per person and day: cost and useful ratio (sparklines).
SELECT user_name AS "user", day, usd(sum(cost_usd)) AS cost_usd, sum(total_tokens)::BIGINT AS total_tokens,
       useful_ratio(sum(kept_tokens)::BIGINT, sum(total_tokens)::BIGINT) AS useful_output_ratio
FROM session_days($date_from, $date_to, $team, $user, $project, $source, $model)
GROUP BY user_name, day ORDER BY "user", day;
