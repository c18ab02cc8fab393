-- usage_spike, recomputed over the whole history of the people whose days this chunk changed
-- (derive_spike_scope.sql; a baseline spans sessions of other runs): a day whose
-- spend (cost in USD; tokens for a person with unpriced requests) exceeds $spike_factor x the person's median over their active days in the previous
-- $baseline_days days (at least $min_baseline_days of them), with a useful ratio under $max_ratio.
-- The flag goes on that day's sessions whose own useful ratio is under $max_ratio. Ratios and
-- evidence numbers use the shared macros (kept_share, number_text), as every report does.
-- The refresh replaces these people's usage_spike flags (and their requests) with the ones inserted here.
CREATE OR REPLACE TEMP TABLE _spike_days AS
SELECT * FROM _spike_history
UNION ALL BY NAME
SELECT user_name, day, session_id, source, project, first_ts, last_ts, total_tokens, kept_tokens, overhead_tokens,
       cost_usd, unpriced_requests
FROM session_day_facts;

CREATE OR REPLACE TEMP TABLE _spikes AS
WITH user_day AS (
    SELECT user_name, day, sum(total_tokens) AS tokens, sum(kept_tokens) AS kept, sum(overhead_tokens) AS overhead,
           exact_sum(cost_usd) AS cost, sum(unpriced_requests) AS unpriced
    FROM _spike_days GROUP BY user_name, day
),
spend AS (
    SELECT *, CASE WHEN bool_or(unpriced > 0) OVER (PARTITION BY user_name) THEN tokens ELSE cost END AS spend,
           CASE WHEN bool_or(unpriced > 0) OVER (PARTITION BY user_name) THEN ' tokens' ELSE ' USD' END AS unit
    FROM user_day
),
baseline AS (
    SELECT *,
           median(spend) OVER w AS base_spend,
           count(*) OVER w AS base_days
    FROM spend
    WINDOW w AS (PARTITION BY user_name ORDER BY day
                 RANGE BETWEEN to_days($baseline_days) PRECEDING AND to_days(1) PRECEDING)
),
spikes AS MATERIALIZED (
    SELECT * FROM baseline
    WHERE base_days >= $min_baseline_days AND spend > $spike_factor * base_spend
      AND kept_share(kept, tokens, overhead) < $max_ratio
),
session_day AS (
    -- The sessions of the spike days alone (a person's whole history held ~5,000 session days on
    -- an 80x180 org, for a dozen spike days): the same groups, as each holds one person and day.
    SELECT d.user_name, d.day, d.session_id, min(d.source) AS source, mode(d.project ORDER BY d.project) AS project,
           min(d.first_ts) AS started_at, max(d.last_ts) AS ended_at,
           sum(d.total_tokens) AS tokens, exact_sum(d.cost_usd) AS cost, sum(d.kept_tokens) AS kept,
           sum(d.overhead_tokens) AS overhead
    FROM _spike_days d
    SEMI JOIN spikes sp ON d.user_name IS NOT DISTINCT FROM sp.user_name AND d.day = sp.day
    GROUP BY d.user_name, d.day, d.session_id
)
SELECT sd.*, flag_key('usage_spike', sd.session_id, sd.day::VARCHAR) AS flag_id,
       'day spend ' || number_text(sp.spend, 4) || sp.unit || ' = ' || number_text(sp.spend / sp.base_spend, 1)
         || 'x this person''s median of ' || number_text(sp.base_spend, 4) || sp.unit || ' over ' || sp.base_days
         || ' active day(s); useful ratio that day ' || number_text(kept_share(sp.kept, sp.tokens, sp.overhead), 2)
         || '; this session ' || number_text(sd.tokens / 1e6, 2) || ' M tokens, useful ratio '
         || number_text(kept_share(sd.kept, sd.tokens, sd.overhead), 2) AS evidence
FROM spikes sp
JOIN session_day sd ON sd.user_name IS NOT DISTINCT FROM sp.user_name AND sd.day = sp.day
WHERE kept_share(sd.kept, sd.tokens, sd.overhead) < $max_ratio;

-- The stored requests of the spikes' other sessions on their spike days (the chunk's are derived
-- now: request_facts): the ledger's tables, which the chunk's TEMP copies hide, are read through
-- _stored_request_facts and _stored_session_day_facts (refresh.py). Found through their people
-- first: request_facts is written person by person, so the people's row groups alone are read.
-- Every request of a session has a day row of its person in session_day_facts (the rollup groups
-- by person), so the people of those sessions' day rows select every one of their requests;
-- requests with no person are taken apart (NULL joins nothing).
CREATE OR REPLACE TEMP TABLE _spike_requests AS
WITH pairs AS MATERIALIZED (
    SELECT DISTINCT session_id, day FROM _spikes WHERE NOT in_touched(session_id)
),
people AS MATERIALIZED (
    SELECT DISTINCT user_name FROM _stored_session_day_facts
    WHERE session_id IN (SELECT session_id FROM pairs) AND user_name IS NOT NULL
)
SELECT f.session_id, f.day, f.request_key, f.total_tokens, f.cost_usd
FROM _stored_request_facts f SEMI JOIN people p ON f.user_name = p.user_name
SEMI JOIN pairs s ON f.session_id = s.session_id AND f.day = s.day
UNION ALL
SELECT f.session_id, f.day, f.request_key, f.total_tokens, f.cost_usd
FROM _stored_request_facts f SEMI JOIN pairs s ON f.session_id = s.session_id AND f.day = s.day
WHERE f.user_name IS NULL;

-- Its requests: the session's requests that day (the chunk's as derived now, the others' as stored).
INSERT INTO flag_requests
SELECT p.flag_id, 'usage_spike', p.session_id, f.day, f.request_key, 1.0, f.total_tokens, f.cost_usd
FROM _spikes p
JOIN (SELECT session_id, day, request_key, total_tokens, cost_usd FROM request_facts
      UNION ALL SELECT session_id, day, request_key, total_tokens, cost_usd FROM _spike_requests) f
  ON f.session_id = p.session_id AND f.day = p.day;

INSERT INTO flags
SELECT session_id, 'usage_spike', user_name, project, source, day, started_at, ended_at, tokens, cost, evidence, flag_id
FROM _spikes;
