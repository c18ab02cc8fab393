-- Flags of the touched sessions, each with the evidence a manager can check (never prompt text).
-- Every flag is written in two statements: first the requests it covers, into flag_requests (each
-- with its tokens and cost, and the share of it the flag counts), then the flag itself, whose tokens
-- and cost add those shares up. The distinct requests of a session's flag_requests are its spend
-- involved in any flag, each request once.
CREATE OR REPLACE TEMP TABLE _sessions AS
SELECT sid, min(user_name) AS user_name, mode(project ORDER BY project) AS project, min(source) AS source,
       min(ts) AS started_at, max(ts) AS ended_at, count(*) AS requests, sum(total_tokens) AS tokens,
       exact_sum(cost_usd) AS cost_usd, count(*) FILTER (WHERE cost_usd IS NULL) AS unpriced
FROM _req GROUP BY sid;

-- The columns the flags below read (a copy of every column of _req cost five times as much).
CREATE OR REPLACE TEMP TABLE _req_out AS
SELECT r.request_key, r.sid, r.thread, r.turn_no, r.ts, r.day, r.total_tokens, r.cost_usd, o.outcome
FROM _req r JOIN _outcomes o USING (request_key);

-- loop: one flag per loop episode; its requests are the episode's looping requests (productive work
-- in between is not counted, and each request counts in one episode only).
INSERT INTO flag_requests
WITH members AS (
    SELECT l.sid, l.thread, l.started_at, r.day, r.request_key, r.total_tokens, r.cost_usd
    FROM _loops l
    JOIN _calls c ON c.sid = l.sid AND c.thread = l.thread AND c.ts BETWEEN l.started_at AND l.ended_at
    JOIN _req_out r ON r.request_key = c.request_key AND r.outcome = 'looping'
    UNION
    SELECT l.sid, l.thread, l.started_at, r.day, r.request_key, r.total_tokens, r.cost_usd
    FROM _loops l
    JOIN _req_out r ON r.sid = l.sid AND r.thread = l.thread AND r.ts BETWEEN l.started_at AND l.ended_at
                    AND r.outcome = 'looping'
)
SELECT flag_key('loop', sid, thread || '@' || started_at), 'loop', sid, day, request_key, 1.0, total_tokens, cost_usd
FROM members;

INSERT INTO flags
SELECT l.sid, 'loop', s.user_name, s.project, s.source, l.started_at::DATE, l.started_at, l.ended_at,
       coalesce(round(exact_sum(m.share * m.tokens)), 0), exact_sum(m.share * m.cost_usd),
       l.evidence || CASE WHEN l.thread <> '' THEN ' (inside a subagent)' ELSE '' END, l.flag_id
FROM (SELECT *, flag_key('loop', sid, thread || '@' || started_at) AS flag_id FROM _loops) l
JOIN _sessions s ON s.sid = l.sid
LEFT JOIN flag_requests m ON m.flag_id = l.flag_id
GROUP BY l.flag_id, l.sid, l.thread, l.started_at, l.ended_at, l.evidence, s.user_name, s.project, s.source;

-- discarded_work (revert): the turns whose every edit the command threw away.
INSERT INTO flag_requests
SELECT DISTINCT flag_key('discarded_work', dt.sid, 'revert:' || dt.revert_id), 'discarded_work', dt.sid,
       r.day, r.request_key, 1.0, r.total_tokens, r.cost_usd
FROM _discarded_turns dt
JOIN _reverts v ON v.tool_use_id = dt.revert_id
JOIN _req_out r ON r.sid = dt.sid AND r.turn_no = dt.turn_no AND r.outcome = 'discarded';

-- discarded_work (checkpoint rewind): the edits of the turns a rewind abandoned, when the rewind
-- threw away $discard_min_requests+ requests.
INSERT INTO flag_requests
WITH members AS (
    SELECT dt.sid, dt.revert_id, r.day, r.request_key, r.total_tokens, r.cost_usd,
           count(*) OVER (PARTITION BY dt.revert_id) AS requests
    FROM _discarded_turns dt
    JOIN _req_out r ON r.sid = dt.sid AND r.turn_no = dt.turn_no AND r.outcome = 'discarded'
    WHERE starts_with(dt.revert_id, 'rewind:')
)
SELECT flag_key('discarded_work', sid, revert_id), 'discarded_work', sid, day, request_key, 1.0, total_tokens, cost_usd
FROM members WHERE requests >= $discard_min_requests;

