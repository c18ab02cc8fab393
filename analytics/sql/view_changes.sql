-- Each group's figures against the equally long period just before ($previous, the same slice moved
-- back; analytics.periods.previous_period): relative change in percent, ratios in percentage points.
-- $group_by is 'team' (one row per team) or 'org' (one row). With $compare false (an open-ended
-- period has no "before") every change is NULL.
WITH now AS (SELECT * FROM usage_by($slice, $group_by)),
before AS (SELECT * FROM usage_by($previous, $group_by) WHERE $compare)
SELECT coalesce(n.grp, b.grp) AS grp,
       n.cost_usd, b.cost_usd AS previous_cost_usd,
       pct_change(n.cost_usd, b.cost_usd) AS cost_change,
       pct_change(n.waste_cost_usd, b.waste_cost_usd) AS waste_cost_change,
       pct_change(n.total_tokens, b.total_tokens) AS total_tokens_change,
       pct_change(n.sessions, b.sessions) AS sessions_change,
       pct_change(n.users, b.users) AS users_change,
       pct_change(n.flagged_sessions, b.flagged_sessions) AS flagged_sessions_change,
       n.useful_cost_ratio, b.useful_cost_ratio AS previous_useful_cost_ratio,
       points_change(n.useful_cost_ratio, b.useful_cost_ratio) AS useful_cost_ratio_change,
       points_change(n.useful_output_ratio, b.useful_output_ratio) AS useful_output_ratio_change
FROM now n FULL OUTER JOIN before b ON b.grp = n.grp
ORDER BY grp;
