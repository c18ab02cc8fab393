-- Every value each filter can take (the sidebar offers them; the CLI resolves names against them),
-- from the rollups the reports read; label is a person's display name from the org directory.
-- Teams: every team of the directory, then '(unassigned)' when someone with data is in none.
WITH people AS (
    SELECT DISTINCT f.user_name, o.team, o.display_name
    FROM session_day_facts f LEFT JOIN org_users o ON o.user_name = f.user_name
)
SELECT dimension, value, label FROM (
    SELECT DISTINCT 'team' AS dimension, team AS value, NULL AS label FROM org_users WHERE team IS NOT NULL
    UNION ALL SELECT DISTINCT 'team', team_of(team), NULL FROM people WHERE team IS NULL
    UNION ALL SELECT 'user', user_name, display_name FROM people WHERE user_name IS NOT NULL
    UNION ALL SELECT DISTINCT 'project', project, NULL FROM session_day_facts WHERE project IS NOT NULL
    UNION ALL SELECT DISTINCT 'source', source, NULL FROM session_day_facts
    UNION ALL SELECT DISTINCT 'model', model, NULL FROM session_day_facts WHERE model IS NOT NULL
)
ORDER BY dimension, value = '(unassigned)', value;
