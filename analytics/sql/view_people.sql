-- Per person (analytics/sql/macros.sql people_rows): who is silent stands out, then the active.
SELECT * FROM people_rows($slice, $today, $first_plausible, $last_plausible)
ORDER BY activity = 'active', last_request_at NULLS FIRST, "user";
