-- One session's turns with their git dimension beside the outcome they already have (kept,
-- looping, discarded, idle are unchanged): lines the turn's edits wrote and what became of them.
-- git_outcome: landed (some line on the default branch), committed (in a commit, none landed),
-- uncommitted (edits, nothing committed), no edits. Nothing when the viewer's scope does not hold the session.
WITH requests AS (
    SELECT turn_no, count(*) AS requests, sum(cost_usd) AS cost_usd, sum(total_tokens) AS total_tokens,
           sum(total_tokens) FILTER (WHERE outcome = 'kept') AS kept_tokens
    FROM request_facts WHERE session_id = $session_id AND session_visible($session_id) GROUP BY turn_no
),
edits AS (
    SELECT coalesce(f.turn_no, 0) AS turn_no, sum(e.lines_written) AS lines_written,
           sum(e.lines_committed) AS lines_committed, sum(e.lines_landed) AS lines_landed,
           sum(e.lines_alive_head) AS lines_alive_head
    FROM edit_outcomes e
    JOIN tool_calls c ON c.tool_use_id = e.tool_use_id
    LEFT JOIN request_facts f ON f.request_key = c.request_key
    WHERE e.session_id = $session_id
    GROUP BY ALL
)
SELECT r.turn_no, r.requests, usd(r.cost_usd) AS cost_usd, r.total_tokens,
       useful_ratio(r.kept_tokens, r.total_tokens) AS useful_output_ratio,
       coalesce(e.lines_written, 0)::BIGINT AS lines_written, coalesce(e.lines_committed, 0)::BIGINT AS lines_committed,
       coalesce(e.lines_landed, 0)::BIGINT AS lines_landed, coalesce(e.lines_alive_head, 0)::BIGINT AS lines_alive_head,
       CASE WHEN e.lines_landed > 0 THEN 'landed' WHEN e.lines_committed > 0 THEN 'committed'
            WHEN e.lines_written > 0 THEN 'uncommitted' ELSE 'no edits' END AS git_outcome
FROM requests r LEFT JOIN edits e USING (turn_no)
ORDER BY r.turn_no;
