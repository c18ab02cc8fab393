-- One row per UTC day: spend, tokens by kind, and where the tokens went.
SELECT grp::DATE AS day, users, sessions, requests, input_tokens, output_tokens, cache_creation_tokens,
       cache_read_tokens, total_tokens, cost_usd, unpriced_requests, kept_tokens, looping_tokens,
       discarded_tokens, idle_tokens, overhead_tokens, kept_cost_usd, looping_cost_usd, discarded_cost_usd,
       idle_cost_usd, overhead_cost_usd, useful_output_ratio, useful_cost_ratio
FROM usage_by($slice, 'day')
ORDER BY day;
