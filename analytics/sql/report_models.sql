-- One row per model: our cost (NULL when unpriced, never 0), the source's own cost, price data version.
WITH versions AS (
    SELECT model, string_agg(DISTINCT price_version, '; ' ORDER BY price_version) AS price_version
    FROM model_prices GROUP BY model
),
caveats AS (
    SELECT model, count(*) FILTER (WHERE output_estimated) AS estimated_output_requests,
           count(*) FILTER (WHERE model_is_fallback) AS fallback_model_requests
    FROM caveat_requests($slice) GROUP BY model
)
SELECT u.grp AS model, u.requests, u.sessions, u.input_tokens, u.output_tokens, u.cache_creation_tokens,
       u.cache_read_tokens, u.total_tokens, u.cost_usd, u.source_cost_usd, u.unpriced_requests,
       u.useful_output_ratio, v.price_version,
       coalesce(c.estimated_output_requests, 0) AS estimated_output_requests,
       coalesce(c.fallback_model_requests, 0) AS fallback_model_requests
FROM usage_by($slice, 'model') u
LEFT JOIN versions v ON v.model = u.grp
LEFT JOIN caveats c ON c.model = u.grp
ORDER BY u.cost_usd DESC NULLS LAST, u.total_tokens DESC, model;
