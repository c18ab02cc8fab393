-- The ledger: append-only facts loaded from agent logs. All timestamps are UTC (naive TIMESTAMP).
-- Every fact row carries run_id, the ingest run that wrote it (or last improved it).

CREATE TABLE ingest_runs (
    run_id            BIGINT PRIMARY KEY,
    started_at        TIMESTAMP NOT NULL,
    ended_at          TIMESTAMP,
    status            VARCHAR NOT NULL,          -- running | ok | failed
    command           VARCHAR,
    files_seen        INTEGER DEFAULT 0,
    files_new         INTEGER DEFAULT 0,
    files_changed     INTEGER DEFAULT 0,
    files_unchanged   INTEGER DEFAULT 0,
    files_missing     INTEGER DEFAULT 0,
    files_failed      INTEGER DEFAULT 0,
    bytes_read        BIGINT DEFAULT 0,
    lines             BIGINT DEFAULT 0,
    requests_new      BIGINT DEFAULT 0,
    requests_updated  BIGINT DEFAULT 0,
    tool_calls_new    BIGINT DEFAULT 0,
    events_new        BIGINT DEFAULT 0,
    api_errors        BIGINT DEFAULT 0,
    rejects           BIGINT DEFAULT 0,
    unknown_types     BIGINT DEFAULT 0,
    unknown_fields    BIGINT DEFAULT 0,
    error             VARCHAR
);

-- The manifest: what we know of each source file, so an unchanged file costs a stat.
CREATE TABLE source_files (
    path            VARCHAR PRIMARY KEY,
    source          VARCHAR NOT NULL,
    user_name       VARCHAR,
    size            BIGINT NOT NULL,
    mtime_ns        BIGINT NOT NULL,
    head_hash       VARCHAR NOT NULL,            -- hash of the first bytes: a rewrite changes it
    offset_loaded   BIGINT NOT NULL,             -- bytes fully consumed (complete lines only)
    lines_loaded    BIGINT NOT NULL,
    parser_state    VARCHAR,                     -- JSON a stateful parser needs to resume
    first_run_id    BIGINT,
    last_run_id     BIGINT,
    last_seen_at    TIMESTAMP,
    missing         BOOLEAN DEFAULT FALSE        -- deleted at the source; its facts stay
);

-- One row per billable API request, deduplicated globally.
CREATE TABLE requests (
    request_key              VARCHAR PRIMARY KEY,
    source                   VARCHAR NOT NULL,
    message_id               VARCHAR,
    request_id               VARCHAR,
    user_name                VARCHAR,
    session_id               VARCHAR,
    agent_id                 VARCHAR,            -- NULL on the main thread
    is_sidechain             BOOLEAN NOT NULL DEFAULT FALSE,
    subagent_type            VARCHAR,
    project                  VARCHAR,            -- cwd
    git_branch               VARCHAR,
    agent_version            VARCHAR,
    model                    VARCHAR,
    ts                       TIMESTAMP NOT NULL,
    input_tokens             BIGINT NOT NULL DEFAULT 0,
    output_tokens            BIGINT NOT NULL DEFAULT 0,
    cache_creation_tokens    BIGINT NOT NULL DEFAULT 0,
    cache_creation_5m_tokens BIGINT,
    cache_creation_1h_tokens BIGINT,
    cache_read_tokens        BIGINT NOT NULL DEFAULT 0,
    reasoning_tokens         BIGINT,
    output_estimated         BOOLEAN NOT NULL DEFAULT FALSE,
    stop_reason              VARCHAR,
    speed                    VARCHAR,
    service_tier             VARCHAR,
    web_search_requests      INTEGER,
    web_fetch_requests       INTEGER,
    attribution_plugin       VARCHAR,
    attribution_skill        VARCHAR,
    attribution_agent        VARCHAR,
    uuid                     VARCHAR,
    parent_uuid              VARCHAR,
    prompt_id                VARCHAR,
    source_cost_usd          DOUBLE,             -- cost the source itself reported (OTel)
    model_is_fallback        BOOLEAN NOT NULL DEFAULT FALSE,
    file_path                VARCHAR,
    line_no                  BIGINT,
    run_id                   BIGINT NOT NULL
);

