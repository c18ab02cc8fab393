-- The org directory as the access rules read it (analytics/access/directory.py): every person with
-- their explicit role, then everyone with data (people with data outside the directory are a group
-- of their own, '(unassigned)', whose size small-group protection needs).
SELECT 'person' AS part, o.user_name, o.email, o.team, o.manager, r.role
FROM org_users o LEFT JOIN org_roles r ON r.user_name = o.user_name
UNION ALL
SELECT DISTINCT 'active', user_name, NULL, NULL, NULL, NULL FROM session_day_facts WHERE user_name IS NOT NULL
ORDER BY part DESC, user_name;
