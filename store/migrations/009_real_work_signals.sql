-- What real sessions need to be read right (docs/metrics.md "Turns and outcomes"):
-- * a tool result's kind, because Claude Code writes its own messages as errors of the call:
--   sibling cancellations, permission denials and user rejections are not the tool failing;
-- * a prompt's parentUuid, because a checkpoint rewind is a prompt that re-uses the parent of an
--   earlier prompt (the conversation went back to before it);
-- * the harness's own overhead (prompt suggestions, compaction, warm-ups) as an outcome of its own.

-- cancelled | rejected | denied | error; NULL when the call succeeded (or was ingested before 009).
ALTER TABLE tool_results ADD COLUMN result_kind VARCHAR;

-- The parentUuid of a human prompt (kind 'prompt'); NULL for every other event.
ALTER TABLE session_events ADD COLUMN parent_uuid VARCHAR;

-- request_facts.outcome gains 'overhead'; the rollup carries it like the other outcomes.
ALTER TABLE session_day_facts ADD COLUMN overhead_tokens BIGINT DEFAULT 0;
ALTER TABLE session_day_facts ADD COLUMN overhead_cost_usd DOUBLE;
