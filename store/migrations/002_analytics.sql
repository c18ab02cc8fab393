-- Derived analytics tables: rebuilt from the ledger by analytics.refresh.refresh_derived(con),
-- which ingest calls at the end of every run. Nothing here is a fact of its own: dropping every
-- row and refreshing gives the same tables back.

-- Each distinct model seen in requests, resolved once to prices (USD per million tokens).
-- A row covers [valid_from, valid_to) and, for long-context pricing, requests whose prompt
-- (input + cache write + cache read) exceeds tier_start tokens; the base row has tier_start -1.
CREATE TABLE model_prices (
    model               VARCHAR NOT NULL,        -- as logged in requests.model
    valid_from          DATE NOT NULL,
    valid_to            DATE NOT NULL,           -- exclusive
    tier_start          BIGINT NOT NULL,
    provider            VARCHAR,
    price_model         VARCHAR,                 -- the price library's model id it matched
    input_mtok          DOUBLE NOT NULL,
    output_mtok         DOUBLE NOT NULL,
    cache_read_mtok     DOUBLE NOT NULL,
    cache_write_5m_mtok DOUBLE NOT NULL,
    cache_write_1h_mtok DOUBLE NOT NULL,
    web_search_kcount   DOUBLE NOT NULL,         -- USD per thousand server-side web searches
    price_version       VARCHAR NOT NULL,        -- e.g. "genai-prices 0.2.3" or "override prices.toml@1a2b3c4d"
    PRIMARY KEY (model, valid_from, tier_start)
);

-- What the last refresh covered: rows of later ingest runs are still to be derived.
CREATE TABLE derived_state (
    id                  INTEGER PRIMARY KEY,     -- always 1
    last_run_id         BIGINT NOT NULL,
    price_fingerprint   VARCHAR NOT NULL,
    settings_fingerprint VARCHAR NOT NULL,
    refreshed_at        TIMESTAMP NOT NULL
);

-- One row per request: its cost, turn, outcome class.
CREATE TABLE request_facts (
    request_key         VARCHAR NOT NULL,
    source              VARCHAR NOT NULL,
    session_id          VARCHAR NOT NULL,
    thread              VARCHAR NOT NULL,        -- '' = main thread, else the subagent's agent_id
    subagent_type       VARCHAR,
    user_name           VARCHAR,
    project             VARCHAR,
    model               VARCHAR,
    ts                  TIMESTAMP NOT NULL,
    day                 DATE NOT NULL,
    input_tokens        BIGINT NOT NULL,
    output_tokens       BIGINT NOT NULL,
    cache_creation_tokens BIGINT NOT NULL,
    cache_read_tokens   BIGINT NOT NULL,
    total_tokens        BIGINT NOT NULL,
    cost_usd            DOUBLE,                  -- NULL: the model has no price (never 0)
    price_version       VARCHAR,
    source_cost_usd     DOUBLE,                  -- the source's own figure (OTel), kept alongside
    turn_no             INTEGER NOT NULL,        -- 0 = before the first human prompt
    outcome             VARCHAR NOT NULL         -- kept | looping | discarded | idle
);

-- Attribution: which components a request's tokens belong to (shares of one request sum to 1).
CREATE TABLE request_components (
    request_key         VARCHAR NOT NULL,
    session_id          VARCHAR NOT NULL,
    component           VARCHAR NOT NULL,        -- builtin:Read, mcp:x, plugin:x, skill:x, subagent:x, (prompt), (other)
    component_kind      VARCHAR NOT NULL,
    plugin              VARCHAR,
    share               DOUBLE NOT NULL
);

-- Rollup every people/day/project/model report reads: one row per session x day x model.
CREATE TABLE session_day_facts (
    day                 DATE NOT NULL,
    session_id          VARCHAR NOT NULL,
    user_name           VARCHAR,
    project             VARCHAR,
    source              VARCHAR NOT NULL,
    model               VARCHAR,
    first_ts            TIMESTAMP NOT NULL,
    last_ts             TIMESTAMP NOT NULL,
    requests            BIGINT NOT NULL,
    unpriced_requests   BIGINT NOT NULL,
    input_tokens        BIGINT NOT NULL,
    output_tokens       BIGINT NOT NULL,
    cache_creation_tokens BIGINT NOT NULL,
    cache_read_tokens   BIGINT NOT NULL,
    total_tokens        BIGINT NOT NULL,
    cost_usd            DOUBLE,
    source_cost_usd     DOUBLE,
    kept_tokens         BIGINT NOT NULL,
    looping_tokens      BIGINT NOT NULL,
    discarded_tokens    BIGINT NOT NULL,
    idle_tokens         BIGINT NOT NULL,
    kept_cost_usd       DOUBLE,
    looping_cost_usd    DOUBLE,
    discarded_cost_usd  DOUBLE,
    idle_cost_usd       DOUBLE
);

-- Rollup the plugins report reads: one row per session x day x model x component.
CREATE TABLE component_day_facts (
    day                 DATE NOT NULL,
    session_id          VARCHAR NOT NULL,
    user_name           VARCHAR,
    project             VARCHAR,
    source              VARCHAR NOT NULL,
    model               VARCHAR,
    component           VARCHAR NOT NULL,
    component_kind      VARCHAR NOT NULL,
    plugin              VARCHAR,
    calls               BIGINT NOT NULL,
    errors              BIGINT NOT NULL,
    result_bytes        BIGINT NOT NULL,
    requests            DOUBLE NOT NULL,         -- attributed requests (shares)
    total_tokens        DOUBLE NOT NULL,
    cost_usd            DOUBLE,
    kept_tokens         DOUBLE NOT NULL
);

-- Flags with their evidence; evidence never holds prompt text.
CREATE TABLE flags (
    session_id          VARCHAR NOT NULL,
    flag                VARCHAR NOT NULL,        -- loop | discarded_work | idle_burn | zero_output | usage_spike | context_bloat
    user_name           VARCHAR,
    project             VARCHAR,
    source              VARCHAR NOT NULL,
    day                 DATE NOT NULL,
    started_at          TIMESTAMP NOT NULL,
    ended_at            TIMESTAMP NOT NULL,
    tokens              BIGINT NOT NULL,
    cost_usd            DOUBLE,
    evidence            VARCHAR NOT NULL
);
