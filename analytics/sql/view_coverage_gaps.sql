-- One row (Data health): the person-days whose reported spend the ingested transcripts do not
-- explain ('no detail' or 'partial' in the coverage report) and that unexplained spend, added up.
SELECT count(*) AS gap_days, usd(coalesce(exact_sum(missing_cost_usd), 0)) AS missing_cost_usd
FROM coverage_rows($slice, $threshold)
WHERE status IN ('no detail', 'partial');
