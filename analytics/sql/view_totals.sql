-- Sessions and spend of a slice, from the rollups only: what the sidebar says a period holds, next to
-- what the whole slice holds (cheap enough to ask twice on every page).
SELECT count(DISTINCT session_id) AS sessions, usd(exact_sum(cost_usd)) AS cost_usd
FROM session_days($slice)
HAVING NOT small_group($slice, count(DISTINCT user_name), bool_or(user_name = scope()['viewer']));
