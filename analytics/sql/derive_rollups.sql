-- Rollups the reports read (one row per session x day x model [x component]). Token and byte sums
-- are capped at int64 (macros.sql): only a corrupt count reaches it, and it must not fail the refresh.
INSERT INTO session_day_facts (day, session_id, user_name, project, source, model, first_ts, last_ts, requests,
    unpriced_requests, input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens, total_tokens, cost_usd,
    source_cost_usd, kept_tokens, looping_tokens, discarded_tokens, idle_tokens, kept_cost_usd, looping_cost_usd,
    discarded_cost_usd, idle_cost_usd, overhead_tokens, overhead_cost_usd, estimated_output_requests,
    estimated_output_cost_usd, fallback_model_requests, fallback_model_cost_usd)
-- The requests table holds the marks that make a figure a bound: a placeholder output count, a
-- fallback model. The chunk's requests lie within its span (in_span), and request_key is unique
-- there (ingest/writer.py keeps it so). Read apart from the join: in the join's scan, DuckDB's own
-- filter on the keys kept the span from skipping any row group (a one-session chunk read all 0.67 M
-- requests of an 80x180 org, 0.020 s instead of 0.002 s; a whole 80x180 chunk, 0.19 s instead of 0.13 s).
WITH marks AS MATERIALIZED (
    SELECT request_key, output_estimated, model_is_fallback FROM requests WHERE in_span('requests', rowid)
)
SELECT day, session_id, user_name, project, source, model,
       min(ts), max(ts), count(*), count(*) FILTER (WHERE cost_usd IS NULL),
       capped(sum(input_tokens)), capped(sum(output_tokens)), capped(sum(cache_creation_tokens)),
       capped(sum(cache_read_tokens)), capped(sum(total_tokens)),
       exact_sum(cost_usd), exact_sum(source_cost_usd),
       capped(coalesce(sum(total_tokens) FILTER (WHERE outcome = 'kept'), 0)),
       capped(coalesce(sum(total_tokens) FILTER (WHERE outcome = 'looping'), 0)),
       capped(coalesce(sum(total_tokens) FILTER (WHERE outcome = 'discarded'), 0)),
       capped(coalesce(sum(total_tokens) FILTER (WHERE outcome = 'idle'), 0)),
       exact_sum_if(cost_usd, outcome = 'kept'),
       exact_sum_if(cost_usd, outcome = 'looping'),
       exact_sum_if(cost_usd, outcome = 'discarded'),
       exact_sum_if(cost_usd, outcome = 'idle'),
       capped(coalesce(sum(total_tokens) FILTER (WHERE outcome = 'overhead'), 0)),
       exact_sum_if(cost_usd, outcome = 'overhead'),
       count(*) FILTER (WHERE output_estimated), exact_sum_if(cost_usd, output_estimated),
       count(*) FILTER (WHERE model_is_fallback), exact_sum_if(cost_usd, model_is_fallback)
-- request_facts here holds the chunk's requests alone (derive_outcomes filled it from _req).
FROM request_facts JOIN marks USING (request_key)
GROUP BY day, session_id, user_name, project, source, model;

INSERT INTO component_day_facts (day, session_id, user_name, project, source, model, component, component_kind,
    plugin, calls, errors, result_bytes, requests, total_tokens, cost_usd, kept_tokens, overhead_tokens, kept_cost_usd,
    overhead_cost_usd)
WITH attributed AS (
    SELECT f.day, f.session_id, f.user_name, f.project, f.source, f.model,
           a.component, a.component_kind, a.plugin,
           0 AS calls, 0 AS errors, 0 AS result_bytes,
           a.share AS requests, a.share * f.total_tokens AS total_tokens, a.share * f.cost_usd AS cost_usd,
           CASE WHEN f.outcome = 'kept' THEN a.share * f.total_tokens ELSE 0 END AS kept_tokens,
           CASE WHEN f.outcome = 'overhead' THEN a.share * f.total_tokens ELSE 0 END AS overhead_tokens,
           CASE WHEN f.outcome = 'kept' THEN a.share * f.cost_usd ELSE 0 END AS kept_cost_usd,
           CASE WHEN f.outcome = 'overhead' THEN a.share * f.cost_usd ELSE 0 END AS overhead_cost_usd
    FROM request_facts f JOIN _attr a ON a.request_key = f.request_key
),
called AS (
    SELECT c.day, c.sid AS session_id, c.user_name, c.project, c.source, c.model,
           c.component, c.component_kind, c.plugin,
           -- errors are the tool failing: not cancelled siblings, denials or the user's rejections
           1 AS calls, CASE WHEN c.result_kind = 'error' THEN 1 ELSE 0 END AS errors, c.result_bytes,
           0.0 AS requests, 0.0 AS total_tokens, NULL::DOUBLE AS cost_usd, 0.0 AS kept_tokens, 0.0 AS overhead_tokens,
           NULL::DOUBLE AS kept_cost_usd, NULL::DOUBLE AS overhead_cost_usd
    FROM _calls c
)
SELECT day, session_id, user_name, project, source, model, component, component_kind, any_value(plugin),
       sum(calls), sum(errors), capped(sum(result_bytes)), exact_sum(requests), exact_sum(total_tokens), exact_sum(cost_usd),
       exact_sum(kept_tokens), exact_sum(overhead_tokens), exact_sum(kept_cost_usd), exact_sum(overhead_cost_usd)
FROM (SELECT * FROM attributed UNION ALL BY NAME SELECT * FROM called)
GROUP BY day, session_id, user_name, project, source, model, component, component_kind;
