-- Scale: the tables that grow with usage lose their PRIMARY KEYs, and derivation gets a work queue.
--
-- Keys: DuckDB keeps a PRIMARY KEY as an ART index that every checkpoint rewrites whole, so each
-- write window (one batch, one derive chunk) cost time in proportion to the ledger, not to what it
-- wrote (650k requests: ~0.1 s of CPU per index per window). No statement relies on them (the
-- writer states idempotency itself: ingest/writer.py), and a DuckLake catalog has none either.
-- DuckDB cannot drop a key, so each table is copied without it; its defaults and NOT NULLs are set
-- again (columns other migrations added are kept by the copy).
DROP INDEX IF EXISTS otel_requests_request_id;

ALTER TABLE requests RENAME TO requests__keyed;
CREATE TABLE requests AS SELECT * FROM requests__keyed;
DROP TABLE requests__keyed;
ALTER TABLE requests ALTER COLUMN request_key SET NOT NULL;
ALTER TABLE requests ALTER COLUMN source SET NOT NULL;
ALTER TABLE requests ALTER COLUMN is_sidechain SET DEFAULT FALSE;
ALTER TABLE requests ALTER COLUMN is_sidechain SET NOT NULL;
ALTER TABLE requests ALTER COLUMN ts SET NOT NULL;
ALTER TABLE requests ALTER COLUMN input_tokens SET DEFAULT 0;
ALTER TABLE requests ALTER COLUMN input_tokens SET NOT NULL;
ALTER TABLE requests ALTER COLUMN output_tokens SET DEFAULT 0;
ALTER TABLE requests ALTER COLUMN output_tokens SET NOT NULL;
ALTER TABLE requests ALTER COLUMN cache_creation_tokens SET DEFAULT 0;
ALTER TABLE requests ALTER COLUMN cache_creation_tokens SET NOT NULL;
ALTER TABLE requests ALTER COLUMN cache_read_tokens SET DEFAULT 0;
ALTER TABLE requests ALTER COLUMN cache_read_tokens SET NOT NULL;
ALTER TABLE requests ALTER COLUMN output_estimated SET DEFAULT FALSE;
ALTER TABLE requests ALTER COLUMN output_estimated SET NOT NULL;
ALTER TABLE requests ALTER COLUMN model_is_fallback SET DEFAULT FALSE;
ALTER TABLE requests ALTER COLUMN model_is_fallback SET NOT NULL;
ALTER TABLE requests ALTER COLUMN run_id SET NOT NULL;

ALTER TABLE tool_calls RENAME TO tool_calls__keyed;
CREATE TABLE tool_calls AS SELECT * FROM tool_calls__keyed;
DROP TABLE tool_calls__keyed;
ALTER TABLE tool_calls ALTER COLUMN tool_use_id SET NOT NULL;
ALTER TABLE tool_calls ALTER COLUMN source SET NOT NULL;
ALTER TABLE tool_calls ALTER COLUMN is_sidechain SET DEFAULT FALSE;
ALTER TABLE tool_calls ALTER COLUMN is_sidechain SET NOT NULL;
ALTER TABLE tool_calls ALTER COLUMN ts SET NOT NULL;
ALTER TABLE tool_calls ALTER COLUMN tool_name SET NOT NULL;
ALTER TABLE tool_calls ALTER COLUMN component SET NOT NULL;
ALTER TABLE tool_calls ALTER COLUMN component_kind SET NOT NULL;
ALTER TABLE tool_calls ALTER COLUMN run_id SET NOT NULL;

ALTER TABLE tool_results RENAME TO tool_results__keyed;
CREATE TABLE tool_results AS SELECT * FROM tool_results__keyed;
DROP TABLE tool_results__keyed;
ALTER TABLE tool_results ALTER COLUMN tool_use_id SET NOT NULL;
ALTER TABLE tool_results ALTER COLUMN source SET NOT NULL;
ALTER TABLE tool_results ALTER COLUMN is_error SET DEFAULT FALSE;
ALTER TABLE tool_results ALTER COLUMN is_error SET NOT NULL;
ALTER TABLE tool_results ALTER COLUMN interrupted SET DEFAULT FALSE;
ALTER TABLE tool_results ALTER COLUMN interrupted SET NOT NULL;
ALTER TABLE tool_results ALTER COLUMN result_bytes SET DEFAULT 0;
ALTER TABLE tool_results ALTER COLUMN result_bytes SET NOT NULL;
ALTER TABLE tool_results ALTER COLUMN run_id SET NOT NULL;

