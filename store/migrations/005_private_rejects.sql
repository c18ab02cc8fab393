-- A rejected line is often prompt text: by default only its hash and length are kept; `head`
-- (its first 200 bytes, secrets scrubbed) only when prompts are opted in (--store-prompts).
ALTER TABLE rejects ADD COLUMN line_hash VARCHAR;
ALTER TABLE rejects ADD COLUMN line_bytes BIGINT;
