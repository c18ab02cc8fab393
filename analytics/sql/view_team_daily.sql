-- Per team and day: cost and useful ratio (sparklines).
SELECT team, day, usd(sum(cost_usd)) AS cost_usd, sum(total_tokens)::BIGINT AS total_tokens,
       useful_ratio(sum(kept_tokens)::BIGINT, sum(total_tokens)::BIGINT) AS useful_output_ratio
FROM session_days($date_from, $date_to, $team, $user, $project, $source, $model)
GROUP BY team, day ORDER BY team, day;
