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
-- Overhead is no work of anyone's: the useful-output ratio leaves it out of its denominator, per
-- component too (docs/metrics.md "useful_output_ratio").
ALTER TABLE component_day_facts ADD COLUMN overhead_tokens DOUBLE DEFAULT 0;

-- Which requests each flag covers, so that spend involved in several flags of a session (a loop
-- inside a context_bloat, a zero_output session) can be counted once: the union of their requests.
-- flag_id names one flag (stable across refreshes). tokens/cost_usd are the request's own; a flag
-- counts share x them (1, or for context_bloat 1/n when the request consumed n components' results).
ALTER TABLE flags ADD COLUMN flag_id VARCHAR;
CREATE TABLE flag_requests (
    flag_id             VARCHAR NOT NULL,
    flag                VARCHAR NOT NULL,
    session_id          VARCHAR NOT NULL,
    day                 DATE NOT NULL,
    request_key         VARCHAR NOT NULL,
    share               DOUBLE NOT NULL,
    tokens              BIGINT NOT NULL,
    cost_usd            DOUBLE
);
