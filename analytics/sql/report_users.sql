-- One row per person. Sorted by useful ratio (lowest first), then waste: never by spend alone.
SELECT grp AS "user", team, sessions, requests, input_tokens, output_tokens, cache_creation_tokens,
       cache_read_tokens, total_tokens, cost_usd, kept_tokens, useful_output_ratio, flagged_sessions,
       waste_tokens, useful_cost_ratio, unpriced_requests, waste_cost_usd, overhead_tokens, overhead_cost_usd
FROM usage_by($slice, 'user')
ORDER BY useful_output_ratio ASC NULLS LAST, waste_tokens DESC, "user";
