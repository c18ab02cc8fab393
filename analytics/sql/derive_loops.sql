-- Loop episodes (docs/metrics.md "looping"), each a time span in one thread and one turn (a user
-- prompt between two attempts is the user steering, never the agent going round in circles):
-- 1. repeated_call: the same call (tool + normalized input) $min_repeats+ times in a row, or within
--    $window_seconds of each other with no successful file edit in between (lookups such as
--    Read/Grep only in a row: $window_exempt_tools; tools that wait on a background job, $poll_tools,
--    never: polling until a job ends is waiting);
-- 2. command_variations: $min_variants+ variants of one shell command (same command once flags,
--    quoted text and redirections are dropped) within $window_seconds with no successful edit between;
--    checks ($inspection_commands: git status, ls, grep...) and commits (kept work) are exempt;
-- 3. same_error: one tool failing on the same target (file, command or input) with identical output
--    $min_repeats+ times within $error_window_seconds; only real failures (result_kind 'error'), never
--    Claude Code's own messages (sibling cancellations, denials, the user's rejections);
-- 4. edit_revert: a file edited back and forth: the same change undone and redone, $min_repeats - 1
--    reversals or more (A -> B -> A -> B); a single undo is a change of mind, not a loop.
-- Overlapping episodes of one thread are one episode (one flag, tokens counted once).
CREATE OR REPLACE TEMP TABLE _loops AS
WITH looped_calls AS (
    SELECT * FROM _calls WHERE NOT is_overhead AND NOT list_contains($poll_tools, tool_name)
),
epochs AS (
    SELECT *,
           -- successful edits so far in this thread: identical calls across an edit are a retest, not a loop
           count(*) FILTER (WHERE is_edit) OVER (PARTITION BY sid, thread ORDER BY ts, tool_use_id
                                                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS edit_epoch,
           row_number() OVER (PARTITION BY sid, thread ORDER BY ts, tool_use_id) AS pos
    FROM looped_calls
),
windowed AS (
    SELECT *, lag(ts, $min_repeats - 1) OVER (PARTITION BY sid, thread, turn_no, tool_name, input_hash,
                                                           coalesce(edit_epoch, 0)
                                              ORDER BY ts, tool_use_id) AS nth_back
    FROM epochs
),
window_hits AS (
    SELECT sid, thread, tool_name, input_hash, min(nth_back) AS started_at, max(ts) AS ended_at
    FROM windowed
    WHERE nth_back IS NOT NULL AND ts - nth_back <= to_seconds($window_seconds)
      AND NOT list_contains($window_exempt_tools, tool_name)
    GROUP BY sid, thread, turn_no, tool_name, input_hash, coalesce(edit_epoch, 0)
),
islands AS (
    SELECT *, pos - row_number() OVER (PARTITION BY sid, thread, turn_no, tool_name, input_hash ORDER BY pos) AS island
    FROM epochs
),
row_hits AS (
    SELECT sid, thread, tool_name, input_hash, min(ts) AS started_at, max(ts) AS ended_at
    FROM islands GROUP BY sid, thread, turn_no, tool_name, input_hash, island
    HAVING count(*) >= $min_repeats
),
repeated_spans AS (
    -- one episode per repeated call: its first to its last repetition
    SELECT sid, thread, tool_name, input_hash, min(started_at) AS started_at, max(ended_at) AS ended_at
    FROM (SELECT * FROM window_hits UNION ALL SELECT * FROM row_hits) GROUP BY ALL
),
repeated_evidence AS (
    SELECT s.sid, s.thread, 'repeated_call' AS loop_kind, s.started_at, s.ended_at, NULL::VARCHAR AS file_path,
           s.tool_name || ' called ' || count(*) || ' times with the same input'
             || coalesce(': ' || left(any_value(coalesce(c.command, c.file_path)), 160), '') AS evidence
    FROM repeated_spans s
    JOIN looped_calls c ON c.sid = s.sid AND c.thread = s.thread AND c.tool_name = s.tool_name
                       AND c.input_hash = s.input_hash AND c.ts BETWEEN s.started_at AND s.ended_at
    GROUP BY s.sid, s.thread, s.tool_name, s.input_hash, s.started_at, s.ended_at
),
variants AS (
    SELECT *, lag(ts, $min_variants - 1) OVER (PARTITION BY sid, thread, turn_no, command_core, coalesce(edit_epoch, 0)
                                               ORDER BY ts, tool_use_id) AS nth_back
    FROM epochs
    WHERE command_core IS NOT NULL AND NOT is_commit
      AND NOT list_has_any($inspection_commands, [split_part(command_core, ' ', 1),
                                                  split_part(command_core, ' ', 1) || ' ' || split_part(command_core, ' ', 2)])
),
variant_spans AS (
    SELECT sid, thread, command_core, min(nth_back) AS started_at, max(ts) AS ended_at
    FROM variants WHERE nth_back IS NOT NULL AND ts - nth_back <= to_seconds($window_seconds)
    GROUP BY sid, thread, turn_no, command_core, coalesce(edit_epoch, 0)
),
variant_evidence AS (
    SELECT s.sid, s.thread, 'command_variations' AS loop_kind, s.started_at, s.ended_at, NULL::VARCHAR AS file_path,
           'Bash ran ' || count(*) || ' variants of one command (' || count(DISTINCT c.command) || ' distinct): '
             || left(s.command_core, 160) AS evidence
    FROM variant_spans s
    JOIN looped_calls c ON c.sid = s.sid AND c.thread = s.thread AND c.command_core = s.command_core
                       AND c.ts BETWEEN s.started_at AND s.ended_at
    GROUP BY s.sid, s.thread, s.command_core, s.started_at, s.ended_at
    -- identical repetitions are the repeated_call rule's
    HAVING count(DISTINCT c.command) > 1
),
errors AS (
    SELECT *, coalesce(file_path, command, input_hash) AS target,
           lag(ts, $min_repeats - 1) OVER (PARTITION BY sid, thread, turn_no, tool_name,
                                                        coalesce(file_path, command, input_hash), result_hash
                                           ORDER BY ts, tool_use_id) AS nth_back
    FROM looped_calls WHERE result_kind = 'error' AND result_hash IS NOT NULL
),
error_spans AS (
    SELECT sid, thread, tool_name, target, result_hash, min(nth_back) AS started_at, max(ts) AS ended_at
    FROM errors WHERE nth_back IS NOT NULL AND ts - nth_back <= to_seconds($error_window_seconds)
    GROUP BY sid, thread, turn_no, tool_name, target, result_hash
),
error_evidence AS (
    SELECT s.sid, s.thread, 'same_error' AS loop_kind, s.started_at, s.ended_at, NULL::VARCHAR AS file_path,
           s.tool_name || ' failed ' || count(*) || ' times with the same error'
             || coalesce(': ' || left(any_value(coalesce(c.command, c.file_path)), 160), '') AS evidence
    FROM error_spans s
    JOIN errors c ON c.sid = s.sid AND c.thread = s.thread AND c.tool_name = s.tool_name AND c.target = s.target
                 AND c.result_hash = s.result_hash AND c.ts BETWEEN s.started_at AND s.ended_at
    GROUP BY s.sid, s.thread, s.tool_name, s.target, s.result_hash, s.started_at, s.ended_at
),
edits AS (
    SELECT *, lag(edit_after_hash, 1) OVER w AS after_1, lag(edit_after_hash, 2) OVER w AS after_2,
           lag(ts, 2) OVER w AS ts_2
    FROM looped_calls WHERE is_edit
    WINDOW w AS (PARTITION BY sid, turn_no, file_path ORDER BY ts, tool_use_id)
),
reversals AS (
    -- Edit: B -> A undoes an earlier A -> B on the same file in the same turn
    SELECT e2.sid, e2.turn_no, e2.file_path, max(e1.ts) AS started_at, e2.ts AS ended_at, any_value(e2.thread) AS thread
    FROM edits e2
    JOIN edits e1 ON e1.sid = e2.sid AND e1.turn_no = e2.turn_no AND e1.file_path = e2.file_path AND e1.ts < e2.ts
                 AND e1.edit_before_hash IS NOT NULL
                 AND e2.edit_after_hash = e1.edit_before_hash AND e2.edit_before_hash = e1.edit_after_hash
    GROUP BY e2.sid, e2.turn_no, e2.file_path, e2.ts, e2.tool_use_id
    UNION ALL
    -- Write: content A, then B, then A again
    SELECT sid, turn_no, file_path, ts_2, ts, thread
    FROM edits
    WHERE tool_name = 'Write' AND after_2 = edit_after_hash AND after_1 <> edit_after_hash
),
revert_evidence AS (
    SELECT sid, any_value(thread) AS thread, 'edit_revert' AS loop_kind, min(started_at) AS started_at,
           max(ended_at) AS ended_at, file_path,
           'file edited back and forth (' || count(*) || ' reversals, A -> B -> A -> B): ' || left(file_path, 160) AS evidence
    FROM reversals GROUP BY sid, turn_no, file_path
    HAVING count(*) >= $min_repeats - 1
),
episodes AS (
    SELECT sid, thread, loop_kind, started_at, ended_at, file_path, evidence FROM repeated_evidence
    UNION ALL SELECT sid, thread, loop_kind, started_at, ended_at, file_path, evidence FROM variant_evidence
    UNION ALL SELECT sid, thread, loop_kind, started_at, ended_at, file_path, evidence FROM error_evidence
    UNION ALL SELECT sid, thread, loop_kind, started_at, ended_at, file_path, evidence FROM revert_evidence
),
grouped AS (
    -- overlapping episodes of one thread merge: a new group starts after every earlier one ended
    SELECT *, sum(CASE WHEN started_at > prev_end THEN 1 ELSE 0 END)
                  OVER (PARTITION BY sid, thread ORDER BY started_at, ended_at, evidence) AS grp
    FROM (SELECT *, max(ended_at) OVER (PARTITION BY sid, thread ORDER BY started_at, ended_at, evidence
                                        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end
          FROM episodes)
)
-- One episode per group, described by its most specific rule.
SELECT sid, thread,
       arg_min(loop_kind, (CASE loop_kind WHEN 'same_error' THEN 1 WHEN 'edit_revert' THEN 2
                                          WHEN 'command_variations' THEN 3 ELSE 4 END, evidence)) AS loop_kind,
       min(started_at) AS started_at, max(ended_at) AS ended_at,
       list(DISTINCT file_path) FILTER (WHERE file_path IS NOT NULL) AS files,
       arg_min(evidence, (CASE loop_kind WHEN 'same_error' THEN 1 WHEN 'edit_revert' THEN 2
                                         WHEN 'command_variations' THEN 3 ELSE 4 END, evidence)) AS evidence
FROM grouped
GROUP BY sid, thread, grp;
