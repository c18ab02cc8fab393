-- Per person (everyone in the org directory, everyone with data, everyone whose files were read):
-- when their newest request was made (on a plausible day: a wrong clock must not make anyone look
-- active), how long ago that is, and what the period holds from them. Who is silent stands out.
WITH directory AS (
    SELECT user_name, display_name, team FROM org_users
),
seen AS (
    SELECT user_name, max(last_ts) AS last_request_at FROM session_day_facts
    WHERE day BETWEEN $first_plausible AND $last_plausible GROUP BY user_name
),
files AS (
    SELECT DISTINCT user_name FROM source_files WHERE user_name IS NOT NULL AND source <> 'unrecognised'
),
people AS (
    SELECT user_name FROM directory UNION SELECT user_name FROM seen UNION SELECT user_name FROM files
),
period AS (
    SELECT user_name, count(DISTINCT session_id) AS sessions, usd(sum(cost_usd)) AS cost_usd
    FROM session_days($slice) GROUP BY user_name
)
SELECT p.user_name AS "user", d.display_name AS name, team_of(d.team) AS team, d.user_name IS NOT NULL AS in_directory,
       s.last_request_at, date_diff('day', s.last_request_at::DATE, $today) AS days_silent,
       coalesce(w.sessions, 0) AS sessions, w.cost_usd,
       CASE WHEN w.sessions IS NOT NULL THEN 'active'
            WHEN s.last_request_at IS NOT NULL THEN 'no data in the period'
            WHEN p.user_name IN (SELECT user_name FROM files) THEN 'files but no requests'
            ELSE 'no data at all' END AS activity
FROM people p
LEFT JOIN directory d ON d.user_name = p.user_name
LEFT JOIN seen s ON s.user_name = p.user_name
LEFT JOIN period w ON w.user_name = p.user_name
WHERE p.user_name IS NOT NULL AND in_people($slice, p.user_name, team_of(d.team))
ORDER BY w.sessions IS NOT NULL, s.last_request_at NULLS FIRST, p.user_name;
