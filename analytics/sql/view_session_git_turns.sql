-- One session's turns with their git dimension beside the outcome they already have (kept, looping,
-- discarded, idle are unchanged): lines the turn's edits wrote and what became of them (git_turns).
-- git_outcome: landed (some line on the default branch), committed (in a commit, none landed),
-- uncommitted (edits, nothing committed), no edits. Nothing when the viewer's scope does not hold the session.
WITH requests AS (
    SELECT turn_no, count(*) AS requests, sum(cost_usd) AS cost_usd, total(total_tokens) AS total_tokens,
           sum(total_tokens) FILTER (WHERE outcome = 'kept') AS kept_tokens,
           sum(total_tokens) FILTER (WHERE outcome = 'overhead') AS overhead_tokens
    FROM request_facts WHERE session_id = $session_id AND session_visible($session_id) GROUP BY turn_no
)
SELECT r.turn_no, r.requests, usd(r.cost_usd) AS cost_usd, r.total_tokens,
       useful_ratio(r.kept_tokens, r.total_tokens, r.overhead_tokens) AS useful_output_ratio,
       coalesce(t.lines_written, 0) AS lines_written, coalesce(t.lines_committed, 0) AS lines_committed,
       coalesce(t.lines_landed, 0) AS lines_landed, coalesce(t.lines_alive_head, 0) AS lines_alive_head,
       CASE WHEN t.lines_landed > 0 THEN 'landed' WHEN t.lines_committed > 0 THEN 'committed'
            WHEN t.lines_written > 0 THEN 'uncommitted' ELSE 'no edits' END AS git_outcome
FROM requests r LEFT JOIN git_turns t ON t.session_id = $session_id AND t.turn_no = r.turn_no
ORDER BY r.turn_no;
