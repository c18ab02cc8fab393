-- One session's flags with their evidence (none when the viewer's scope does not hold the session).
SELECT session_id, person(user_name) AS "user", flag, started_at, ended_at, as_count(tokens) AS tokens,
       usd(cost_usd) AS cost_usd, private_text(evidence) AS evidence
FROM flags WHERE session_id = $session_id AND session_visible($session_id)
ORDER BY started_at, flag, evidence;
