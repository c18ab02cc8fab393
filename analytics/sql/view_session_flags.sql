-- One session's flags with their evidence.
SELECT session_id, user_name AS "user", flag, started_at, ended_at, as_count(tokens) AS tokens, usd(cost_usd) AS cost_usd, evidence
FROM flags WHERE session_id = $session_id
ORDER BY started_at, flag, evidence;
