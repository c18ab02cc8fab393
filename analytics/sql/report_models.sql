-- One row per model: our cost (NULL when unpriced, never 0), the source's own cost, price data version.
WITH versions AS (
    SELECT model, string_agg(DISTINCT price_version, '; ' ORDER BY price_version) AS price_version
    FROM model_prices GROUP BY model
)
SELECT f.model,
       sum(f.requests)::BIGINT AS requests,
       count(DISTINCT f.session_id) AS sessions,
       sum(f.input_tokens)::BIGINT AS input_tokens,
       sum(f.output_tokens)::BIGINT AS output_tokens,
       sum(f.cache_creation_tokens)::BIGINT AS cache_creation_tokens,
       sum(f.cache_read_tokens)::BIGINT AS cache_read_tokens,
       sum(f.total_tokens)::BIGINT AS total_tokens,
       usd(sum(f.cost_usd)) AS cost_usd,
       usd(sum(f.source_cost_usd)) AS source_cost_usd,
       sum(f.unpriced_requests)::BIGINT AS unpriced_requests,
       useful_ratio(sum(f.kept_tokens)::BIGINT, sum(f.total_tokens)::BIGINT) AS useful_output_ratio,
       any_value(v.price_version) AS price_version
FROM session_days($date_from, $date_to, $team, $user, $project, $source, $model) f
LEFT JOIN versions v ON v.model = f.model
GROUP BY f.model
ORDER BY cost_usd DESC NULLS LAST, total_tokens DESC, f.model;
