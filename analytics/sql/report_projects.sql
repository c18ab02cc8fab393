-- One row per project (the agent's working directory).
SELECT grp AS project, users, sessions, requests, input_tokens, output_tokens, cache_creation_tokens,
       cache_read_tokens, total_tokens, cost_usd, kept_tokens, waste_tokens, useful_output_ratio, unpriced_requests
FROM usage_by($slice, 'project')
ORDER BY total_tokens DESC, project;
