-- Rollup columns the manager dashboard reads (docs/metrics.md), filled by the next refresh: the
-- derivation SQL changed, so every session is derived again.
-- * The spend of kept requests attributed to a component, so the plugins report can say how much of
--   a component's spend bought kept work (useful_cost_ratio), money first, like every other report.
ALTER TABLE component_day_facts ADD COLUMN kept_cost_usd DOUBLE;
-- * ... and of overhead (Claude Code's own agents), which that ratio leaves out of its denominator as
--   every useful ratio does (macros.sql kept_share).
ALTER TABLE component_day_facts ADD COLUMN overhead_cost_usd DOUBLE;
-- * Requests whose figures are a bound, not exact, counted where the reports read: output counts that
--   are a placeholder (formats.md 1.6) and Codex requests priced with a fallback model. Counted at
--   derivation so no report joins the requests table.
ALTER TABLE session_day_facts ADD COLUMN estimated_output_requests BIGINT DEFAULT 0;
ALTER TABLE session_day_facts ADD COLUMN estimated_output_cost_usd DOUBLE;
ALTER TABLE session_day_facts ADD COLUMN fallback_model_requests BIGINT DEFAULT 0;
ALTER TABLE session_day_facts ADD COLUMN fallback_model_cost_usd DOUBLE;