-- The revert and rewind flags: evidence names the command (or the rewind), the edits and files
-- thrown away and the turns of work.
INSERT INTO flags
WITH thrown AS (
    SELECT d.revert_id, count(*) AS edits, count(DISTINCT c.file_path) AS files,
           (SELECT count(DISTINCT t.turn_no) FROM _discarded_turns t WHERE t.revert_id = d.revert_id) AS turns
    FROM _discarded_edits d JOIN _calls c USING (tool_use_id) GROUP BY d.revert_id
),
spans AS (
    SELECT v.sid, v.ts, 'revert:' || v.tool_use_id AS part, v.tool_use_id AS revert_id,
           'work reverted by `' || left(v.command, 160) || '`' AS what
    FROM _reverts v
    UNION ALL
    SELECT w.sid, w.ts, 'rewind:' || w.sid || ':' || w.rewound_at_turn, 'rewind:' || w.sid || ':' || w.rewound_at_turn,
           'work abandoned by a checkpoint rewind to before turn ' || w.first_turn
    FROM _rewinds w
),
members AS (
    SELECT m.flag_id, min(r.ts) AS started_at, round(exact_sum(m.share * m.tokens)) AS tokens,
           exact_sum(m.share * m.cost_usd) AS cost
    FROM flag_requests m JOIN _req_out r USING (request_key)
    WHERE m.flag = 'discarded_work' AND m.session_id IN (SELECT sid FROM _sessions) GROUP BY m.flag_id
)
SELECT p.sid, 'discarded_work', s.user_name, s.project, s.source, m.started_at::DATE, m.started_at, p.ts,
       m.tokens, m.cost,
       p.what || ': ' || t.edits || ' edit(s) to ' || t.files || ' file(s) thrown away, ' || t.turns || ' turn(s) of work',
       m.flag_id
FROM spans p
JOIN thrown t ON t.revert_id = p.revert_id
JOIN _sessions s ON s.sid = p.sid
JOIN members m ON m.flag_id = flag_key('discarded_work', p.sid, p.part);

-- discarded_work (interruption or rejection the user did not follow with guidance, see _interrupts):
-- only when it threw away $discard_min_requests+ requests. A rejected tool call is followed by an
-- interrupt marker: both close the same window, one flag.
CREATE OR REPLACE TEMP TABLE _stops AS
SELECT sid, turn_no, kept_until, max(ts) AS ts, string_agg(DISTINCT kind, ' and ' ORDER BY kind) AS kinds,
       flag_key('discarded_work', sid, 'stop:' || turn_no || '@' || kept_until) AS flag_id
FROM _interrupts GROUP BY sid, turn_no, kept_until;

INSERT INTO flag_requests
WITH members AS (
    SELECT i.flag_id, i.sid, r.day, r.request_key, r.total_tokens, r.cost_usd,
           count(*) OVER (PARTITION BY i.flag_id) AS requests
    FROM _stops i
    JOIN _req_out r ON r.sid = i.sid AND r.turn_no = i.turn_no AND r.ts > i.kept_until AND r.ts <= i.ts
                    AND r.outcome = 'discarded'
)
SELECT flag_id, 'discarded_work', sid, day, request_key, 1.0, total_tokens, cost_usd
FROM members WHERE requests >= $discard_min_requests;

INSERT INTO flags
SELECT i.sid, 'discarded_work', s.user_name, s.project, s.source, min(r.ts)::DATE, min(r.ts), i.ts,
       round(exact_sum(m.share * m.tokens)), exact_sum(m.share * m.cost_usd),
       'user stopped the agent (' || i.kinds || ') after ' || count(*)
         || ' request(s) since the last kept edit or commit, and no instruction followed within '
         || printf('%g', $steer_seconds / 60.0) || ' min',
       i.flag_id
FROM _stops i
JOIN _sessions s ON s.sid = i.sid
JOIN flag_requests m ON m.flag_id = i.flag_id
JOIN _req_out r ON r.request_key = m.request_key
GROUP BY i.flag_id, i.sid, i.ts, i.kinds, s.user_name, s.project, s.source;

-- idle_burn: one flag per idle turn, with its tool mix.
INSERT INTO flag_requests
SELECT flag_key('idle_burn', t.sid, 'turn:' || t.turn_no), 'idle_burn', t.sid, r.day, r.request_key, 1.0,
       r.total_tokens, r.cost_usd
FROM _idle_turns t
JOIN _req_out r ON r.sid = t.sid AND r.turn_no = t.turn_no AND r.outcome = 'idle';

INSERT INTO flags
WITH mix AS (
    SELECT sid, turn_no, tool_name, count(*) AS n FROM _calls GROUP BY sid, turn_no, tool_name
),
mix_text AS (
    SELECT sid, turn_no, array_to_string(list(tool_name || ' x' || n ORDER BY n DESC, tool_name)[1:4], ', ') AS tools
    FROM mix GROUP BY sid, turn_no
),
members AS (
    SELECT flag_id, round(exact_sum(share * tokens)) AS tokens, exact_sum(share * cost_usd) AS cost
    FROM flag_requests WHERE flag = 'idle_burn' AND session_id IN (SELECT sid FROM _sessions) GROUP BY flag_id
)
SELECT t.sid, 'idle_burn', s.user_name, s.project, s.source, t.started_at::DATE, t.started_at, t.ended_at,
       coalesce(m.tokens, 0), m.cost,
       'unattended for ' || number_text(t.active_seconds / 3600.0, 1) || ' h of activity: '
         || t.requests || ' requests with no edit and no commit'
         || coalesce('; tools: ' || x.tools, ''),
       flag_key('idle_burn', t.sid, 'turn:' || t.turn_no)