ALTER TABLE session_events RENAME TO session_events__keyed;
CREATE TABLE session_events AS SELECT * FROM session_events__keyed;
DROP TABLE session_events__keyed;
ALTER TABLE session_events ALTER COLUMN event_key SET NOT NULL;
ALTER TABLE session_events ALTER COLUMN source SET NOT NULL;
ALTER TABLE session_events ALTER COLUMN is_sidechain SET DEFAULT FALSE;
ALTER TABLE session_events ALTER COLUMN is_sidechain SET NOT NULL;
ALTER TABLE session_events ALTER COLUMN ts SET NOT NULL;
ALTER TABLE session_events ALTER COLUMN kind SET NOT NULL;
ALTER TABLE session_events ALTER COLUMN run_id SET NOT NULL;

ALTER TABLE agents RENAME TO agents__keyed;
CREATE TABLE agents AS SELECT * FROM agents__keyed;
DROP TABLE agents__keyed;
ALTER TABLE agents ALTER COLUMN agent_id SET NOT NULL;
ALTER TABLE agents ALTER COLUMN source SET NOT NULL;
ALTER TABLE agents ALTER COLUMN is_warmup SET DEFAULT FALSE;
ALTER TABLE agents ALTER COLUMN is_warmup SET NOT NULL;
ALTER TABLE agents ALTER COLUMN run_id SET NOT NULL;

ALTER TABLE rejects RENAME TO rejects__keyed;
CREATE TABLE rejects AS SELECT * FROM rejects__keyed;
DROP TABLE rejects__keyed;
ALTER TABLE rejects ALTER COLUMN path SET NOT NULL;
ALTER TABLE rejects ALTER COLUMN byte_offset SET NOT NULL;
ALTER TABLE rejects ALTER COLUMN line_no SET NOT NULL;
ALTER TABLE rejects ALTER COLUMN reason SET NOT NULL;
ALTER TABLE rejects ALTER COLUMN run_id SET NOT NULL;

ALTER TABLE source_files RENAME TO source_files__keyed;
CREATE TABLE source_files AS SELECT * FROM source_files__keyed;
DROP TABLE source_files__keyed;
ALTER TABLE source_files ALTER COLUMN path SET NOT NULL;
ALTER TABLE source_files ALTER COLUMN source SET NOT NULL;
ALTER TABLE source_files ALTER COLUMN size SET NOT NULL;
ALTER TABLE source_files ALTER COLUMN mtime_ns SET NOT NULL;
ALTER TABLE source_files ALTER COLUMN head_hash SET NOT NULL;
ALTER TABLE source_files ALTER COLUMN offset_loaded SET NOT NULL;
ALTER TABLE source_files ALTER COLUMN lines_loaded SET NOT NULL;
ALTER TABLE source_files ALTER COLUMN missing SET DEFAULT FALSE;

ALTER TABLE otel_requests RENAME TO otel_requests__keyed;
CREATE TABLE otel_requests AS SELECT * FROM otel_requests__keyed;
DROP TABLE otel_requests__keyed;
ALTER TABLE otel_requests ALTER COLUMN event_key SET NOT NULL;
ALTER TABLE otel_requests ALTER COLUMN ts SET NOT NULL;
ALTER TABLE otel_requests ALTER COLUMN input_tokens SET DEFAULT 0;
ALTER TABLE otel_requests ALTER COLUMN input_tokens SET NOT NULL;
ALTER TABLE otel_requests ALTER COLUMN output_tokens SET DEFAULT 0;
ALTER TABLE otel_requests ALTER COLUMN output_tokens SET NOT NULL;
ALTER TABLE otel_requests ALTER COLUMN cache_read_tokens SET DEFAULT 0;
ALTER TABLE otel_requests ALTER COLUMN cache_read_tokens SET NOT NULL;
ALTER TABLE otel_requests ALTER COLUMN cache_creation_tokens SET DEFAULT 0;
ALTER TABLE otel_requests ALTER COLUMN cache_creation_tokens SET NOT NULL;
ALTER TABLE otel_requests ALTER COLUMN run_id SET NOT NULL;

