-- Attribution (docs/metrics.md "Attribution"): a request's tokens belong to the components whose
-- tool results it consumes, i.e. the tool calls of the previous request in its thread, split evenly
-- among distinct components; after a human prompt to (prompt); in a subagent thread to
-- subagent:<type> (plugin = <plugin> when the type is <plugin>:<agent>), or harness:<name> for
-- Claude Code's own agents (compaction, prompt suggestions, warm-ups, side questions); otherwise (other).
CREATE OR REPLACE TEMP TABLE _attr AS
WITH consumed AS (
    SELECT r.request_key, r.sid, c.component, any_value(c.component_kind) AS component_kind,
           any_value(c.plugin) AS plugin
    FROM _req r
    JOIN _calls c ON c.request_key = r.prev_key
    WHERE r.thread = '' AND NOT r.follows_prompt
    GROUP BY r.request_key, r.sid, c.component
),
split AS (
    SELECT *, 1.0 / count(*) OVER (PARTITION BY request_key) AS share FROM consumed
)
SELECT request_key, sid AS session_id, component, component_kind, plugin, share FROM split
UNION ALL
SELECT request_key, sid,
       CASE WHEN harness IS NOT NULL THEN 'harness:' || harness ELSE 'subagent:' || subagent_type END,
       CASE WHEN harness IS NOT NULL THEN 'harness' ELSE 'subagent' END,
       CASE WHEN harness IS NULL AND contains(subagent_type, ':') AND NOT starts_with(subagent_type, '(')
            THEN split_part(subagent_type, ':', 1) END, 1.0
FROM _req WHERE thread <> ''
UNION ALL
SELECT request_key, sid, '(prompt)', 'prompt', NULL, 1.0 FROM _req WHERE thread = '' AND follows_prompt
UNION ALL
SELECT r.request_key, r.sid, '(other)', 'other', NULL, 1.0
FROM _req r
WHERE r.thread = '' AND NOT r.follows_prompt AND r.request_key NOT IN (SELECT request_key FROM consumed);

INSERT INTO request_components
SELECT request_key, session_id, component, component_kind, plugin, share FROM _attr;
