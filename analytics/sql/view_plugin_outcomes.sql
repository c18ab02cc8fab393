-- Plugins' "Worth it?" on outcomes in git: per component (level 'component') and per plugin (level
-- 'plugin', its components rolled up), the spend attributed to it, the share of that spend in turns
-- whose edits landed on a default branch (landed_cost_share), and the landed lines of the edits its
-- requests made, attributed by the same shares. origin separates the agents' own tools and the
-- prompt (built-in) from what an organisation adds (integration: MCP servers, plugins, skills,
-- subagents). Group rows over too few people are withheld, as in the plugins report.
WITH costs AS (SELECT * FROM component_days($slice)),
spent AS (
    -- Requests in the slice that landed a line (their turn did) or are Claude Code's own overhead
    -- (out of both sides of the share, as in the useful ratio), and their attributed spend.
    SELECT rc.component, rc.plugin, rc.share * f.cost_usd AS cost_usd, f.outcome = 'overhead' AS overhead
    FROM request_facts f
    LEFT JOIN git_turns t ON t.session_id = f.session_id AND t.turn_no = f.turn_no
    JOIN request_components rc ON rc.request_key = f.request_key
    LEFT JOIN org_users o ON o.user_name = f.user_name
    WHERE (t.lines_landed > 0 OR f.outcome = 'overhead')
      AND in_slice($slice, f.day, f.user_name, team_of(o.team), f.project, f.source)
      AND ($slice.model IS NULL OR f.model = $slice.model)
),
lines AS (
    SELECT rc.component, rc.plugin, rc.share * e.lines_landed AS lines_landed
    FROM edit_outcomes e
    JOIN tool_calls c ON c.tool_use_id = e.tool_use_id
    JOIN request_facts f ON f.request_key = c.request_key
    JOIN request_components rc ON rc.request_key = c.request_key
    LEFT JOIN org_users o ON o.user_name = f.user_name
    WHERE e.lines_landed > 0 AND in_slice($slice, f.day, f.user_name, team_of(o.team), f.project, f.source)
      AND ($slice.model IS NULL OR f.model = $slice.model)
),
landed_by AS (
    SELECT component, exact_sum_if(cost_usd, NOT overhead) AS cost_usd,
           exact_sum_if(cost_usd, overhead) AS overhead_cost_usd
    FROM spent GROUP BY component
),
lines_by AS (SELECT component, exact_sum(lines_landed) AS lines_landed FROM lines GROUP BY component),
plugin_landed AS (
    SELECT plugin, exact_sum_if(cost_usd, NOT overhead) AS cost_usd,
           exact_sum_if(cost_usd, overhead) AS overhead_cost_usd
    FROM spent WHERE plugin IS NOT NULL GROUP BY plugin
),
plugin_lines AS (SELECT plugin, exact_sum(lines_landed) AS lines_landed FROM lines WHERE plugin IS NOT NULL GROUP BY plugin),
by_component AS (
    SELECT 'component' AS level, c.component, any_value(c.component_kind) AS kind,
           CASE WHEN count(c.plugin) = count(*) AND min(c.plugin) = max(c.plugin) THEN min(c.plugin) END AS plugin,
           exact_sum(c.cost_usd) AS cost_usd, any_value(l.cost_usd) AS landed_cost_usd,
           any_value(l.overhead_cost_usd) AS overhead_cost_usd, any_value(n.lines_landed) AS lines_landed
    FROM costs c
    LEFT JOIN landed_by l ON l.component = c.component
    LEFT JOIN lines_by n ON n.component = c.component
    GROUP BY c.component
    HAVING NOT small_group($slice, count(DISTINCT c.user_name), bool_or(c.user_name = scope()['viewer']))
),
by_plugin AS (
    SELECT 'plugin' AS level, 'plugin:' || c.plugin AS component, 'plugin' AS kind, c.plugin,
           exact_sum(c.cost_usd) AS cost_usd, any_value(l.cost_usd) AS landed_cost_usd,
           any_value(l.overhead_cost_usd) AS overhead_cost_usd, any_value(n.lines_landed) AS lines_landed
    FROM costs c
    LEFT JOIN plugin_landed l ON l.plugin = c.plugin
    LEFT JOIN plugin_lines n ON n.plugin = c.plugin
    WHERE c.plugin IS NOT NULL GROUP BY c.plugin
    HAVING NOT small_group($slice, count(DISTINCT c.user_name), bool_or(c.user_name = scope()['viewer']))
)
-- Claude Code's own agents (harness: prompt suggestions, compaction) are the agent's, not an
-- integration, and their spend is overhead, nobody's work: no share of it can land.
SELECT level, component, kind,
       CASE WHEN kind IN ('builtin', 'prompt', 'other', 'harness') THEN 'built-in' ELSE 'integration' END AS origin,
       plugin, usd(cost_usd) AS cost_usd, usd(coalesce(landed_cost_usd, 0)) AS landed_cost_usd,
       CASE WHEN kind <> 'harness' THEN useful_ratio(landed_cost_usd, cost_usd, overhead_cost_usd) END AS landed_cost_share,
       as_count(round(coalesce(lines_landed, 0))) AS lines_landed,
       CASE WHEN lines_landed > 0 THEN usd(cost_usd / lines_landed) END AS cost_per_landed_line
FROM (SELECT * FROM by_component UNION ALL SELECT * FROM by_plugin)
ORDER BY level, cost_usd DESC NULLS LAST, component;
