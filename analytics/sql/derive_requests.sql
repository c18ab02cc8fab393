-- Requests of the touched sessions, in thread order, with their turn and their cost.
-- Human prompts on the main thread open turns; turn 0 is anything before the first prompt.
CREATE OR REPLACE TEMP TABLE _prompts AS
SELECT coalesce(session_id, '(none)') AS sid, ts,
       row_number() OVER (PARTITION BY coalesce(session_id, '(none)') ORDER BY ts, event_key)::INTEGER AS turn_no
FROM session_events
WHERE kind = 'prompt' AND agent_id IS NULL AND NOT is_sidechain
  AND in_touched(coalesce(session_id, '(none)'));

-- The subagent type of a thread: the transcript's own meta, the agents table, the Task call that
-- spawned it; warm-up threads have none. (The chunk's rows are selected before any join, here and
-- below: joined first, every row of the ledger went through the joins.)
CREATE OR REPLACE TEMP TABLE _thread_types AS
WITH touched_agents AS MATERIALIZED (
    SELECT * FROM agents WHERE in_touched(coalesce(session_id, '(none)'))
),
spawns AS MATERIALIZED (
    SELECT spawned_agent_id, tool_use_id FROM tool_results
    WHERE spawned_agent_id IN (SELECT agent_id FROM touched_agents)
),
spawning_calls AS MATERIALIZED (
    SELECT tool_use_id, subagent_type FROM tool_calls WHERE tool_use_id IN (SELECT tool_use_id FROM spawns)
)
SELECT a.agent_id,
       coalesce(a.subagent_type, any_value(c.subagent_type), CASE WHEN a.is_warmup THEN '(warmup)' END) AS subagent_type
FROM touched_agents a
LEFT JOIN spawns tr ON tr.spawned_agent_id = a.agent_id
LEFT JOIN spawning_calls c ON c.tool_use_id = tr.tool_use_id
GROUP BY a.agent_id, a.subagent_type, a.is_warmup;

CREATE OR REPLACE TEMP TABLE _req AS
WITH touched_requests AS MATERIALIZED (
    SELECT * FROM requests WHERE in_touched(coalesce(session_id, '(none)'))
),
r AS (
    SELECT q.request_key, q.message_id, q.source, coalesce(q.session_id, '(none)') AS sid, coalesce(q.agent_id, '') AS thread,
           CASE WHEN q.agent_id IS NOT NULL
                THEN coalesce(q.subagent_type, t.subagent_type, 'unknown') END AS subagent_type,
           q.user_name, q.project, q.model, q.ts, q.stop_reason, q.source_cost_usd,
           q.input_tokens, q.output_tokens, q.cache_creation_tokens, q.cache_read_tokens,
           -- Added in 128 bits: four corrupt int64 counts may pass int64 (capped: see macros.sql).
           capped(q.input_tokens::HUGEINT + q.output_tokens + q.cache_creation_tokens + q.cache_read_tokens) AS total_tokens,
           q.input_tokens::HUGEINT + q.cache_creation_tokens + q.cache_read_tokens AS prompt_tokens,
           least(coalesce(q.cache_creation_1h_tokens, 0), q.cache_creation_tokens) AS cache_1h,
           coalesce(q.web_search_requests, 0) AS web_searches,
           q.file_path, q.line_no
    FROM touched_requests q
    LEFT JOIN _thread_types t ON t.agent_id = q.agent_id
),
ordered AS (
    SELECT *, lag(request_key) OVER w AS prev_key, lag(ts) OVER w AS prev_ts
    FROM r
    WINDOW w AS (PARTITION BY sid, thread ORDER BY ts, file_path, line_no, request_key)
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
       pr.ts AS turn_started_at,
       -- A main-thread request follows a human prompt when a prompt came after its predecessor.
       (o.thread = '' AND pr.ts IS NOT NULL AND (o.prev_ts IS NULL OR pr.ts > o.prev_ts)) AS follows_prompt,
       (o.input_tokens * p.input_mtok
        + o.output_tokens * p.output_mtok
        + o.cache_read_tokens * p.cache_read_mtok
        + (o.cache_creation_tokens - o.cache_1h) * p.cache_write_5m_mtok
        + o.cache_1h * p.cache_write_1h_mtok) / 1e6
        + o.web_searches * p.web_search_kcount / 1e3 AS cost_usd,
       p.price_version
FROM ordered o
LEFT JOIN priced p USING (request_key)
ASOF LEFT JOIN _prompts pr ON pr.sid = o.sid AND o.ts >= pr.ts;
