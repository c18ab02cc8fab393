-- Pairs of flag types that claim the same requests: in how many sessions, and the spend of those
-- shared requests (each once, at its largest claim). What makes adding per-flag spend too large.
WITH per_type AS MATERIALIZED (
    SELECT flag, session_id, request_key, max(claimed_cost) AS cost
    FROM flag_claims($slice) GROUP BY flag, session_id, request_key
),
shared AS (
    SELECT request_key, max(cost) AS cost FROM per_type GROUP BY request_key HAVING count(*) > 1
)
SELECT a.flag, b.flag AS other_flag, count(DISTINCT a.session_id) AS sessions, usd(sum(x.cost)) AS shared_cost_usd
FROM per_type a
JOIN shared x USING (request_key)
JOIN per_type b ON b.request_key = a.request_key AND a.flag < b.flag
GROUP BY a.flag, b.flag
ORDER BY shared_cost_usd DESC NULLS LAST, a.flag, b.flag;
