-- Sessions to derive: those with rows from ingest runs after $after_run ($after_run = -1: every
-- session), each with its weight (requests + tool calls: what a chunk is sized by) and its person
-- (chunks go person by person, so a chunk finishes whole people). Sessions with rows after
-- $new_after (the last run derived before) are 'new': they come first, whatever else is queued.
-- run_id grows with every run, so the row groups of older runs are skipped by their zone maps:
-- queueing what is new costs what is new.
CREATE OR REPLACE TEMP TABLE _queued AS
WITH rows_since AS (
    SELECT coalesce(session_id, '(none)') AS session_id, run_id FROM requests WHERE run_id > $after_run
    UNION ALL SELECT coalesce(session_id, '(none)'), run_id FROM tool_calls WHERE run_id > $after_run
    UNION ALL SELECT coalesce(session_id, '(none)'), run_id FROM tool_results WHERE run_id > $after_run
    UNION ALL SELECT coalesce(session_id, '(none)'), run_id FROM session_events WHERE run_id > $after_run
    UNION ALL SELECT coalesce(session_id, '(none)'), run_id FROM agents WHERE run_id > $after_run
),
touched AS (
    SELECT session_id, bool_or(run_id > $new_after) AS is_new FROM rows_since GROUP BY session_id
),
rows_of AS (
    SELECT coalesce(session_id, '(none)') AS session_id, count(*) AS n, min(user_name) AS user_name
    FROM requests WHERE coalesce(session_id, '(none)') IN (SELECT session_id FROM touched) GROUP BY 1
    UNION ALL
    SELECT coalesce(session_id, '(none)'), count(*), min(user_name)
    FROM tool_calls WHERE coalesce(session_id, '(none)') IN (SELECT session_id FROM touched) GROUP BY 1
)
SELECT t.session_id, any_value(t.is_new) AS is_new, greatest(coalesce(sum(r.n), 0), 1) AS weight,
       min(r.user_name) AS user_name
FROM touched t LEFT JOIN rows_of r USING (session_id)
GROUP BY t.session_id;

-- A session already queued keeps its place; one with new rows is 'new' whatever else it waits for
-- (new rows come first: they are what reports lack), otherwise it takes this refresh's reason.
CREATE OR REPLACE TEMP TABLE _requeued AS
SELECT q.session_id, CASE WHEN q.is_new OR o.reason = 'new' THEN 'new' ELSE $reason END AS reason,
       q.weight, q.user_name
FROM _queued q LEFT JOIN derive_queue o USING (session_id);

DELETE FROM derive_queue WHERE session_id IN (SELECT session_id FROM _queued);

INSERT INTO derive_queue SELECT session_id, reason, weight, user_name FROM _requeued;
