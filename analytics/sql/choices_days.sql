-- The first and last day holding data, among plausible days only: a line from a wrong clock (dated
-- 2100, or before any agent existed) must not move the default period.
SELECT min(f.day) AS first_day, max(f.day) AS last_day
FROM session_day_facts f LEFT JOIN org_users o ON o.user_name = f.user_name
WHERE f.day BETWEEN $first_plausible AND $last_plausible AND in_scope(f.user_name, team_of(o.team));
