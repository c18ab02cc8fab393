-- Outcome of every request (docs/metrics.md "Outcomes"): overhead > looping > discarded > idle > kept.
-- Needs _req, _calls, _loops, and _reverts/_revert_paths (revert commands parsed in Python).

-- Files this session created: the first successful edit to the path is a Write.
CREATE OR REPLACE TEMP TABLE _created AS
SELECT sid, file_path FROM _calls WHERE is_edit
GROUP BY sid, file_path HAVING arg_min(tool_name, ts) = 'Write';

-- Checkpoint rewinds: a prompt whose parent is the parent of an earlier prompt went back to before
-- that prompt (Claude Code's rewind restores the files and the conversation to that point); the
-- turns from there up to the rewinding prompt are abandoned. Slash commands share a parent with the
-- local-command lines before them and are no rewind.
CREATE OR REPLACE TEMP TABLE _rewinds AS
SELECT p.sid, p.ts, p.turn_no AS rewound_at_turn, q.turn_no AS first_turn, q.ts AS first_turn_at
FROM _prompts p
JOIN _prompts q ON q.sid = p.sid AND q.turn_no < p.turn_no AND q.parent_uuid = p.parent_uuid
WHERE p.slash_command IS NULL AND q.slash_command IS NULL
QUALIFY row_number() OVER (PARTITION BY p.sid, p.turn_no ORDER BY q.turn_no DESC) = 1;

-- Edits thrown away by a later revert command (git checkout/restore/reset --hard/clean/stash drop,
-- rm of a created file the session never ran, branch -D), counting back to the last commit before
-- the revert, and every edit of the turns a checkpoint rewind abandoned.
CREATE OR REPLACE TEMP TABLE _discarded_edits AS
WITH commits AS (
    SELECT sid, ts FROM _calls WHERE is_commit
),
rv AS (
    SELECT v.tool_use_id AS revert_id, v.sid, v.ts, v.scope,
           (SELECT max(c.ts) FROM commits c WHERE c.sid = v.sid AND c.ts < v.ts) AS last_commit
    FROM _reverts v
),
matched AS (
    SELECT e.tool_use_id, e.sid, e.turn_no, rv.revert_id, rv.ts AS revert_ts
    FROM rv
    JOIN _calls e ON e.sid = rv.sid AND e.is_edit AND e.ts < rv.ts
                 AND (rv.scope = 'session' OR e.ts > coalesce(rv.last_commit, TIMESTAMP '1970-01-01'))
    WHERE rv.scope IN ('since_commit', 'session')
       OR (rv.scope IN ('created', 'created_paths')
           AND EXISTS (SELECT 1 FROM _created k WHERE k.sid = e.sid AND k.file_path = e.file_path)
           -- a file the session ran before removing it was scaffolding that served its purpose
           -- (a debug script the user then asked to delete): its removal is cleanup, not waste
           AND NOT EXISTS (SELECT 1 FROM _calls b WHERE b.sid = e.sid AND b.ts > e.ts AND b.ts < rv.ts
                           AND contains(b.command, regexp_extract(e.file_path, '[^/]+$')))
           AND (rv.scope = 'created' OR EXISTS (
                SELECT 1 FROM _revert_paths p WHERE p.tool_use_id = rv.revert_id
                AND (e.file_path = p.path OR suffix(e.file_path, '/' || p.path)
                     OR starts_with(e.file_path, p.path || '/') OR contains(e.file_path, '/' || p.path || '/')))))
       OR (rv.scope = 'paths' AND EXISTS (
                SELECT 1 FROM _revert_paths p WHERE p.tool_use_id = rv.revert_id
                AND (e.file_path = p.path OR suffix(e.file_path, '/' || p.path)
                     OR starts_with(e.file_path, p.path || '/') OR contains(e.file_path, '/' || p.path || '/'))))
    UNION ALL
    SELECT e.tool_use_id, e.sid, e.turn_no, 'rewind:' || w.sid || ':' || w.rewound_at_turn, w.ts
    FROM _rewinds w
    JOIN _calls e ON e.sid = w.sid AND e.is_edit AND e.turn_no >= w.first_turn AND e.turn_no < w.rewound_at_turn
)
SELECT tool_use_id, any_value(sid) AS sid, any_value(turn_no) AS turn_no,
       arg_min(revert_id, revert_ts) AS revert_id
FROM matched GROUP BY tool_use_id;

-- A turn is discarded when it made edits and every one of them was thrown away.
CREATE OR REPLACE TEMP TABLE _discarded_turns AS
SELECT e.sid, e.turn_no, min(d.revert_id) AS revert_id
FROM _calls e LEFT JOIN _discarded_edits d ON d.tool_use_id = e.tool_use_id
WHERE e.is_edit
GROUP BY e.sid, e.turn_no
HAVING count(*) = count(d.tool_use_id);

-- Interruptions and rejections of the main conversation (never Claude Code's own sidechains, such as
-- a prompt suggestion aborted because the user typed). The user steered, and nothing is thrown away,
-- when the rejection gave a reason or the agent carried on within $steer_seconds (after a new prompt,
-- a queued message or a task notification). Otherwise the turn's work since its last kept edit or
-- commit was abandoned.
CREATE OR REPLACE TEMP TABLE _interrupts AS
WITH ev AS (
    SELECT coalesce(e.session_id, '(none)') AS sid, e.ts, e.kind, e.detail,
           (e.kind = 'rejection' AND e.prompt_length IS NOT NULL) AS gave_reason,
           coalesce(pr.turn_no, 0) AS turn_no, pr.ts AS turn_started_at
    FROM session_events e
    ASOF LEFT JOIN _prompts pr ON pr.sid = coalesce(e.session_id, '(none)') AND e.ts >= pr.ts
    WHERE e.kind IN ('interrupt', 'rejection') AND e.agent_id IS NULL AND NOT e.is_sidechain
      AND in_span('session_events', e.rowid) AND in_touched(coalesce(e.session_id, '(none)'))
),
steered AS (
    SELECT ev.*, (SELECT min(r.ts) FROM _req r WHERE r.sid = ev.sid AND r.thread = '' AND r.ts > ev.ts) AS resumed_at
    FROM ev
),
checkpoints AS (
    SELECT c.sid, c.turn_no, q.ts FROM _calls c JOIN _req q ON q.request_key = c.request_key
    WHERE c.is_edit OR c.is_commit
)
SELECT s.sid, s.ts, s.kind, s.detail, s.turn_no, s.turn_started_at,
       coalesce((SELECT max(k.ts) FROM checkpoints k WHERE k.sid = s.sid AND k.turn_no = s.turn_no AND k.ts < s.ts),
                TIMESTAMP '1970-01-01') AS kept_until
FROM steered s
WHERE NOT s.gave_reason
  AND (s.resumed_at IS NULL OR s.resumed_at > s.ts + to_seconds($steer_seconds));

-- Idle: a turn active for $idle_min_seconds+ with $idle_min_requests+ requests and no edit or commit.
-- Its closing answer (last main-thread request, end_turn) stays kept; the burn before it is idle.
CREATE OR REPLACE TEMP TABLE _idle_turns AS
WITH gaps AS (
    -- Active time: a gap longer than $idle_max_gap_seconds is the agent waiting for a person
    -- (a permission prompt, a laptop lid), not burn, so it counts only up to that cap.
    SELECT *, least(coalesce(date_diff('millisecond', lag(ts) OVER (PARTITION BY sid, turn_no ORDER BY ts), ts), 0) / 1000.0,
                    $idle_max_gap_seconds) AS active_seconds
    FROM _req WHERE NOT is_overhead
),
t AS (
    SELECT sid, turn_no, count(*) AS requests, min(ts) AS started_at, max(ts) AS ended_at,
           sum(active_seconds) AS active_seconds,
           arg_max(request_key, ts) FILTER (WHERE thread = '') AS last_main_key,
           arg_max(stop_reason, ts) FILTER (WHERE thread = '') AS last_main_stop
    FROM gaps GROUP BY sid, turn_no
),
work AS (
    SELECT sid, turn_no, count(*) FILTER (WHERE is_edit OR is_commit) AS changes FROM _calls GROUP BY sid, turn_no
)
SELECT t.sid, t.turn_no, t.requests, t.started_at, t.ended_at, t.active_seconds,
       CASE WHEN t.last_main_stop = 'end_turn' THEN t.last_main_key END AS answer_key
FROM t LEFT JOIN work w ON w.sid = t.sid AND w.turn_no = t.turn_no
WHERE coalesce(w.changes, 0) = 0
  AND t.requests >= $idle_min_requests
  AND t.active_seconds >= $idle_min_seconds;

CREATE OR REPLACE TEMP TABLE _outcomes AS
WITH in_episode AS (
    -- the thread's requests inside an episode, and the one that made its first repeated call
    SELECT r.request_key, l.files
    FROM _req r JOIN _loops l ON l.sid = r.sid AND l.thread = r.thread AND r.ts BETWEEN l.started_at AND l.ended_at
    UNION ALL
    SELECT c.request_key, l.files
    FROM _calls c JOIN _loops l ON l.sid = c.sid AND l.thread = c.thread AND c.ts BETWEEN l.started_at AND l.ended_at
    WHERE c.request_key IS NOT NULL
),
looping AS (
    -- ...except requests that did productive work in between: a commit, or a kept edit that is not one
    -- of the episode's own back-and-forth edits.
    SELECT DISTINCT e.request_key
    FROM in_episode e
    WHERE NOT EXISTS (SELECT 1 FROM _calls c WHERE c.request_key = e.request_key
                      AND (c.is_commit OR (c.is_edit AND NOT list_contains(coalesce(e.files, []::VARCHAR[]), c.file_path))))
),
interrupted AS (
    SELECT DISTINCT r.request_key
    FROM _req r JOIN _interrupts i ON i.sid = r.sid AND i.turn_no = r.turn_no AND r.ts > i.kept_until AND r.ts <= i.ts
)
SELECT r.request_key,
       CASE WHEN r.is_overhead THEN 'overhead'
            WHEN lp.request_key IS NOT NULL THEN 'looping'
            WHEN dt.sid IS NOT NULL OR it.request_key IS NOT NULL THEN 'discarded'
            WHEN idl.sid IS NOT NULL AND r.request_key IS DISTINCT FROM idl.answer_key THEN 'idle'
            ELSE 'kept' END AS outcome
FROM _req r
LEFT JOIN looping lp ON lp.request_key = r.request_key
LEFT JOIN _discarded_turns dt ON dt.sid = r.sid AND dt.turn_no = r.turn_no
LEFT JOIN interrupted it ON it.request_key = r.request_key
LEFT JOIN _idle_turns idl ON idl.sid = r.sid AND idl.turn_no = r.turn_no;

INSERT INTO request_facts
SELECT r.request_key, r.source, r.sid, r.thread, r.subagent_type, r.user_name, r.project, r.model, r.ts, r.day,
       r.input_tokens, r.output_tokens, r.cache_creation_tokens, r.cache_read_tokens, r.total_tokens,
       r.cost_usd, r.price_version, r.source_cost_usd, r.turn_no, o.outcome
FROM _req r JOIN _outcomes o USING (request_key);
