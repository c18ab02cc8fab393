-- Every flag with its evidence, newest first.
SELECT session_id, user_name AS "user", team, project, flag, started_at, ended_at, as_count(tokens) AS tokens,
       usd(cost_usd) AS cost_usd, evidence
FROM filtered_flags($slice)
ORDER BY started_at DESC, session_id, flag, evidence;
