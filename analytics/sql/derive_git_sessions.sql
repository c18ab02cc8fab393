-- The sessions whose links to git are derived again (besides what a scan changed: derive_git_touched):
-- those with rows from ingest runs after $after_run, the last run the links were derived for
-- (derived_state.git_run_id; -1 redoes every session).
CREATE OR REPLACE TEMP TABLE _touched AS
SELECT DISTINCT coalesce(session_id, '(none)') AS session_id
FROM (
    SELECT session_id FROM requests WHERE run_id > $after_run
    UNION ALL SELECT session_id FROM tool_calls WHERE run_id > $after_run
    UNION ALL SELECT session_id FROM tool_results WHERE run_id > $after_run
    UNION ALL SELECT session_id FROM session_events WHERE run_id > $after_run
    UNION ALL SELECT session_id FROM agents WHERE run_id > $after_run
);
