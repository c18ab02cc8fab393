-- One row per team (org directory; people not in it under '(unassigned)'), sorted like people.
SELECT * EXCLUDE (team) RENAME (grp AS team)
FROM usage_by($slice, 'team')
ORDER BY useful_output_ratio ASC NULLS LAST, waste_tokens DESC, team;
