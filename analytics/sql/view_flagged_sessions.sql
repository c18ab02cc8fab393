-- One row per flagged session, most flagged spend first: its flags, its flagged spend with each
-- request once (flagged_cost_usd, macros.sql flagged_requests) beside its flags' own spend added up
-- (flags_cost_usd, larger wherever they overlap), and the session's whole spend.
WITH fl AS (
    SELECT session_id, any_value(user_name) AS user_name, any_value(team) AS team, mode(project) AS project,
           any_value(source) AS source, min(started_at) AS started_at, max(ended_at) AS ended_at,
           string_agg(DISTINCT flag, ',' ORDER BY flag) AS flags, count(*) AS flag_count,
           usd(exact_sum(cost_usd)) AS flags_cost_usd
    FROM filtered_flags($slice) GROUP BY session_id
),
covered AS (
    SELECT session_id, usd(exact_sum(claimed_cost)) AS flagged_cost_usd, as_count(round(exact_sum(claimed_tokens))) AS flagged_tokens
    FROM flagged_requests($slice) GROUP BY session_id
),
whole AS (
    SELECT session_id, usd(exact_sum(cost_usd)) AS cost_usd FROM session_day_facts
    WHERE session_id IN (SELECT session_id FROM fl) GROUP BY session_id
)
SELECT fl.session_id, fl.user_name AS "user", fl.team, fl.project, fl.source, fl.started_at, fl.ended_at,
       fl.flags, fl.flag_count, c.flagged_cost_usd, c.flagged_tokens, fl.flags_cost_usd, w.cost_usd
FROM fl LEFT JOIN covered c USING (session_id) LEFT JOIN whole w USING (session_id)
ORDER BY c.flagged_cost_usd DESC NULLS LAST, fl.started_at DESC, fl.session_id;
