-- One row per project (the agent's working directory).
SELECT project,
       count(DISTINCT user_name) AS users,
       count(DISTINCT session_id) AS sessions,
       sum(requests)::BIGINT AS requests,
       sum(input_tokens)::BIGINT AS input_tokens,
       sum(output_tokens)::BIGINT AS output_tokens,
       sum(cache_creation_tokens)::BIGINT AS cache_creation_tokens,
       sum(cache_read_tokens)::BIGINT AS cache_read_tokens,
       sum(total_tokens)::BIGINT AS total_tokens,
       usd(sum(cost_usd)) AS cost_usd,
       sum(kept_tokens)::BIGINT AS kept_tokens,
       sum(looping_tokens + discarded_tokens + idle_tokens)::BIGINT AS waste_tokens,
       useful_ratio(sum(kept_tokens)::BIGINT, sum(total_tokens)::BIGINT) AS useful_output_ratio,
       sum(unpriced_requests)::BIGINT AS unpriced_requests
FROM session_days($date_from, $date_to, $team, $user, $project, $source, $model)
GROUP BY project
ORDER BY total_tokens DESC, project;
