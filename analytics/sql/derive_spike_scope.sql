-- usage_spike compares a person's day with their own history, so the people whose days this chunk
-- changes (_spike_users: before and after) are the ones whose spikes are redone, over the stored
-- days of their other sessions (_spike_history) and the chunk's days as derived now. Runs before
-- the chunk's rows are derived (session_day_facts here is the ledger's, as stored). The requests
-- the flags list are looked up once the spikes are known (derive_spikes.sql): a person's whole
-- history of requests is not read. session_day_facts is read whole (no span: it is written chunk by
-- chunk), so the chunk's sessions are joined (_touched, no NULL) rather than looked up in
-- in_touched's list row by row: on an 80x180 org each took ~8 ms that way, ~3 ms joined.
CREATE OR REPLACE TEMP TABLE _spike_users AS
SELECT DISTINCT user_name FROM requests WHERE in_span('requests', rowid) AND in_touched(coalesce(session_id, '(none)'))
UNION
SELECT DISTINCT user_name FROM session_day_facts h SEMI JOIN _touched t ON t.session_id = h.session_id;

CREATE OR REPLACE TEMP TABLE _spike_history AS
SELECT h.user_name, h.day, h.session_id, h.source, h.project, h.first_ts, h.last_ts,
       h.total_tokens, h.kept_tokens, h.overhead_tokens, h.cost_usd, h.unpriced_requests
FROM session_day_facts h
SEMI JOIN _spike_users u ON h.user_name IS NOT DISTINCT FROM u.user_name
ANTI JOIN _touched t ON t.session_id = h.session_id
WHERE h.session_id IS NOT NULL;
