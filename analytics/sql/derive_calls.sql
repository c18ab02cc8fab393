-- Tool calls of the touched sessions with their results, the request that issued them and their turn.
-- The chunk's calls are selected first (MATERIALIZED): joined before the filter, every call of the
-- ledger went through the joins.
CREATE OR REPLACE TEMP TABLE _calls AS
WITH by_message AS (
    SELECT message_id, any_value(request_key) AS request_key FROM _req WHERE message_id IS NOT NULL GROUP BY message_id
),
touched_calls AS MATERIALIZED (
    SELECT * FROM tool_calls WHERE in_span('tool_calls', rowid) AND in_touched(coalesce(session_id, '(none)'))
),
their_results AS MATERIALIZED (
    SELECT tool_use_id, is_error, interrupted, result_bytes, result_hash, result_kind FROM tool_results
    WHERE in_span('tool_results', rowid) AND tool_use_id IN (SELECT tool_use_id FROM touched_calls)
),
c AS (
    SELECT coalesce(c.session_id, '(none)') AS sid, coalesce(c.agent_id, '') AS thread,
           c.tool_use_id, coalesce(k.request_key, m.request_key) AS request_key, c.source, c.user_name, c.ts,
           c.tool_name, c.component, c.component_kind, c.plugin, c.input_hash, c.file_path, c.command,
           c.edit_before_hash, c.edit_after_hash,
           coalesce(r.is_error, FALSE) AS is_error, coalesce(r.result_bytes, 0) AS result_bytes, r.result_hash,
           -- What an error result is: Claude Code writes cancelled siblings, permission denials and user
           -- rejections as errors of the call; only 'error' is the tool failing (rows ingested before
           -- the classification existed count as 'error').
           CASE WHEN r.is_error THEN coalesce(r.result_kind, 'error') END AS result_kind,
           -- An edit changed a file only if its result came back without error: a failed or rejected
           -- edit changed nothing, and one with no result never ran (interrupted before it did).
           (c.tool_name IN ('Edit', 'MultiEdit', 'Write', 'NotebookEdit') AND c.file_path IS NOT NULL
            AND r.tool_use_id IS NOT NULL AND NOT r.is_error AND NOT r.interrupted) AS is_edit,
           (c.command IS NOT NULL AND regexp_matches(c.command, $commit_pattern)) AS is_commit,
           -- The command a Bash call runs once quoted text, flags and redirections are dropped (the
           -- last command of a `&&`/`;` chain): the variants of one command share it.
           nullif(trim(regexp_replace(regexp_replace(
               list_last(list_filter(
                   regexp_split_to_array(regexp_replace(c.command, '"[^"]*"|''[^'']*''', '', 'g'), '&&|\|\||;|\n'),
                   x -> trim(x) <> '')),
               '(^|\s)(-\S*|\d*>&?\S*)', ' ', 'g'), '\s+', ' ', 'g')), '') AS command_core
    FROM touched_calls c
    LEFT JOIN their_results r ON r.tool_use_id = c.tool_use_id
    LEFT JOIN _req k ON k.request_key = c.request_key
    -- by message id only where the key found nothing (coalesce above); one row per message id
    LEFT JOIN by_message m ON m.message_id = c.message_id
)
SELECT c.*, coalesce(pr.turn_no, 0) AS turn_no, q.model, q.project, c.ts::DATE AS day,
       coalesce(q.is_overhead, FALSE) AS is_overhead,
       -- What a lookup or an edit returns is the project's own code: reading it is the work itself.
       (c.tool_name IN ('Edit', 'MultiEdit', 'Write', 'NotebookEdit')
        OR (list_contains($project_lookup_tools, c.tool_name)
            AND (c.file_path IS NULL OR c.file_path = q.project OR starts_with(c.file_path, q.project || '/')))) AS reads_project
FROM c
LEFT JOIN _req q ON q.request_key = c.request_key
-- The turn of each distinct (session, time), joined back: an ASOF join sorts every column of its left side.
LEFT JOIN (
    SELECT k.sid, k.ts, pr.turn_no
    FROM (SELECT DISTINCT sid, ts FROM c) k
    ASOF LEFT JOIN _prompts pr ON pr.sid = k.sid AND k.ts >= pr.ts
) pr ON pr.sid = c.sid AND pr.ts = c.ts;
