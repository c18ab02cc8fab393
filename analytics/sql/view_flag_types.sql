-- Per flag type: flags, sessions, the spend its flags involve added up (cost_usd; flags of one type
-- can overlap too), the same counting each request once (distinct_cost_usd), and how much of that
-- other flag types cover as well (shared_cost_usd, with whom: overlaps_with). From the requests each
-- flag covers (macros.sql flag_spend), a request at most once per type.
WITH own AS (
    SELECT flag, count(*) AS flags, count(DISTINCT session_id) AS sessions, usd(exact_sum(cost_usd)) AS cost_usd,
           total(tokens) AS tokens
    FROM filtered_flags($slice) GROUP BY flag
    HAVING NOT small_group($slice, count(DISTINCT user_name), bool_or(user_name = scope()['viewer']))
),
per_type AS MATERIALIZED (
    SELECT flag, request_key, least(1.0, exact_sum(share)) * any_value(cost_usd) AS cost
    FROM flag_spend($slice) GROUP BY flag, request_key
),
shared AS (
    SELECT request_key FROM per_type GROUP BY request_key HAVING count(*) > 1
),
claimed AS (
    SELECT p.flag, usd(exact_sum(p.cost)) AS distinct_cost_usd,
           usd(coalesce(exact_sum_if(p.cost, x.request_key IS NOT NULL), 0)) AS shared_cost_usd
    FROM per_type p LEFT JOIN shared x USING (request_key) GROUP BY p.flag
),
partners AS (
    SELECT a.flag, string_agg(DISTINCT b.flag, ', ' ORDER BY b.flag) AS overlaps_with
    FROM per_type a
    JOIN shared x USING (request_key)
    JOIN per_type b ON b.request_key = a.request_key AND b.flag <> a.flag
    GROUP BY a.flag
)
SELECT o.flag, o.flags, o.sessions, o.cost_usd, o.tokens, c.distinct_cost_usd, c.shared_cost_usd,
       coalesce(t.overlaps_with, '') AS overlaps_with
FROM own o LEFT JOIN claimed c USING (flag) LEFT JOIN partners t USING (flag)
ORDER BY o.cost_usd DESC NULLS LAST, o.flag;
