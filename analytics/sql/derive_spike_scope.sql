-- usage_spike compares a person's day with their own history, so the people whose days this chunk
-- changes (_spike_users: before and after) are the ones whose spikes are redone, over the stored
-- days of their other sessions (_spike_history, with those sessions' requests for the flags'
-- request lists: _spike_requests) and the chunk's days as derived now. Runs before the chunk's
-- rows are derived (session_day_facts and request_facts here are the ledger's, as stored).
CREATE OR REPLACE TEMP TABLE _spike_users AS
SELECT DISTINCT user_name FROM requests WHERE in_span('requests', rowid) AND in_touched(coalesce(session_id, '(none)'))
UNION
SELECT DISTINCT user_name FROM session_day_facts WHERE in_touched(session_id);

CREATE OR REPLACE TEMP TABLE _spike_history AS
SELECT h.user_name, h.day, h.session_id, h.source, h.project, h.first_ts, h.last_ts,
       h.total_tokens, h.kept_tokens, h.overhead_tokens, h.cost_usd, h.unpriced_requests
FROM session_day_facts h
SEMI JOIN _spike_users u ON h.user_name IS NOT DISTINCT FROM u.user_name
WHERE NOT in_touched(h.session_id);

-- Those sessions' requests, found through their people first: request_facts is written person by
-- person, so the people's row groups alone are read. Every request of a session has a day row of
-- its person in session_day_facts (the rollup groups by person), so the people of those sessions'
-- day rows (more than _spike_users when a session has several) select every one of their requests;
-- requests with no person are taken apart (NULL joins nothing).
CREATE OR REPLACE TEMP TABLE _spike_requests AS
WITH sessions AS MATERIALIZED (
    SELECT DISTINCT session_id FROM _spike_history
),
people AS MATERIALIZED (
    SELECT DISTINCT user_name FROM session_day_facts
    WHERE session_id IN (SELECT session_id FROM sessions) AND user_name IS NOT NULL
)
SELECT f.session_id, f.day, f.request_key, f.total_tokens, f.cost_usd
FROM request_facts f SEMI JOIN people p ON f.user_name = p.user_name
WHERE f.session_id IN (SELECT session_id FROM sessions)
UNION ALL
SELECT f.session_id, f.day, f.request_key, f.total_tokens, f.cost_usd
FROM request_facts f
WHERE f.user_name IS NULL AND f.session_id IN (SELECT session_id FROM sessions);