-- One row per tool_use block.
CREATE TABLE tool_calls (
    tool_use_id     VARCHAR PRIMARY KEY,
    source          VARCHAR NOT NULL,
    request_key     VARCHAR,                     -- the request that issued the call
    message_id      VARCHAR,
    user_name       VARCHAR,
    session_id      VARCHAR,
    agent_id        VARCHAR,
    is_sidechain    BOOLEAN NOT NULL DEFAULT FALSE,
    ts              TIMESTAMP NOT NULL,
    tool_name       VARCHAR NOT NULL,
    component       VARCHAR NOT NULL,            -- builtin:Bash, mcp:github, plugin:x, skill:y, subagent:z
    component_kind  VARCHAR NOT NULL,            -- builtin | mcp | plugin | skill | subagent
    plugin          VARCHAR,                     -- the plugin behind the component, when one is
    input_hash      VARCHAR,                     -- hash of the normalized input
    input_bytes     INTEGER,
    file_path       VARCHAR,
    command         VARCHAR,
    lines_added     INTEGER,
    lines_removed   INTEGER,
    edit_before_hash VARCHAR,                    -- hash of replaced text (Edit) for A->B->A detection
    edit_after_hash  VARCHAR,                    -- hash of the new text (Edit/Write)
    subagent_type   VARCHAR,
    skill_name      VARCHAR,
    run_id          BIGINT NOT NULL
);

-- One row per tool_result block (joined to tool_calls by tool_use_id in tool_calls_v).
CREATE TABLE tool_results (
    tool_use_id     VARCHAR PRIMARY KEY,
    source          VARCHAR NOT NULL,
    session_id      VARCHAR,
    ts              TIMESTAMP,
    is_error        BOOLEAN NOT NULL DEFAULT FALSE,
    interrupted     BOOLEAN NOT NULL DEFAULT FALSE,
    result_bytes    BIGINT NOT NULL DEFAULT 0,
    result_hash     VARCHAR,                     -- hash of the output: "same error again" without storing it
    spawned_agent_id VARCHAR,                    -- Task/Agent results name the subagent they ran
    run_id          BIGINT NOT NULL
);

-- Human turns and session milestones: prompts, slash commands, interruptions, compactions, API errors.
CREATE TABLE session_events (
    event_key       VARCHAR PRIMARY KEY,
    source          VARCHAR NOT NULL,
    user_name       VARCHAR,
    session_id      VARCHAR,
    agent_id        VARCHAR,
    is_sidechain    BOOLEAN NOT NULL DEFAULT FALSE,
    ts              TIMESTAMP NOT NULL,
    kind            VARCHAR NOT NULL,            -- prompt | interrupt | compact_boundary | api_error | rejection
    prompt_length   INTEGER,
    prompt_hash     VARCHAR,
    slash_command   VARCHAR,
    detail          VARCHAR,                     -- error kind, compaction trigger, ...
    prompt_text     VARCHAR,                     -- only with the explicit --store-prompts opt-in
    project         VARCHAR,
    run_id          BIGINT NOT NULL
);

-- Subagent threads: type and warm-up status, from .meta.json files, Task results and first lines.
CREATE TABLE agents (
    agent_id        VARCHAR PRIMARY KEY,
    source          VARCHAR NOT NULL,
    session_id      VARCHAR,
    subagent_type   VARCHAR,
    is_warmup       BOOLEAN NOT NULL DEFAULT FALSE,
    run_id          BIGINT NOT NULL
);

-- Quarantine: every line we could not use, with enough to find and fix it.
CREATE TABLE rejects (
    path            VARCHAR NOT NULL,
    byte_offset     BIGINT NOT NULL,
    line_no         BIGINT NOT NULL,
    reason          VARCHAR NOT NULL,
    head            VARCHAR,                     -- first 200 bytes, undecodable bytes replaced
    run_id          BIGINT NOT NULL,
    PRIMARY KEY (path, byte_offset)
);

-- Format drift: record types and fields we do not know, counted, never fatal.
CREATE TABLE schema_drift (
    source          VARCHAR NOT NULL,
    kind            VARCHAR NOT NULL,            -- record_type | field
    name            VARCHAR NOT NULL,
    occurrences     BIGINT NOT NULL,
    first_path      VARCHAR,
    first_run_id    BIGINT,
    last_run_id     BIGINT,
    PRIMARY KEY (source, kind, name)
);

-- The org directory; users missing from it still count under team "(unassigned)".
CREATE TABLE org_users (
    user_name       VARCHAR PRIMARY KEY,
    email           VARCHAR,
    display_name    VARCHAR,
    team            VARCHAR,
    manager         VARCHAR
);
