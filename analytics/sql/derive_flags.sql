-- Flags of the touched sessions, each with the evidence a manager can check (never prompt text).
CREATE OR REPLACE TEMP TABLE _sessions AS
SELECT sid, any_value(user_name) AS user_name, mode(project) AS project, min(source) AS source,
       min(ts) AS started_at, max(ts) AS ended_at, count(*) AS requests, sum(total_tokens) AS tokens,
       sum(cost_usd) AS cost_usd, count(*) FILTER (WHERE cost_usd IS NULL) AS unpriced
FROM _req GROUP BY sid;

CREATE OR REPLACE TEMP TABLE _req_out AS
SELECT r.*, o.outcome FROM _req r JOIN _outcomes o USING (request_key);

-- loop: one flag per loop episode; its tokens are the thread's requests inside the episode.
INSERT INTO flags
SELECT l.sid, 'loop', s.user_name, s.project, s.source, l.started_at::DATE, l.started_at, l.ended_at,
       coalesce(sum(r.total_tokens), 0), sum(r.cost_usd),
       l.evidence || CASE WHEN l.thread <> '' THEN ' (inside a subagent)' ELSE '' END
FROM _loops l
JOIN _sessions s ON s.sid = l.sid
LEFT JOIN _req r ON r.sid = l.sid AND r.thread = l.thread AND r.ts BETWEEN l.started_at AND l.ended_at
GROUP BY l.sid, l.thread, l.loop_kind, l.started_at, l.ended_at, l.evidence, s.user_name, s.project, s.source;

-- discarded_work (revert): the turns whose every edit the command threw away.
INSERT INTO flags
WITH per_revert AS (
    SELECT dt.revert_id, count(DISTINCT dt.turn_no) AS turns
    FROM _discarded_turns dt GROUP BY dt.revert_id
),
edits AS (
    SELECT revert_id, count(*) AS edits, count(DISTINCT c.file_path) AS files
    FROM _discarded_edits d JOIN _calls c USING (tool_use_id) GROUP BY revert_id
)
SELECT v.sid, 'discarded_work', s.user_name, s.project, s.source, min(r.ts)::DATE, min(r.ts), v.ts,
       coalesce(sum(r.total_tokens), 0), sum(r.cost_usd),
       'work reverted by `' || left(v.command, 160) || '`: ' || e.edits || ' edit(s) to ' || e.files
         || ' file(s) thrown away, ' || p.turns || ' turn(s) of work'
FROM _reverts v
JOIN per_revert p ON p.revert_id = v.tool_use_id
JOIN edits e ON e.revert_id = v.tool_use_id
JOIN _discarded_turns dt ON dt.revert_id = v.tool_use_id
JOIN _sessions s ON s.sid = v.sid
JOIN _req_out r ON r.sid = dt.sid AND r.turn_no = dt.turn_no AND r.outcome = 'discarded'
GROUP BY v.sid, v.tool_use_id, v.ts, v.command, e.edits, e.files, p.turns, s.user_name, s.project, s.source;

-- discarded_work (interruption or rejection): only when it threw away $discard_min_requests+ requests.
-- A rejected tool call is followed by an interrupt marker: both close the same window, one flag.
INSERT INTO flags
WITH windows AS (
    SELECT sid, turn_no, kept_until, max(ts) AS ts,
           string_agg(DISTINCT kind, ' and ' ORDER BY kind) AS kinds
    FROM _interrupts GROUP BY sid, turn_no, kept_until
)
SELECT i.sid, 'discarded_work', s.user_name, s.project, s.source, min(r.ts)::DATE, min(r.ts), i.ts,
       sum(r.total_tokens), sum(r.cost_usd),
       'user stopped the agent (' || i.kinds || ') after ' || count(*)
         || ' request(s) since the last kept edit or commit'
FROM windows i
JOIN _sessions s ON s.sid = i.sid
JOIN _req_out r ON r.sid = i.sid AND r.turn_no = i.turn_no AND r.ts > i.kept_until AND r.ts <= i.ts
                AND r.outcome = 'discarded'
GROUP BY i.sid, i.turn_no, i.kept_until, i.ts, i.kinds, s.user_name, s.project, s.source
HAVING count(*) >= $discard_min_requests;

