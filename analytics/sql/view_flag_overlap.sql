-- Pairs of flag types whose stretches hold the same requests: in how many sessions, and the spend of
-- those shared requests (each once, at its largest claim). What makes adding per-flag spend too large.
WITH req AS (SELECT * FROM flagged_requests($slice) WHERE len(flags) > 1),
pairs AS (
    SELECT r.session_id, r.cost_usd, a.flag AS flag, b.flag AS other_flag
    FROM req r, unnest(r.flags) AS a(flag), unnest(r.flags) AS b(flag)
    WHERE a.flag < b.flag
)
SELECT flag, other_flag, count(DISTINCT session_id) AS sessions, usd(sum(cost_usd)) AS shared_cost_usd
FROM pairs GROUP BY flag, other_flag
ORDER BY shared_cost_usd DESC NULLS LAST, flag, other_flag;
