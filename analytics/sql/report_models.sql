-- One row per model: our cost (NULL when unpriced, never 0), the source's own cost, price data version.
WITH versions AS (
    SELECT model, string_agg(DISTINCT price_version, '; ' ORDER BY price_version) AS price_version
    FROM model_prices GROUP BY model
)
SELECT f.model,
       total(f.requests) AS requests,
       count(DISTINCT f.session_id) AS sessions,
       total(f.input_tokens) AS input_tokens,
       total(f.output_tokens) AS output_tokens,
       total(f.cache_creation_tokens) AS cache_creation_tokens,
       total(f.cache_read_tokens) AS cache_read_tokens,
       total(f.total_tokens) AS total_tokens,
       usd(sum(f.cost_usd)) AS cost_usd,
       usd(sum(f.source_cost_usd)) AS source_cost_usd,
       total(f.unpriced_requests) AS unpriced_requests,
       useful_ratio(sum(f.kept_tokens), sum(f.total_tokens)) AS useful_output_ratio,
       any_value(v.price_version) AS price_version
FROM session_days($slice) f
LEFT JOIN versions v ON v.model = f.model
GROUP BY f.model
ORDER BY cost_usd DESC NULLS LAST, total_tokens DESC, f.model;
