-- One session's person and its first and last UTC day: the slice that holds its row in the sessions report.
-- The person as the viewer sees them (their name or pseudonym); nothing outside the viewer's scope.
SELECT person(any_value(user_name)) AS user_name, min(day) AS first_day, max(day) AS last_day
FROM session_day_facts WHERE session_id = $session_id AND session_visible($session_id);