-- idle_burn: one flag per idle turn, with its tool mix.
INSERT INTO flags
WITH mix AS (
    SELECT sid, turn_no, tool_name, count(*) AS n FROM _calls GROUP BY sid, turn_no, tool_name
),
mix_text AS (
    SELECT sid, turn_no, array_to_string(list(tool_name || ' x' || n ORDER BY n DESC, tool_name)[1:4], ', ') AS tools
    FROM mix GROUP BY sid, turn_no
)
SELECT t.sid, 'idle_burn', s.user_name, s.project, s.source, t.started_at::DATE, t.started_at, t.ended_at,
       coalesce(sum(r.total_tokens), 0), sum(r.cost_usd),
       'unattended for ' || number_text(t.active_seconds / 3600.0, 1) || ' h of activity: '
         || t.requests || ' requests with no edit and no commit'
         || coalesce('; tools: ' || any_value(m.tools), '')
FROM _idle_turns t
JOIN _sessions s ON s.sid = t.sid
LEFT JOIN mix_text m ON m.sid = t.sid AND m.turn_no = t.turn_no
LEFT JOIN _req_out r ON r.sid = t.sid AND r.turn_no = t.turn_no AND r.outcome = 'idle'
GROUP BY t.sid, t.turn_no, t.started_at, t.ended_at, t.active_seconds, t.requests, s.user_name, s.project, s.source;

-- zero_output: large spend, no surviving edit and no commit in the whole session.
INSERT INTO flags
WITH work AS (
    SELECT c.sid,
           count(*) FILTER (WHERE c.is_edit) AS edits,
           count(*) FILTER (WHERE c.is_edit AND d.tool_use_id IS NULL) AS kept_edits,
           count(*) FILTER (WHERE c.is_commit) AS commits
    FROM _calls c LEFT JOIN _discarded_edits d USING (tool_use_id) GROUP BY c.sid
)
SELECT s.sid, 'zero_output', s.user_name, s.project, s.source, s.started_at::DATE, s.started_at, s.ended_at,
       s.tokens, s.cost_usd,
       s.requests || ' requests over ' || number_text(date_diff('second', s.started_at, s.ended_at) / 3600.0, 1)
         || ' h: no surviving edit and no commit'
         || CASE WHEN coalesce(w.edits, 0) > 0 THEN ' (' || w.edits || ' edit(s), all thrown away)' ELSE '' END
FROM _sessions s LEFT JOIN work w ON w.sid = s.sid
WHERE coalesce(w.kept_edits, 0) = 0 AND coalesce(w.commits, 0) = 0
  AND (CASE WHEN s.unpriced = 0 THEN s.cost_usd >= $zero_min_cost ELSE s.tokens >= $zero_min_tokens END);

-- context_bloat: a component whose results in one session are huge, singly or in sum.
INSERT INTO flags
WITH bytes AS (
    SELECT sid, component, count(*) AS results, sum(result_bytes) AS total_bytes, max(result_bytes) AS max_bytes,
           min(ts) AS started_at, max(ts) AS ended_at
    FROM _calls GROUP BY sid, component
    HAVING max(result_bytes) >= $bloat_single_bytes OR sum(result_bytes) >= $bloat_session_bytes
),
consumed AS (
    SELECT a.session_id AS sid, a.component, sum(a.share * r.total_tokens) AS tokens, sum(a.share * r.cost_usd) AS cost
    FROM _attr a JOIN _req r USING (request_key) GROUP BY a.session_id, a.component
)
SELECT b.sid, 'context_bloat', s.user_name, s.project, s.source, b.started_at::DATE, b.started_at, b.ended_at,
       coalesce(round(c.tokens), 0)::HUGEINT, c.cost,
       b.component || ' injected ' || b.results || ' result(s) totalling ' || number_text(b.total_bytes / 1000.0, 0) || ' kB'
         || ' (largest ' || number_text(b.max_bytes / 1000.0, 0) || ' kB) into the context'
FROM bytes b JOIN _sessions s ON s.sid = b.sid
LEFT JOIN consumed c ON c.sid = b.sid AND c.component = b.component;
