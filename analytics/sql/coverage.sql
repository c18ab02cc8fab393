-- The coverage report: per person and day, reported Claude Code spend against what transcripts
-- explain (macros.sql coverage_rows, where it is defined once; the Data health gaps add it up).
SELECT * FROM coverage_rows($slice, $threshold)
ORDER BY day, missing_cost_usd DESC NULLS LAST, "user";
