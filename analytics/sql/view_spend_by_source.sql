-- Per source agent: requests, tokens, cost.
SELECT source, sum(requests)::BIGINT AS requests, sum(total_tokens)::BIGINT AS total_tokens, usd(sum(cost_usd)) AS cost_usd,
       useful_ratio(sum(kept_tokens)::BIGINT, sum(total_tokens)::BIGINT) AS useful_output_ratio
FROM session_days($date_from, $date_to, $team, $user, $project, $source, $model)
GROUP BY source ORDER BY source;
