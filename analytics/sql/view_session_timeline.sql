-- One session, request by request: time, thread, tokens, cost, outcome, attribution and tool calls,
-- and whether its output count is a placeholder or its model a fallback (figures not exact);
-- nothing when the viewer's scope does not hold the session.
WITH calls AS (
    SELECT coalesce(request_key, message_id) AS request_key, count(*) AS tool_calls,
           string_agg(tool_name, ', ' ORDER BY ts, tool_use_id) AS tools
    FROM tool_calls WHERE session_id = $session_id GROUP BY 1
),
components AS (
    SELECT request_key, string_agg(component, ', ' ORDER BY component) AS attributed_to
    FROM request_components WHERE session_id = $session_id GROUP BY request_key
)
SELECT f.ts, f.request_key, f.turn_no, CASE WHEN f.thread = '' THEN 'main' ELSE 'subagent:' || coalesce(f.subagent_type, '?') END AS thread,
       f.model, f.input_tokens, f.output_tokens, f.cache_creation_tokens, f.cache_read_tokens, f.total_tokens,
       usd(f.cost_usd) AS cost_usd, f.outcome, c.attributed_to, coalesce(k.tool_calls, 0) AS tool_calls, k.tools,
       q.output_estimated, q.model_is_fallback
FROM request_facts f
JOIN requests q ON q.request_key = f.request_key
LEFT JOIN calls k ON k.request_key = f.request_key
LEFT JOIN components c ON c.request_key = f.request_key
WHERE f.session_id = $session_id AND session_visible($session_id)
ORDER BY f.ts, f.request_key;
