-- Sessions with rows from ingest runs after $after_run: the only ones whose derived rows change.
CREATE OR REPLACE TEMP TABLE _touched AS
SELECT DISTINCT coalesce(session_id, '(none)') AS session_id
FROM (
    SELECT session_id FROM requests WHERE run_id > $after_run
    UNION ALL SELECT session_id FROM tool_calls WHERE run_id > $after_run
    UNION ALL SELECT session_id FROM tool_results WHERE run_id > $after_run
    UNION ALL SELECT session_id FROM session_events WHERE run_id > $after_run
    UNION ALL SELECT session_id FROM agents WHERE run_id > $after_run
);

DELETE FROM request_facts WHERE session_id IN (SELECT session_id FROM _touched);
DELETE FROM request_components WHERE session_id IN (SELECT session_id FROM _touched);
DELETE FROM session_day_facts WHERE session_id IN (SELECT session_id FROM _touched);
DELETE FROM component_day_facts WHERE session_id IN (SELECT session_id FROM _touched);
DELETE FROM flags WHERE session_id IN (SELECT session_id FROM _touched);
DELETE FROM flag_requests WHERE session_id IN (SELECT session_id FROM _touched);