FROM _idle_turns t
JOIN _sessions s ON s.sid = t.sid
LEFT JOIN mix_text x ON x.sid = t.sid AND x.turn_no = t.turn_no
LEFT JOIN members m ON m.flag_id = flag_key('idle_burn', t.sid, 'turn:' || t.turn_no);

-- zero_output: large spend, no surviving edit and no commit in the whole session: every request.
CREATE OR REPLACE TEMP TABLE _zero AS
WITH work AS (
    SELECT c.sid,
           count(*) FILTER (WHERE c.is_edit) AS edits,
           count(*) FILTER (WHERE c.is_edit AND d.tool_use_id IS NULL) AS kept_edits,
           count(*) FILTER (WHERE c.is_commit) AS commits
    FROM _calls c LEFT JOIN _discarded_edits d USING (tool_use_id) GROUP BY c.sid
)
SELECT s.sid, coalesce(w.edits, 0) AS edits, flag_key('zero_output', s.sid, 'session') AS flag_id
FROM _sessions s LEFT JOIN work w ON w.sid = s.sid
WHERE coalesce(w.kept_edits, 0) = 0 AND coalesce(w.commits, 0) = 0
  AND (CASE WHEN s.unpriced = 0 THEN s.cost_usd >= $zero_min_cost ELSE s.tokens >= $zero_min_tokens END);

INSERT INTO flag_requests
SELECT z.flag_id, 'zero_output', z.sid, r.day, r.request_key, 1.0, r.total_tokens, r.cost_usd
FROM _zero z JOIN _req r ON r.sid = z.sid;

INSERT INTO flags
SELECT s.sid, 'zero_output', s.user_name, s.project, s.source, s.started_at::DATE, s.started_at, s.ended_at,
       s.tokens, s.cost_usd,
       s.requests || ' requests over ' || number_text(date_diff('second', s.started_at, s.ended_at) / 3600.0, 1)
         || ' h: no surviving edit and no commit'
         || CASE WHEN z.edits > 0 THEN ' (' || z.edits || ' edit(s), all thrown away)' ELSE '' END,
       z.flag_id
FROM _zero z JOIN _sessions s ON s.sid = z.sid;

-- context_bloat: a component whose results fill one context (thread): one result of $bloat_single_bytes+
-- on the main thread, or $bloat_session_bytes+ in sum on any thread. The project's own files (lookups
-- inside the working directory, edits) are the work itself and do not count; a subagent exists to take
-- big results and hand back a summary, so inside one only the sum counts. Its requests are those of
-- that thread that consumed the component's results (a share each when one consumed several).
CREATE OR REPLACE TEMP TABLE _bloat AS
SELECT sid, thread, component, count(*) AS results, sum(result_bytes) AS total_bytes, max(result_bytes) AS max_bytes,
       min(ts) AS started_at, max(ts) AS ended_at, flag_key('context_bloat', sid, thread || '@' || component) AS flag_id
FROM _calls WHERE NOT reads_project AND NOT is_overhead
GROUP BY sid, thread, component
HAVING (thread = '' AND max(result_bytes) >= $bloat_single_bytes) OR sum(result_bytes) >= $bloat_session_bytes;

INSERT INTO flag_requests
WITH consumers AS (
    -- each request, the components of the previous request's calls, and whether any of those calls
    -- brought in something other than the project's own files
    SELECT r.request_key, r.sid, r.thread, r.day, c.component, r.total_tokens, r.cost_usd, c.outside,
           count(*) OVER (PARTITION BY r.request_key) AS components
    FROM _req r
    JOIN (SELECT request_key, component, bool_or(NOT reads_project) AS outside FROM _calls GROUP BY ALL) c
      ON c.request_key = r.prev_key
    WHERE NOT r.follows_prompt
)
SELECT b.flag_id, 'context_bloat', b.sid, c.day, c.request_key, 1.0 / c.components, c.total_tokens, c.cost_usd
FROM _bloat b
JOIN consumers c ON c.sid = b.sid AND c.thread = b.thread AND c.component = b.component AND c.outside;

INSERT INTO flags
SELECT b.sid, 'context_bloat', s.user_name, s.project, s.source, b.started_at::DATE, b.started_at, b.ended_at,
       coalesce(round(exact_sum(m.share * m.tokens)), 0)::HUGEINT, exact_sum(m.share * m.cost_usd),
       b.component || ' injected ' || b.results || ' result(s) totalling ' || number_text(b.total_bytes / 1000.0, 0) || ' kB'
         || ' (largest ' || number_text(b.max_bytes / 1000.0, 0) || ' kB) into the context'
         || CASE WHEN b.thread <> '' THEN ' of a subagent' ELSE '' END,
       b.flag_id
FROM _bloat b
JOIN _sessions s ON s.sid = b.sid
LEFT JOIN flag_requests m ON m.flag_id = b.flag_id
GROUP BY b.flag_id, b.sid, b.thread, b.component, b.results, b.total_bytes, b.max_bytes, b.started_at, b.ended_at,
         s.user_name, s.project, s.source;
