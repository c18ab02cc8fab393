-- Loop episodes (docs/metrics.md "looping"), each a time span in one thread:
-- 1. repeated_call: the same call (tool + normalized input) $min_repeats+ times in a row, or within
--    $window_seconds of each other with no successful file edit in between (lookups such as
--    Read/Grep only in a row: $window_exempt_tools);
-- 2. same_error: one tool failing with identical output $min_repeats+ times within $error_window_seconds;
-- 3. edit_revert: a file edited back to an earlier state (A -> B -> A).
CREATE OR REPLACE TEMP TABLE _loops AS
WITH epochs AS (
    SELECT *,
           -- successful edits so far in this thread: identical calls across an edit are a retest, not a loop
           count(*) FILTER (WHERE is_edit) OVER (PARTITION BY sid, thread ORDER BY ts, tool_use_id
                                                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS edit_epoch,
           row_number() OVER (PARTITION BY sid, thread ORDER BY ts, tool_use_id) AS pos
    FROM _calls
),
windowed AS (
    SELECT *, lag(ts, $min_repeats - 1) OVER (PARTITION BY sid, thread, tool_name, input_hash, coalesce(edit_epoch, 0)
                                              ORDER BY ts, tool_use_id) AS nth_back
    FROM epochs
),
window_hits AS (
    SELECT sid, thread, tool_name, input_hash, coalesce(edit_epoch, 0) AS epoch,
           min(nth_back) AS started_at, max(ts) AS ended_at
    FROM windowed
    WHERE nth_back IS NOT NULL AND ts - nth_back <= to_seconds($window_seconds)
      AND NOT list_contains($window_exempt_tools, tool_name)
    GROUP BY ALL
),
islands AS (
    SELECT *, pos - row_number() OVER (PARTITION BY sid, thread, tool_name, input_hash ORDER BY pos) AS island
    FROM epochs
),
row_hits AS (
    SELECT sid, thread, tool_name, input_hash, min(ts) AS started_at, max(ts) AS ended_at
    FROM islands GROUP BY sid, thread, tool_name, input_hash, island
    HAVING count(*) >= $min_repeats
),
repeated AS (
    SELECT sid, thread, tool_name, input_hash, started_at, ended_at FROM window_hits
    UNION ALL
    SELECT sid, thread, tool_name, input_hash, started_at, ended_at FROM row_hits
),
repeated_spans AS (
    -- one episode per repeated call: its first to its last repetition
    SELECT sid, thread, tool_name, input_hash, min(started_at) AS started_at, max(ended_at) AS ended_at
    FROM repeated GROUP BY ALL
),
repeated_evidence AS (
    SELECT s.sid, s.thread, 'repeated_call' AS loop_kind, s.started_at, s.ended_at,
           count(*) AS repeats,
           s.tool_name || ' called ' || count(*) || ' times with the same input'
             || coalesce(': ' || left(any_value(coalesce(c.command, c.file_path)), 160), '') AS evidence
    FROM repeated_spans s
    JOIN _calls c ON c.sid = s.sid AND c.thread = s.thread AND c.tool_name = s.tool_name
                 AND c.input_hash = s.input_hash AND c.ts BETWEEN s.started_at AND s.ended_at
    GROUP BY s.sid, s.thread, s.tool_name, s.input_hash, s.started_at, s.ended_at
),
errors AS (
    SELECT *, lag(ts, $min_repeats - 1) OVER (PARTITION BY sid, thread, tool_name, result_hash ORDER BY ts, tool_use_id) AS nth_back
    FROM _calls WHERE is_error AND result_hash IS NOT NULL
),
error_spans AS (
    SELECT sid, thread, tool_name, result_hash, min(nth_back) AS started_at, max(ts) AS ended_at
    FROM errors WHERE nth_back IS NOT NULL AND ts - nth_back <= to_seconds($error_window_seconds)
    GROUP BY ALL
),
error_evidence AS (
    SELECT s.sid, s.thread, 'same_error' AS loop_kind, s.started_at, s.ended_at, count(*) AS repeats,
           s.tool_name || ' failed ' || count(*) || ' times with the same error'
             || coalesce(': ' || left(any_value(coalesce(c.command, c.file_path)), 160), '') AS evidence
    FROM error_spans s
    JOIN _calls c ON c.sid = s.sid AND c.thread = s.thread AND c.tool_name = s.tool_name AND c.is_error
                 AND c.result_hash = s.result_hash AND c.ts BETWEEN s.started_at AND s.ended_at
    GROUP BY s.sid, s.thread, s.tool_name, s.result_hash, s.started_at, s.ended_at
),
edits AS (
    SELECT *, lag(edit_after_hash, 1) OVER w AS after_1, lag(edit_after_hash, 2) OVER w AS after_2,
           lag(ts, 2) OVER w AS ts_2
    FROM _calls WHERE is_edit
    WINDOW w AS (PARTITION BY sid, file_path ORDER BY ts, tool_use_id)
),
reverts AS (
    -- Edit: B -> A undoes an earlier A -> B on the same file
    SELECT e2.sid, e2.thread, e2.file_path, min(e1.ts) AS started_at, e2.ts AS ended_at
    FROM edits e2
    JOIN edits e1 ON e1.sid = e2.sid AND e1.file_path = e2.file_path AND e1.ts < e2.ts
                 AND e1.edit_before_hash IS NOT NULL
                 AND e2.edit_after_hash = e1.edit_before_hash AND e2.edit_before_hash = e1.edit_after_hash
    GROUP BY e2.sid, e2.thread, e2.file_path, e2.ts, e2.tool_use_id
    UNION ALL
    -- Write: content A, then B, then A again
    SELECT sid, thread, file_path, ts_2, ts
    FROM edits
    WHERE tool_name = 'Write' AND after_2 = edit_after_hash AND after_1 <> edit_after_hash
),
episodes AS (
    SELECT sid, thread, loop_kind, started_at, ended_at, repeats, evidence FROM repeated_evidence
    UNION ALL
    SELECT sid, thread, loop_kind, started_at, ended_at, repeats, evidence FROM error_evidence
    UNION ALL
    SELECT sid, thread, 'edit_revert', started_at, ended_at, 3,
           'file edited back to an earlier state (A -> B -> A): ' || left(file_path, 160)
    FROM reverts
)
-- A failing command repeated with the same input matches two rules over one span: one episode,
-- described by the more specific rule.
SELECT * FROM episodes
QUALIFY row_number() OVER (PARTITION BY sid, thread, started_at, ended_at
                           ORDER BY CASE loop_kind WHEN 'same_error' THEN 1 WHEN 'edit_revert' THEN 2 ELSE 3 END,
                                    evidence) = 1;
