-- Pairs of flag types that cover the same requests: in how many sessions, and the spend of those
-- shared requests (each once, as the flagged spend counts it: macros.sql flagged_requests). What
-- makes adding per-flag spend too large.
WITH per_type AS MATERIALIZED (
    SELECT DISTINCT flag, session_id, request_key, user_name FROM flag_spend($slice)
),
shared AS (
    SELECT r.request_key, any_value(r.claimed_cost) AS cost
    FROM flagged_requests($slice) r JOIN per_type p USING (request_key)
    GROUP BY r.request_key HAVING count(*) > 1
)
SELECT a.flag, b.flag AS other_flag, count(DISTINCT a.session_id) AS sessions, usd(exact_sum(x.cost)) AS shared_cost_usd
FROM per_type a
JOIN shared x USING (request_key)
JOIN per_type b ON b.request_key = a.request_key AND a.flag < b.flag
GROUP BY a.flag, b.flag
HAVING NOT small_group($slice, count(DISTINCT a.user_name), bool_or(a.user_name = scope()['viewer']))
ORDER BY shared_cost_usd DESC NULLS LAST, a.flag, b.flag;
