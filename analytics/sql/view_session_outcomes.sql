-- One session's spend and tokens per outcome (the whole session, every day of it); nothing when the
-- viewer's scope does not hold the session.
SELECT outcome, count(*) AS requests, total(total_tokens) AS tokens, usd(exact_sum(cost_usd)) AS cost_usd
FROM request_facts WHERE session_id = $session_id AND session_visible($session_id)
GROUP BY outcome ORDER BY outcome;
