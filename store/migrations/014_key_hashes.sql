-- A 64-bit hash beside each key the ingest writer looks up by value, so that "is any of this
-- batch's keys stored?" (the usual answer for a new session: no) reads one narrow integer column
-- instead of a column of long random strings (714k tool_use_ids: 17 ms against 4 ms). A hash that
-- matches nothing proves the key is not stored; a match is settled by the key itself.
-- The value: the first 16 hex digits of the key's MD5, as an unsigned integer (store/key_hashes.py,
-- key_hash_sql, which every insert of these tables uses; the same expression fills the rows already
-- stored). NULL for a NULL key (a request without a message id).
ALTER TABLE requests ADD COLUMN request_key_hash UBIGINT;
ALTER TABLE requests ADD COLUMN message_id_hash UBIGINT;
UPDATE requests SET request_key_hash = ('0x' || md5(request_key)[1:16])::UBIGINT,
                    message_id_hash = ('0x' || md5(message_id)[1:16])::UBIGINT;

ALTER TABLE tool_calls ADD COLUMN tool_use_hash UBIGINT;
UPDATE tool_calls SET tool_use_hash = ('0x' || md5(tool_use_id)[1:16])::UBIGINT;

ALTER TABLE tool_results ADD COLUMN tool_use_hash UBIGINT;
UPDATE tool_results SET tool_use_hash = ('0x' || md5(tool_use_id)[1:16])::UBIGINT;

ALTER TABLE session_events ADD COLUMN event_key_hash UBIGINT;
UPDATE session_events SET event_key_hash = ('0x' || md5(event_key)[1:16])::UBIGINT;
