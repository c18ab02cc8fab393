-- Requests of the touched sessions, in thread order, with their turn and their cost.

-- Sessions whose main transcript is missing: subagent threads only, nothing on the main thread (an
-- OpenTelemetry export may still report main-thread requests of such a session: they are no transcript).
CREATE OR REPLACE TEMP TABLE _headless AS
SELECT coalesce(session_id, '(none)') AS sid
FROM requests
WHERE in_span('requests', rowid) AND in_touched(coalesce(session_id, '(none)'))
GROUP BY 1
HAVING bool_or(agent_id IS NOT NULL) AND NOT bool_or(agent_id IS NULL AND source <> 'otel');

-- Human prompts on the main thread open turns; turn 0 is anything before the first prompt. A session
-- without its main transcript has no human prompts: each subagent's own opening prompt then opens a
-- turn, so that unrelated investigations hours apart do not merge into one turn.
CREATE OR REPLACE TEMP TABLE _prompts AS
WITH opening AS (
    SELECT coalesce(session_id, '(none)') AS sid, ts, event_key, parent_uuid, slash_command
    FROM session_events
    WHERE kind = 'prompt' AND agent_id IS NULL AND NOT is_sidechain
      AND in_span('session_events', rowid) AND in_touched(coalesce(session_id, '(none)'))
    UNION ALL
    SELECT coalesce(e.session_id, '(none)'), e.ts, e.event_key, NULL, NULL
    FROM session_events e JOIN _headless h ON h.sid = coalesce(e.session_id, '(none)')
    WHERE e.kind = 'subagent_prompt' AND e.detail IS DISTINCT FROM 'warmup'
      AND in_span('session_events', e.rowid) AND in_touched(coalesce(e.session_id, '(none)'))  -- implied by _headless; lets the scan skip other sessions
)
SELECT sid, ts, parent_uuid, slash_command,
       row_number() OVER (PARTITION BY sid ORDER BY ts, event_key)::INTEGER AS turn_no
FROM opening;

-- The subagent type of every thread, from the best evidence the data holds (docs/metrics.md
-- "Subagent types"): the thread's own file (.meta.json, or Claude Code's agent-acompact-* /
-- agent-aprompt_suggestion-* names), the Task/Agent call whose result names it, the Task call that
-- was running when an inline (v1.0) sidechain started, a warm-up; otherwise unknown, with the cause.
-- `harness` names Claude Code's own agents; the ones that do no work for anyone are overhead.
CREATE OR REPLACE TEMP TABLE _thread_types AS
WITH threads AS (
    SELECT coalesce(session_id, '(none)') AS sid, agent_id, min(ts) AS first_ts,
           any_value(subagent_type) AS file_type
    FROM requests
    WHERE agent_id IS NOT NULL AND in_span('requests', rowid) AND in_touched(coalesce(session_id, '(none)'))
    GROUP BY ALL
),
touched_calls AS MATERIALIZED (
    -- The chunk's calls first, then the results that spawned an agent among them (not a join of the whole tables).
    SELECT tool_use_id, subagent_type FROM tool_calls WHERE in_span('tool_calls', rowid) AND in_touched(coalesce(session_id, '(none)'))
),
spawned AS (
    SELECT tr.spawned_agent_id AS agent_id, any_value(c.subagent_type) AS subagent_type
    FROM (SELECT tool_use_id, spawned_agent_id FROM tool_results
          WHERE spawned_agent_id IS NOT NULL AND in_span('tool_results', rowid)
            AND tool_use_id IN (SELECT tool_use_id FROM touched_calls)) tr
    JOIN touched_calls c USING (tool_use_id)
    GROUP BY 1
),
task_calls AS MATERIALIZED (
    -- The chunk's Task calls first, then their results: joined first, every result went through the join.
    SELECT tool_use_id, session_id, ts, subagent_type FROM tool_calls
    WHERE tool_name IN ('Task', 'Agent') AND in_span('tool_calls', rowid) AND in_touched(coalesce(session_id, '(none)'))
),
task_runs AS (
    SELECT coalesce(c.session_id, '(none)') AS sid, c.ts AS started_at, coalesce(r.ts, c.ts) AS ended_at,
           c.subagent_type
    FROM task_calls c
    LEFT JOIN (SELECT tool_use_id, ts FROM tool_results
               WHERE in_span('tool_results', rowid) AND tool_use_id IN (SELECT tool_use_id FROM task_calls)) r
      USING (tool_use_id)
),
inline AS (
    SELECT t.sid, t.agent_id, count(k.started_at) AS candidates,
           CASE WHEN count(DISTINCT k.subagent_type) = 1 THEN any_value(k.subagent_type) END AS subagent_type
    FROM threads t
    JOIN task_runs k ON k.sid = t.sid AND t.first_ts BETWEEN k.started_at AND k.ended_at
    WHERE starts_with(t.agent_id, 'sidechain:')
    GROUP BY t.sid, t.agent_id
),
warm AS (
    SELECT agent_id, bool_or(is_warmup) AS is_warmup, any_value(subagent_type) AS subagent_type
    FROM agents WHERE agent_id IN (SELECT agent_id FROM threads) GROUP BY agent_id
),
resolved AS (
    SELECT t.sid, t.agent_id,
           coalesce(t.file_type, w.subagent_type, s.subagent_type, i.subagent_type,
                    nullif(regexp_extract(t.agent_id, '^a(compact|prompt_suggestion|side_question)-[0-9a-zA-Z]+$', 1), ''),
                    CASE WHEN w.is_warmup THEN '(warmup)' END,
                    '(unknown: ' || CASE WHEN t.sid IN (SELECT sid FROM _headless) THEN 'main transcript missing'
                                         WHEN i.candidates > 1 THEN 'parallel Task calls of different types'
                                         ELSE 'no Task call names it' END || ')') AS subagent_type
    FROM threads t
    LEFT JOIN warm w ON w.agent_id = t.agent_id
    LEFT JOIN spawned s ON s.agent_id = t.agent_id
    LEFT JOIN inline i ON i.sid = t.sid AND i.agent_id = t.agent_id
)
SELECT sid, agent_id, subagent_type,
       CASE subagent_type WHEN 'compact' THEN 'compaction' WHEN 'prompt_suggestion' THEN 'prompt_suggestion'
                          WHEN 'side_question' THEN 'side_question' WHEN '(warmup)' THEN 'warmup' END AS harness,
       -- Claude Code's own agents that answer no one: a price of the tool, not of anybody's work.
       subagent_type IN ('compact', 'prompt_suggestion', '(warmup)') AS is_overhead
