-- One row per person. Sorted by useful ratio (lowest first), then waste: never by spend alone.
SELECT * EXCLUDE (users) RENAME (grp AS "user")
FROM usage_by($slice, 'user')
ORDER BY useful_output_ratio ASC NULLS LAST, waste_tokens DESC, "user";
