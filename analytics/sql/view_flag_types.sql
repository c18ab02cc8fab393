-- Per flag type: flags, sessions, the spend its flags involve added up (cost_usd; flags of one type
-- can overlap too), the same counting each request once (distinct_cost_usd), and how much of that
-- other flag types claim as well (shared_cost_usd, with whom: overlaps_with).
WITH own AS (
    SELECT flag, count(*) AS flags, count(DISTINCT session_id) AS sessions, usd(sum(cost_usd)) AS cost_usd,
           total(tokens) AS tokens
    FROM filtered_flags($slice) GROUP BY flag
),
per_type AS MATERIALIZED (
    SELECT flag, request_key, max(claimed_cost) AS cost FROM flag_claims($slice) GROUP BY flag, request_key
),
requests AS (
    SELECT request_key, list_sort(list_distinct(list(flag))) AS flags FROM per_type GROUP BY request_key
),
claimed AS (
    SELECT p.flag, usd(sum(p.cost)) AS distinct_cost_usd,
           usd(coalesce(sum(p.cost) FILTER (WHERE len(q.flags) > 1), 0)) AS shared_cost_usd,
           list_sort(list_distinct(flatten(list(q.flags)))) AS together
    FROM per_type p JOIN requests q USING (request_key) GROUP BY p.flag
)
SELECT o.flag, o.flags, o.sessions, o.cost_usd, o.tokens, c.distinct_cost_usd, c.shared_cost_usd,
       array_to_string(list_filter(coalesce(c.together, []), x -> x <> o.flag), ', ') AS overlaps_with
FROM own o LEFT JOIN claimed c USING (flag)
ORDER BY o.cost_usd DESC NULLS LAST, o.flag;
