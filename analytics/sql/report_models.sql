-- One row per model: our cost (NULL when unpriced, never 0), the source's own cost, price data version.
WITH versions AS (
    SELECT model, string_agg(DISTINCT price_version, '; ' ORDER BY price_version) AS price_version
    FROM model_prices GROUP BY model
)
SELECT u.grp AS model, u.requests, u.sessions, u.input_tokens, u.output_tokens, u.cache_creation_tokens,
       u.cache_read_tokens, u.total_tokens, u.cost_usd, u.source_cost_usd, u.unpriced_requests,
       u.useful_output_ratio, v.price_version,
       u.estimated_output_requests, u.fallback_model_requests
FROM usage_by($slice, 'model') u
LEFT JOIN versions v ON v.model = u.grp
ORDER BY u.cost_usd DESC NULLS LAST, u.total_tokens DESC, model;
