-- usage_spike, recomputed over all history (a baseline spans sessions of other runs) of each person
-- whose sessions were derived again (before or after, a session can change person): a day whose
-- spend (cost in USD; tokens for a person with unpriced requests) exceeds $spike_factor x the person's median over their active days in the previous
-- $baseline_days days (at least $min_baseline_days of them), with a useful ratio under $max_ratio.
-- The flag goes on that day's sessions whose own useful ratio is under $max_ratio. Ratios and
-- evidence numbers use the shared macros (kept_share, number_text), as every report does.
CREATE OR REPLACE TEMP TABLE _spike_people AS
SELECT user_name FROM _touched_people
UNION SELECT user_name FROM session_day_facts WHERE session_id IN (SELECT session_id FROM _touched);

-- Their requests first: flag_requests names a flag by its id, and the ids are those of the flags
-- about to go.
DELETE FROM flag_requests WHERE flag = 'usage_spike'
  AND flag_id IN (SELECT f.flag_id FROM flags f
                  WHERE f.flag = 'usage_spike'
                    AND EXISTS (SELECT 1 FROM _spike_people p WHERE p.user_name IS NOT DISTINCT FROM f.user_name));

DELETE FROM flags WHERE flag = 'usage_spike'
  AND EXISTS (SELECT 1 FROM _spike_people p WHERE p.user_name IS NOT DISTINCT FROM flags.user_name);

CREATE OR REPLACE TEMP TABLE _spikes AS
WITH facts AS (
    SELECT * FROM session_day_facts f
    WHERE EXISTS (SELECT 1 FROM _spike_people p WHERE p.user_name IS NOT DISTINCT FROM f.user_name)
),
user_day AS (
    SELECT user_name, day, sum(total_tokens) AS tokens, sum(kept_tokens) AS kept, sum(overhead_tokens) AS overhead,
           exact_sum(cost_usd) AS cost, sum(unpriced_requests) AS unpriced
    FROM facts GROUP BY user_name, day
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
spikes AS (
    SELECT * FROM baseline
    WHERE base_days >= $min_baseline_days AND spend > $spike_factor * base_spend
      AND kept_share(kept, tokens, overhead) < $max_ratio
),
session_day AS (
    SELECT user_name, day, session_id, min(source) AS source, mode(project ORDER BY project) AS project,
           min(first_ts) AS started_at, max(last_ts) AS ended_at,
           sum(total_tokens) AS tokens, exact_sum(cost_usd) AS cost, sum(kept_tokens) AS kept,
           sum(overhead_tokens) AS overhead
    FROM facts GROUP BY user_name, day, session_id
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

-- Its requests: the session's requests that day.
INSERT INTO flag_requests
SELECT p.flag_id, 'usage_spike', p.session_id, f.day, f.request_key, 1.0, f.total_tokens, f.cost_usd
FROM _spikes p JOIN request_facts f ON f.session_id = p.session_id AND f.day = p.day;

INSERT INTO flags
SELECT session_id, 'usage_spike', user_name, project, source, day, started_at, ended_at, tokens, cost, evidence, flag_id
FROM _spikes;
