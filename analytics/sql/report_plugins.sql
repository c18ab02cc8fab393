-- Per component (a partition of all tokens: level 'component'), plus one roll-up row per plugin
-- (level 'plugin': everything attributed to the plugin's MCP servers, skills, subagents and tools).
WITH c AS (SELECT * FROM component_days($slice)),
by_component AS (
    -- A built-in tool used both inside and outside a plugin's skill belongs to no single plugin.
    SELECT 'component' AS level, component, component_kind AS kind,
           CASE WHEN count(plugin) = count(*) AND min(plugin) = max(plugin) THEN min(plugin) END AS plugin,
           sum(calls) AS calls, sum(errors) AS errors, sum(result_bytes) AS result_bytes,
           exact_sum(requests) AS requests, exact_sum(total_tokens) AS total_tokens, exact_sum(cost_usd) AS cost_usd,
           exact_sum(kept_tokens) AS kept_tokens, exact_sum(overhead_tokens) AS overhead_tokens,
           exact_sum(kept_cost_usd) AS kept_cost_usd, exact_sum(overhead_cost_usd) AS overhead_cost_usd
    FROM c GROUP BY component, component_kind
    HAVING NOT small_group($slice, count(DISTINCT user_name), bool_or(user_name = scope()['viewer']))
),
by_plugin AS (
    SELECT 'plugin' AS level, 'plugin:' || plugin AS component, 'plugin' AS kind, plugin,
           sum(calls), sum(errors), sum(result_bytes), exact_sum(requests), exact_sum(total_tokens), exact_sum(cost_usd),
           exact_sum(kept_tokens), exact_sum(overhead_tokens), exact_sum(kept_cost_usd), exact_sum(overhead_cost_usd)
    FROM c WHERE plugin IS NOT NULL GROUP BY plugin
    HAVING NOT small_group($slice, count(DISTINCT user_name), bool_or(user_name = scope()['viewer']))
)
SELECT level, component, kind, plugin, as_count(calls) AS calls, as_count(errors) AS errors,
       CASE WHEN calls > 0 THEN round(errors / calls, 4) END AS error_rate,
       as_count(result_bytes) AS result_bytes,
       round(requests, 2) AS requests, as_count(round(total_tokens)) AS total_tokens, usd(cost_usd) AS cost_usd,
       as_count(round(kept_tokens)) AS kept_tokens,
       useful_ratio(kept_tokens, total_tokens, overhead_tokens) AS useful_output_ratio,
       useful_ratio(kept_cost_usd, cost_usd, overhead_cost_usd) AS useful_cost_ratio
FROM (SELECT * FROM by_component UNION ALL SELECT * FROM by_plugin)
ORDER BY level, total_tokens DESC, component;
