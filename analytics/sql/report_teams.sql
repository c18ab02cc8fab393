-- One row per team (org directory; people not in it under '(unassigned)'), sorted like people.
SELECT grp AS team, users, sessions, requests, input_tokens, output_tokens, cache_creation_tokens,
       cache_read_tokens, total_tokens, cost_usd, kept_tokens, useful_output_ratio, flagged_sessions,
       waste_tokens, useful_cost_ratio, unpriced_requests, waste_cost_usd, overhead_tokens, overhead_cost_usd
FROM usage_by($slice, 'team')
ORDER BY useful_output_ratio ASC NULLS LAST, waste_tokens DESC, team;
