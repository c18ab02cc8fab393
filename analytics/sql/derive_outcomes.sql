-- Outcome of every request (docs/metrics.md "Outcomes"): looping > discarded > idle > kept.
-- Needs _req, _calls, _loops, and _reverts/_revert_paths (revert commands parsed in Python).

-- Files this session created: the first successful edit to the path is a Write.
CREATE OR REPLACE TEMP TABLE _created AS
SELECT sid, file_path FROM _calls WHERE is_edit
GROUP BY sid, file_path HAVING arg_min(tool_name, ts) = 'Write';

-- Edits thrown away by a later revert command (git checkout/restore/reset --hard/clean/stash drop,
-- rm of a created file, branch -D), counting back to the last commit before the revert.
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
           AND (rv.scope = 'created' OR EXISTS (
                SELECT 1 FROM _revert_paths p WHERE p.tool_use_id = rv.revert_id
                AND (e.file_path = p.path OR suffix(e.file_path, '/' || p.path)
                     OR starts_with(e.file_path, p.path || '/') OR contains(e.file_path, '/' || p.path || '/')))))
       OR (rv.scope = 'paths' AND EXISTS (
                SELECT 1 FROM _revert_paths p WHERE p.tool_use_id = rv.revert_id
                AND (e.file_path = p.path OR suffix(e.file_path, '/' || p.path)
                     OR starts_with(e.file_path, p.path || '/') OR contains(e.file_path, '/' || p.path || '/'))))
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

-- Interruptions and rejections discard the turn's requests since its last edit or commit.
CREATE OR REPLACE TEMP TABLE _interrupts AS
WITH ev AS (
    SELECT coalesce(e.session_id, '(none)') AS sid, e.ts, e.kind, e.detail,
           coalesce(pr.turn_no, 0) AS turn_no, pr.ts AS turn_started_at
    FROM session_events e
    ASOF LEFT JOIN _prompts pr ON pr.sid = coalesce(e.session_id, '(none)') AND e.ts >= pr.ts
    WHERE e.kind IN ('interrupt', 'rejection')
      AND in_touched(coalesce(e.session_id, '(none)'))
),
checkpoints AS (
    SELECT c.sid, c.turn_no, q.ts FROM _calls c JOIN _req q ON q.request_key = c.request_key
    WHERE c.is_edit OR c.is_commit
)
SELECT ev.*,
       coalesce((SELECT max(k.ts) FROM checkpoints k WHERE k.sid = ev.sid AND k.turn_no = ev.turn_no AND k.ts < ev.ts),
                TIMESTAMP '1970-01-01') AS kept_until
FROM ev;

-- Idle: a turn active for $idle_min_seconds+ with $idle_min_requests+ requests and no edit or commit.
-- Its closing answer (last main-thread request, end_turn) stays kept; the burn before it is idle.
CREATE OR REPLACE TEMP TABLE _idle_turns AS
WITH gaps AS (
    -- Active time: a gap longer than $idle_max_gap_seconds is the agent waiting for a person
    -- (a permission prompt, a laptop lid), not burn, so it counts only up to that cap.
    SELECT *, least(coalesce(date_diff('millisecond', lag(ts) OVER (PARTITION BY sid, turn_no ORDER BY ts), ts), 0) / 1000.0,
                    $idle_max_gap_seconds) AS active_seconds
    FROM _req
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
WITH looping AS (
    SELECT DISTINCT r.request_key
    FROM _req r JOIN _loops l ON l.sid = r.sid AND l.thread = r.thread AND r.ts BETWEEN l.started_at AND l.ended_at
),
interrupted AS (
    SELECT DISTINCT r.request_key
    FROM _req r JOIN _interrupts i ON i.sid = r.sid AND i.turn_no = r.turn_no AND r.ts > i.kept_until AND r.ts <= i.ts
)
SELECT r.request_key,
       CASE WHEN lp.request_key IS NOT NULL THEN 'looping'
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
