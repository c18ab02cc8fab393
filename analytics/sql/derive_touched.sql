-- The sessions of this chunk (chunk_sessions, taken from derive_queue by analytics/refresh.py):
-- the only ones whose derived rows this pass computes. The steps select their rows with
-- in_touched(sid), which refresh.py defines per chunk: a list the table scan filters on for a few
-- sessions (so a 15-minute run reads what is new, not the ledger), a join for many; and the fact
-- tables' scans read only the row groups within the chunk's span (in_span: refresh.py SPANS).
CREATE OR REPLACE TEMP TABLE _touched AS
SELECT DISTINCT session_id FROM chunk_sessions;
