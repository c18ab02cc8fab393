-- One session's person and its first and last UTC day: the slice that holds its row in the sessions report.
SELECT any_value(user_name) AS user_name, min(day) AS first_day, max(day) AS last_day
FROM session_day_facts WHERE session_id = $session_id;
