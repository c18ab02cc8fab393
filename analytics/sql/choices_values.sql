-- Every value each filter can take (the sidebar offers them; the CLI resolves names against them),
-- from the rollups the reports read, within the viewer's scope; label is a person's display name
-- from the org directory (none for a pseudonymous viewer). Teams: every team of the directory the
-- viewer may see, then '(unassigned)' when someone with data they may see is in none.
WITH rows AS (
    SELECT f.user_name, f.project, f.source, f.model, o.team, o.display_name
    FROM session_day_facts f LEFT JOIN org_users o ON o.user_name = f.user_name
    WHERE in_scope(f.user_name, team_of(o.team))
),
people AS (SELECT DISTINCT user_name, team, display_name FROM rows)
SELECT dimension, value, label FROM (
    SELECT DISTINCT 'team' AS dimension, team AS value, NULL AS label FROM org_users
    WHERE team IS NOT NULL AND in_scope(NULL, team)
    UNION SELECT DISTINCT 'team', team_of(team), NULL FROM people
    UNION ALL SELECT 'user', person(user_name), CASE WHEN scope()['ipad'] IS NULL THEN display_name END
    FROM people WHERE user_name IS NOT NULL
    UNION ALL SELECT DISTINCT 'project', private_text(project), NULL FROM rows WHERE project IS NOT NULL
    UNION ALL SELECT DISTINCT 'source', source, NULL FROM rows
    UNION ALL SELECT DISTINCT 'model', model, NULL FROM rows WHERE model IS NOT NULL
)
ORDER BY dimension, value = '(unassigned)', value;
