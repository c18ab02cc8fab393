-- Facts that only some sources carry: OpenTelemetry events and metrics, and the Admin API's
-- per-user-per-day report. Requests, tool calls and prompts of every source still land in the
-- tables of 001 (with their `source`); see docs/sources.md for how OTel rows reconcile with them.

-- Every Claude Code OTel `api_request` event, exactly as reported. The `requests` table is derived
-- from it (ingest/otel/reconcile.py): an event whose request_id matches a transcript request
-- improves that row; one without a twin becomes a request row of source 'otel'.
CREATE TABLE otel_requests (
    event_key              VARCHAR PRIMARY KEY,  -- request_id, else session + event.sequence/time
    request_id             VARCHAR,
    user_name              VARCHAR,              -- user.email, else user.account_uuid / enduser.id / user.id
    email                  VARCHAR,
    account_uuid           VARCHAR,
    organization_id        VARCHAR,
    session_id             VARCHAR,
    prompt_id              VARCHAR,
    ts                     TIMESTAMP NOT NULL,
    model                  VARCHAR,
    input_tokens           BIGINT NOT NULL DEFAULT 0,
    output_tokens          BIGINT NOT NULL DEFAULT 0,
    cache_read_tokens      BIGINT NOT NULL DEFAULT 0,
    cache_creation_tokens  BIGINT NOT NULL DEFAULT 0,
    cost_usd               DOUBLE,
    duration_ms            BIGINT,
    query_source           VARCHAR,              -- main | subagent | auxiliary | compact ...
    speed                  VARCHAR,
    effort                 VARCHAR,
    agent_name             VARCHAR,
    skill_name             VARCHAR,
    plugin_name            VARCHAR,
    mcp_server_name        VARCHAR,
    agent_version          VARCHAR,
    terminal_type          VARCHAR,
    team                   VARCHAR,              -- OTEL_RESOURCE_ATTRIBUTES team / department
    cost_center            VARCHAR,
    file_path              VARCHAR,
    line_no                BIGINT,
    run_id                 BIGINT NOT NULL
);
CREATE INDEX otel_requests_request_id ON otel_requests (request_id);

-- Accept / reject decisions on tool use (OTel `tool_decision` events).
CREATE TABLE tool_decisions (
    decision_key    VARCHAR PRIMARY KEY,
    source          VARCHAR NOT NULL,
    user_name       VARCHAR,
    session_id      VARCHAR,
    ts              TIMESTAMP NOT NULL,
    tool_use_id     VARCHAR,
    tool_name       VARCHAR,
    decision        VARCHAR,                     -- accept | reject
    decision_source VARCHAR,                     -- config | hook | user_permanent | user_temporary | user_abort | user_reject
    tool_source     VARCHAR,                     -- builtin | mcp | sdk_host_builtin_mcp
    run_id          BIGINT NOT NULL
);

-- Every OTel metric data point (sum/gauge), numbers coerced. Cumulative points are turned into
-- deltas by otel_metric_deltas, so both temporalities sum the same way.
CREATE TABLE otel_metric_points (
    point_key       VARCHAR PRIMARY KEY,         -- hash(series) + start + time
    metric          VARCHAR NOT NULL,            -- claude_code.lines_of_code.count, ...
    temporality     VARCHAR NOT NULL,            -- delta | cumulative | gauge
    series_key      VARCHAR NOT NULL,            -- hash of the metric name and all attributes
    start_ts        TIMESTAMP,
    ts              TIMESTAMP NOT NULL,
    value           DOUBLE NOT NULL,
    user_name       VARCHAR,
    session_id      VARCHAR,
    model           VARCHAR,
    type            VARCHAR,                     -- added|removed, user|cli, input|output|...
    tool_name       VARCHAR,
    decision        VARCHAR,
    language        VARCHAR,
    attributes      VARCHAR,                     -- the remaining attributes as JSON
    file_path       VARCHAR,
    run_id          BIGINT NOT NULL
);

CREATE VIEW otel_metric_deltas AS
SELECT
    point_key, metric, temporality, series_key, start_ts, ts, user_name, session_id, model, type,
    tool_name, decision, language,
    CASE
        WHEN temporality <> 'cumulative' THEN value
        -- First point of a series run counts from its start; a drop means the process restarted.
        WHEN lag(value) OVER w IS NULL OR value < lag(value) OVER w THEN value
        ELSE value - lag(value) OVER w
    END AS delta
FROM otel_metric_points
WINDOW w AS (PARTITION BY series_key, start_ts ORDER BY ts);

-- Admin API Claude Code usage report: one row per actor x day x remote/local x terminal.
CREATE TABLE admin_usage_daily (
    day                 DATE NOT NULL,
    actor               VARCHAR NOT NULL,        -- email_address or api_key_name
    actor_type          VARCHAR,                 -- user_actor | api_actor
    is_remote           BOOLEAN NOT NULL,
    terminal_type       VARCHAR NOT NULL,        -- '' when absent
    user_name           VARCHAR,                 -- the email (mapped to the directory in analytics)
    organization_id     VARCHAR,
    customer_type       VARCHAR,
    subscription_type   VARCHAR,
    num_sessions        INTEGER,
    lines_added         INTEGER,
    lines_removed       INTEGER,
    commits             INTEGER,
    pull_requests       INTEGER,
    tools_accepted      INTEGER,
    tools_rejected      INTEGER,
    tool_actions        VARCHAR,                 -- the per-tool accept/reject map as JSON
    input_tokens        BIGINT,
    output_tokens       BIGINT,
    cache_read_tokens   BIGINT,
    cache_creation_tokens BIGINT,
    cost_usd            DOUBLE,                  -- sum of model_breakdown estimated_cost (cents / 100)
    file_path           VARCHAR,
    run_id              BIGINT NOT NULL,
    PRIMARY KEY (day, actor, is_remote, terminal_type)
);

CREATE TABLE admin_usage_models (
    day                 DATE NOT NULL,
    actor               VARCHAR NOT NULL,
    is_remote           BOOLEAN NOT NULL,
    terminal_type       VARCHAR NOT NULL,
    model               VARCHAR NOT NULL,
    user_name           VARCHAR,
    input_tokens        BIGINT,
    output_tokens       BIGINT,
    cache_read_tokens   BIGINT,
    cache_creation_tokens BIGINT,
    cost_usd            DOUBLE,
    currency            VARCHAR,
    run_id              BIGINT NOT NULL,
    PRIMARY KEY (day, actor, is_remote, terminal_type, model)
);
