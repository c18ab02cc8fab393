-- One row per session (figures within the period), newest first. A session's source, person and
-- project are chosen deterministically (min, ties of mode by name): a session with OTel-only rows
-- beside its transcript's shows the transcript's agent ('claude' < 'otel'), whatever the row order.
WITH s AS (
    SELECT session_id, min(user_name) AS user_name, min(team) AS team, mode(project ORDER BY project) AS project,
           min(source) AS source, min(first_ts) AS started_at, max(last_ts) AS ended_at,
           total(requests) AS requests, total(total_tokens) AS total_tokens, exact_sum(cost_usd) AS cost_usd,
           total(kept_tokens) AS kept_tokens, total(looping_tokens) AS looping_tokens,
           total(discarded_tokens) AS discarded_tokens, total(idle_tokens) AS idle_tokens,
           total(overhead_tokens) AS overhead_tokens,
           exact_sum(kept_cost_usd) AS kept_cost_usd, exact_sum(overhead_cost_usd) AS overhead_cost_usd,
           waste_cost(exact_sum(cost_usd), exact_sum(looping_cost_usd), exact_sum(discarded_cost_usd),
                      exact_sum(idle_cost_usd)) AS waste_cost_usd,
           total(estimated_output_requests) AS estimated_output_requests,
           total(fallback_model_requests) AS fallback_model_requests
    FROM session_days($slice) GROUP BY session_id
),
fl AS (
    SELECT session_id, string_agg(DISTINCT flag, ',' ORDER BY flag) AS flags
    FROM filtered_flags($slice) GROUP BY session_id
),
-- Spend involved in any flag, each request once (flags overlap: a loop inside a bloated context).
-- Flags have no model: with a model filter, all of the session's flagged requests.
flagged AS (
    SELECT session_id, as_count(round(exact_sum(claimed_tokens))) AS flagged_tokens, exact_sum(claimed_cost) AS flagged_cost_usd
    FROM flagged_requests($slice) GROUP BY session_id
)
SELECT s.session_id, s.user_name AS "user", s.team, s.project, s.source, s.started_at, s.ended_at,
       s.requests, s.total_tokens, usd(s.cost_usd) AS cost_usd, s.kept_tokens, s.looping_tokens,
       s.discarded_tokens, s.idle_tokens, s.overhead_tokens,
       useful_ratio(s.kept_tokens, s.total_tokens, s.overhead_tokens) AS useful_output_ratio,
       coalesce(fl.flags, '') AS flags, coalesce(g.flagged_tokens, 0) AS flagged_tokens,
       usd(g.flagged_cost_usd) AS flagged_cost_usd, s.waste_cost_usd,
       useful_ratio(s.kept_cost_usd, s.cost_usd, s.overhead_cost_usd) AS useful_cost_ratio,
       s.estimated_output_requests, s.fallback_model_requests
FROM s LEFT JOIN fl USING (session_id) LEFT JOIN flagged g USING (session_id)
ORDER BY s.started_at DESC, s.session_id;
