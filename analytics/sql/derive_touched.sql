-- Sessions to derive again: those with rows from ingest runs after $after_run, and the $sessions
-- named (a lake's ingest worker names what one batch loaded). Their derived rows are deleted and redone.
CREATE OR REPLACE TEMP TABLE _touched AS
SELECT DISTINCT coalesce(session_id, '(none)') AS session_id
FROM (
    SELECT unnest($sessions::VARCHAR[]) AS session_id
    UNION ALL SELECT session_id FROM requests WHERE run_id > $after_run
    UNION ALL SELECT session_id FROM tool_calls WHERE run_id > $after_run
    UNION ALL SELECT session_id FROM tool_results WHERE run_id > $after_run
    UNION ALL SELECT session_id FROM session_events WHERE run_id > $after_run
    UNION ALL SELECT session_id FROM agents WHERE run_id > $after_run
);

-- The people those sessions counted under before (a session can move to another person): their
-- usage spikes are redone too (derive_spikes).
CREATE OR REPLACE TEMP TABLE _touched_people AS
SELECT DISTINCT user_name FROM session_day_facts WHERE session_id IN (SELECT session_id FROM _touched);

DELETE FROM request_facts WHERE session_id IN (SELECT session_id FROM _touched);
DELETE FROM request_components WHERE session_id IN (SELECT session_id FROM _touched);
DELETE FROM session_day_facts WHERE session_id IN (SELECT session_id FROM _touched);
DELETE FROM component_day_facts WHERE session_id IN (SELECT session_id FROM _touched);
DELETE FROM flags WHERE session_id IN (SELECT session_id FROM _touched);
DELETE FROM flag_requests WHERE session_id IN (SELECT session_id FROM _touched);
