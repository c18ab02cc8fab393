-- The spend of kept requests attributed to a component, so the plugins report can say how much of a
-- component's spend bought kept work (useful_cost_ratio), money first, like every other report.
-- Filled by the next refresh: the derivation SQL changed, so every session is derived again.
ALTER TABLE component_day_facts ADD COLUMN kept_cost_usd DOUBLE;
