-- One row per project (the agent's working directory).
SELECT project,
       count(DISTINCT user_name) AS users,
       count(DISTINCT session_id) AS sessions,
       sum(requests) AS requests,
       sum(input_tokens) AS input_tokens,
       sum(output_tokens) AS output_tokens,
       sum(cache_creation_tokens) AS cache_creation_tokens,
       sum(cache_read_tokens) AS cache_read_tokens,
       sum(total_tokens) AS total_tokens,
       usd(sum(cost_usd)) AS cost_usd,
       sum(kept_tokens) AS kept_tokens,
       sum(looping_tokens + discarded_tokens + idle_tokens) AS waste_tokens,
       useful_ratio(sum(kept_tokens), sum(total_tokens)) AS useful_output_ratio,
       sum(unpriced_requests) AS unpriced_requests
FROM session_days($date_from, $date_to, $team, $user, $project, $source, $model)
GROUP BY project
ORDER BY total_tokens DESC, project;