FROM resolved;

CREATE OR REPLACE TEMP TABLE _req AS
WITH touched_requests AS MATERIALIZED (
    SELECT * FROM requests WHERE in_span('requests', rowid) AND in_touched(coalesce(session_id, '(none)'))
),
r AS (
    SELECT q.request_key, q.message_id, q.source, coalesce(q.session_id, '(none)') AS sid, coalesce(q.agent_id, '') AS thread,
           t.subagent_type, t.harness, coalesce(t.is_overhead, FALSE) AS is_overhead,
           q.user_name, q.project, q.model, q.ts, q.stop_reason, q.source_cost_usd,
           q.input_tokens, q.output_tokens, q.cache_creation_tokens, q.cache_read_tokens,
           -- Added in 128 bits: four corrupt int64 counts may pass int64 (capped: see macros.sql).
           capped(q.input_tokens::HUGEINT + q.output_tokens + q.cache_creation_tokens + q.cache_read_tokens) AS total_tokens,
           q.input_tokens::HUGEINT + q.cache_creation_tokens + q.cache_read_tokens AS prompt_tokens,
           least(coalesce(q.cache_creation_1h_tokens, 0), q.cache_creation_tokens) AS cache_1h,
           coalesce(q.web_search_requests, 0) AS web_searches,
           q.file_path, q.line_no
    FROM touched_requests q
    LEFT JOIN _thread_types t ON t.agent_id = q.agent_id AND t.sid = coalesce(q.session_id, '(none)')
),
lagged AS (
    -- The window over the keys alone, joined back (request_key is unique: ingest/writer.py keeps it
    -- so): a window carries every column it is given through its sort.
    SELECT request_key, lag(request_key) OVER w AS prev_key, lag(ts) OVER w AS prev_ts
    FROM r
    WINDOW w AS (PARTITION BY sid, thread ORDER BY ts, file_path, line_no, request_key)
),
ordered AS (
    SELECT r.*, l.prev_key, l.prev_ts FROM r JOIN lagged l USING (request_key)
),
priced AS (
    -- The long-context tier applies per request: the highest tier its own prompt exceeds.
    SELECT o.request_key, p.input_mtok, p.output_mtok, p.cache_read_mtok, p.cache_write_5m_mtok,
           p.cache_write_1h_mtok, p.web_search_kcount, p.price_version
    FROM ordered o
    JOIN model_prices p
      ON p.model = o.model AND o.ts::DATE >= p.valid_from AND o.ts::DATE < p.valid_to
     AND o.prompt_tokens > p.tier_start
    QUALIFY row_number() OVER (PARTITION BY o.request_key ORDER BY p.tier_start DESC) = 1
)
SELECT o.*, o.ts::DATE AS day,
       coalesce(pr.turn_no, 0) AS turn_no,
       pr.prompt_ts AS turn_started_at,
       -- A main-thread request follows a human prompt when a prompt came after its predecessor.
       (o.thread = '' AND pr.prompt_ts IS NOT NULL AND (o.prev_ts IS NULL OR pr.prompt_ts > o.prev_ts)) AS follows_prompt,
       (o.input_tokens * p.input_mtok
        + o.output_tokens * p.output_mtok
        + o.cache_read_tokens * p.cache_read_mtok
        + (o.cache_creation_tokens - o.cache_1h) * p.cache_write_5m_mtok
        + o.cache_1h * p.cache_write_1h_mtok) / 1e6
        + o.web_searches * p.web_search_kcount / 1e3 AS cost_usd,
       p.price_version
FROM ordered o
LEFT JOIN priced p USING (request_key)
-- The turn of each distinct (session, time), joined back: an ASOF join sorts every column of its
-- left side, and the wide rows cost ten times what the keys do.
LEFT JOIN (
    SELECT k.sid, k.ts, pr.turn_no, pr.ts AS prompt_ts
    FROM (SELECT DISTINCT sid, ts FROM ordered) k
    ASOF LEFT JOIN _prompts pr ON pr.sid = k.sid AND k.ts >= pr.ts
) pr ON pr.sid = o.sid AND pr.ts = o.ts;
