-- A 64-bit hash beside each key the ingest writer looks up by value, so that "is any of this
-- batch's keys stored?" (the usual answer for a new session: no) reads one narrow integer column
-- instead of a column of long random strings (714k tool_use_ids: 17 ms against 4 ms). A hash that
-- matches nothing proves the key is not stored; a match is settled by the key itself.
-- The value: the first 16 hex digits of the key's MD5, as an unsigned integer (store/key_hashes.py,
-- key_hash_sql, which every insert of these tables uses; the same expression fills the rows already
-- stored). NULL for a NULL key (a request without a message id).
-- IF NOT EXISTS: a run stopped during the backfill below has added the columns already.
ALTER TABLE requests ADD COLUMN IF NOT EXISTS request_key_hash UBIGINT;
ALTER TABLE requests ADD COLUMN IF NOT EXISTS message_id_hash UBIGINT;
ALTER TABLE tool_calls ADD COLUMN IF NOT EXISTS tool_use_hash UBIGINT;
ALTER TABLE tool_results ADD COLUMN IF NOT EXISTS tool_use_hash UBIGINT;
ALTER TABLE session_events ADD COLUMN IF NOT EXISTS event_key_hash UBIGINT;

-- backfill: one UPDATE of a whole table would hold every changed row in one transaction (370 MB
-- on an 80x180 ledger, growing with it); the runner runs each UPDATE below over ranges of rows, each
-- committed. Each fills only the rows not filled yet, so a run stopped half-way leaves the rest to
-- the next run, and 014 is recorded only once no row is left. The keys are NOT NULL, so a NULL
-- hash is a row not filled yet (a request's two hashes are filled together), and a filled row
-- group is skipped by its statistics alone.
UPDATE requests SET request_key_hash = ('0x' || md5(request_key)[1:16])::UBIGINT,
                    message_id_hash = ('0x' || md5(message_id)[1:16])::UBIGINT
 WHERE request_key_hash IS NULL;
UPDATE tool_calls SET tool_use_hash = ('0x' || md5(tool_use_id)[1:16])::UBIGINT WHERE tool_use_hash IS NULL;
UPDATE tool_results SET tool_use_hash = ('0x' || md5(tool_use_id)[1:16])::UBIGINT WHERE tool_use_hash IS NULL;
UPDATE session_events SET event_key_hash = ('0x' || md5(event_key)[1:16])::UBIGINT WHERE event_key_hash IS NULL;
