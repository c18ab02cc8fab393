-- The first and last day holding data, among plausible days only: a line from a wrong clock (dated
-- 2100, or before any agent existed) must not move the default period.
SELECT min(day) AS first_day, max(day) AS last_day
FROM session_day_facts
WHERE day BETWEEN $first_plausible AND $last_plausible;
