-- Coverage: per user and UTC day, the Claude Code spend a reference reports (the Admin API usage
-- report, else OTel api_request events) against the spend explained by ingested transcript detail.
-- People are matched across sources through the org directory: a directory row whose user_name or
-- email equals the source's identifier names the person; otherwise the identifier itself does.
-- Explained cost: the source's own figure when OTel gave one (exact), else the priced cost from
-- request_facts (analytics refresh); explained tokens need no prices.
WITH directory AS (
    SELECT user_name, lower(email) AS email, team FROM org_users
),
admin AS (
    SELECT day, coalesce(user_name, actor) AS who,
           exact_sum(cost_usd) AS cost_usd,
           sum(coalesce(input_tokens, 0)::HUGEINT + coalesce(output_tokens, 0) + coalesce(cache_read_tokens, 0)
               + coalesce(cache_creation_tokens, 0)) AS tokens
    FROM admin_usage_daily
    GROUP BY ALL
),
-- An OTel event belongs to the person whose transcript holds its session (the same rule that
-- assigns OTel-only requests), else to its email, which the directory may resolve below.
session_owner AS (
    SELECT session_id, min(user_name) AS user_name FROM requests WHERE source = 'claude' GROUP BY session_id
),
otel AS (
    SELECT o.ts::DATE AS day, coalesce(s.user_name, o.email, o.user_name) AS who, exact_sum(o.cost_usd) AS cost_usd,
           sum(o.input_tokens::HUGEINT + o.output_tokens + o.cache_read_tokens + o.cache_creation_tokens) AS tokens
    FROM otel_requests o
    LEFT JOIN session_owner s ON s.session_id = o.session_id
    GROUP BY ALL
),
detail AS (
    SELECT r.ts::DATE AS day, r.user_name AS who,
           exact_sum(coalesce(r.source_cost_usd, f.cost_usd, 0)) AS cost_usd,
           sum(r.input_tokens::HUGEINT + r.output_tokens + r.cache_creation_tokens + r.cache_read_tokens) AS tokens,
           count(*) AS requests
    FROM requests r
    LEFT JOIN request_facts f ON f.request_key = r.request_key
    WHERE r.source = 'claude'      -- the only agent the Admin API and Claude Code OTel describe
    GROUP BY ALL
),
keyed AS (
    SELECT 'admin' AS part, day, who, cost_usd, tokens, NULL::BIGINT AS requests FROM admin
    UNION ALL SELECT 'otel', day, who, cost_usd, tokens, NULL FROM otel
    UNION ALL SELECT 'detail', day, who, cost_usd, tokens, requests FROM detail
),
person AS (
    SELECT k.*,
           coalesce((SELECT min(d.user_name) FROM directory d WHERE d.user_name = k.who OR d.email = lower(k.who)),
                    k.who) AS user_name
    FROM keyed k
),
per_day AS (
    SELECT day, user_name,
           exact_sum_if(cost_usd, part = 'admin') AS admin_cost_usd,
           exact_sum_if(cost_usd, part = 'otel') AS otel_cost_usd,
           coalesce(exact_sum_if(cost_usd, part = 'detail'), 0) AS explained_cost_usd,
           sum(tokens) FILTER (WHERE part = 'admin') AS admin_tokens,
           sum(tokens) FILTER (WHERE part = 'otel') AS otel_tokens,
           coalesce(sum(tokens) FILTER (WHERE part = 'detail'), 0) AS explained_tokens,
           coalesce(sum(requests) FILTER (WHERE part = 'detail'), 0) AS transcript_requests
    FROM person
    GROUP BY ALL
)
SELECT p.day, person(p.user_name) AS "user", team_of(d.team) AS team,
       usd(p.admin_cost_usd) AS admin_cost_usd, usd(p.otel_cost_usd) AS otel_cost_usd,
       usd(coalesce(p.admin_cost_usd, p.otel_cost_usd)) AS reported_cost_usd,
       usd(p.explained_cost_usd) AS explained_cost_usd,
       usd(coalesce(p.admin_cost_usd, p.otel_cost_usd) - p.explained_cost_usd) AS missing_cost_usd,
       CASE WHEN coalesce(p.admin_cost_usd, p.otel_cost_usd) > 0
            THEN round(p.explained_cost_usd / coalesce(p.admin_cost_usd, p.otel_cost_usd), 4) END AS cost_coverage,
       as_count(p.admin_tokens) AS admin_tokens, as_count(p.otel_tokens) AS otel_tokens,
       as_count(coalesce(p.admin_tokens, p.otel_tokens)) AS reported_tokens,
       as_count(p.explained_tokens) AS explained_tokens,
       CASE WHEN coalesce(p.admin_tokens, p.otel_tokens) > 0
            THEN round(p.explained_tokens / coalesce(p.admin_tokens, p.otel_tokens), 4) END AS token_coverage,
       as_count(p.transcript_requests) AS transcript_requests,
       CASE WHEN p.admin_tokens IS NULL AND p.otel_tokens IS NULL THEN 'no reference'
            WHEN p.explained_tokens = 0 THEN 'no detail'
            WHEN p.explained_tokens < $threshold * coalesce(p.admin_tokens, p.otel_tokens) THEN 'partial'
            ELSE 'covered' END AS status
FROM per_day p
LEFT JOIN directory d ON d.user_name = p.user_name
-- Project, source and model do not apply: a reference reports per person and day only.
WHERE in_period($slice, p.day) AND in_people($slice, p.user_name, team_of(d.team))
ORDER BY p.day, missing_cost_usd DESC NULLS LAST, "user"