ALTER TABLE tool_decisions RENAME TO tool_decisions__keyed;
CREATE TABLE tool_decisions AS SELECT * FROM tool_decisions__keyed;
DROP TABLE tool_decisions__keyed;
ALTER TABLE tool_decisions ALTER COLUMN decision_key SET NOT NULL;
ALTER TABLE tool_decisions ALTER COLUMN source SET NOT NULL;
ALTER TABLE tool_decisions ALTER COLUMN ts SET NOT NULL;
ALTER TABLE tool_decisions ALTER COLUMN run_id SET NOT NULL;

ALTER TABLE otel_metric_points RENAME TO otel_metric_points__keyed;
CREATE TABLE otel_metric_points AS SELECT * FROM otel_metric_points__keyed;
DROP TABLE otel_metric_points__keyed;
ALTER TABLE otel_metric_points ALTER COLUMN point_key SET NOT NULL;
ALTER TABLE otel_metric_points ALTER COLUMN metric SET NOT NULL;
ALTER TABLE otel_metric_points ALTER COLUMN temporality SET NOT NULL;
ALTER TABLE otel_metric_points ALTER COLUMN series_key SET NOT NULL;
ALTER TABLE otel_metric_points ALTER COLUMN ts SET NOT NULL;
ALTER TABLE otel_metric_points ALTER COLUMN value SET NOT NULL;
ALTER TABLE otel_metric_points ALTER COLUMN run_id SET NOT NULL;

ALTER TABLE admin_usage_daily RENAME TO admin_usage_daily__keyed;
CREATE TABLE admin_usage_daily AS SELECT * FROM admin_usage_daily__keyed;
DROP TABLE admin_usage_daily__keyed;
ALTER TABLE admin_usage_daily ALTER COLUMN day SET NOT NULL;
ALTER TABLE admin_usage_daily ALTER COLUMN actor SET NOT NULL;
ALTER TABLE admin_usage_daily ALTER COLUMN is_remote SET NOT NULL;
ALTER TABLE admin_usage_daily ALTER COLUMN terminal_type SET NOT NULL;
ALTER TABLE admin_usage_daily ALTER COLUMN run_id SET NOT NULL;

ALTER TABLE admin_usage_models RENAME TO admin_usage_models__keyed;
CREATE TABLE admin_usage_models AS SELECT * FROM admin_usage_models__keyed;
DROP TABLE admin_usage_models__keyed;
ALTER TABLE admin_usage_models ALTER COLUMN day SET NOT NULL;
ALTER TABLE admin_usage_models ALTER COLUMN actor SET NOT NULL;
ALTER TABLE admin_usage_models ALTER COLUMN is_remote SET NOT NULL;
ALTER TABLE admin_usage_models ALTER COLUMN terminal_type SET NOT NULL;
ALTER TABLE admin_usage_models ALTER COLUMN model SET NOT NULL;
ALTER TABLE admin_usage_models ALTER COLUMN run_id SET NOT NULL;

-- Sessions whose derived rows (request_facts, rollups, flags) are to be (re)computed, in bounded
-- chunks, each committed on its own (analytics/refresh.py). reason: 'new' (rows of recent runs not
-- derived yet) or why a derived session is redone ('prices', 'settings', 'full'): until it is, its
-- figures were computed with the previous prices or thresholds, and reports say so.
CREATE TABLE derive_queue (
    session_id      VARCHAR NOT NULL,            -- '(none)' for rows without one, as in the derived tables
    reason          VARCHAR NOT NULL,            -- new | prices | settings | full
    weight          BIGINT NOT NULL,             -- its rows (requests + tool calls): what a chunk is sized by
    user_name       VARCHAR                      -- its person: chunks go person by person
);

-- The last ingest run whose rows the links to git were derived for (analytics/refresh.py derives
-- them once per refresh, after its chunks): its own mark, so that a refresh stopped between its
-- chunks and its git links leaves them to the next one. NULL or -1: every session's are redone.
ALTER TABLE derived_state ADD COLUMN git_run_id BIGINT;
