-- Token sums in the derived tables are 128-bit: one request's four int64 counts, or a session-day's
-- requests, can add up beyond int64, and an overflow there would fail every later refresh. Reports
-- still show int64 (analytics/sql/macros.sql `total`). Per-kind counts of one request stay int64,
-- as the ledger stores them.
ALTER TABLE request_facts ALTER COLUMN total_tokens TYPE HUGEINT;

ALTER TABLE session_day_facts ALTER COLUMN input_tokens TYPE HUGEINT;
ALTER TABLE session_day_facts ALTER COLUMN output_tokens TYPE HUGEINT;
ALTER TABLE session_day_facts ALTER COLUMN cache_creation_tokens TYPE HUGEINT;
ALTER TABLE session_day_facts ALTER COLUMN cache_read_tokens TYPE HUGEINT;
ALTER TABLE session_day_facts ALTER COLUMN total_tokens TYPE HUGEINT;
ALTER TABLE session_day_facts ALTER COLUMN kept_tokens TYPE HUGEINT;
ALTER TABLE session_day_facts ALTER COLUMN looping_tokens TYPE HUGEINT;
ALTER TABLE session_day_facts ALTER COLUMN discarded_tokens TYPE HUGEINT;
ALTER TABLE session_day_facts ALTER COLUMN idle_tokens TYPE HUGEINT;

ALTER TABLE flags ALTER COLUMN tokens TYPE HUGEINT;
