-- A flag's tokens add up the requests it covers: a sum of int64 counts, which can pass int64 on a
-- corrupt ledger and would then fail every later refresh. The flags table is small; the rollups the
-- reports scan stay int64 (their sums are capped at derivation, see analytics/sql/macros.sql).
ALTER TABLE flags ALTER COLUMN tokens TYPE HUGEINT;
