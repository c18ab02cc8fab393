-- The cost-weighted headline (one row): the share of all spend in turns that landed a line, and in
-- turns with a line still alive at the head. Every request of the slice is in the denominator.
WITH turn_lines AS (
    SELECT c.session_id, f.turn_no, sum(e.lines_landed) AS landed, sum(e.lines_alive_head) AS alive
    FROM edit_outcomes e JOIN tool_calls c ON c.tool_use_id = e.tool_use_id
    JOIN request_facts f ON f.request_key = c.request_key GROUP BY ALL
),
spend AS (
    SELECT f.session_id, f.turn_no, f.cost_usd
    FROM request_facts f LEFT JOIN org_users o ON o.user_name = f.user_name
    WHERE in_slice($slice, f.day, f.user_name, team_of(o.team), f.project, f.source)
      AND ($slice.model IS NULL OR f.model = $slice.model)
)
SELECT sum(s.cost_usd) FILTER (WHERE t.landed > 0) / nullif(sum(s.cost_usd), 0) AS landed_cost_share,
       sum(s.cost_usd) FILTER (WHERE t.alive > 0) / nullif(sum(s.cost_usd), 0) AS alive_cost_share
FROM spend s LEFT JOIN turn_lines t USING (session_id, turn_no);
