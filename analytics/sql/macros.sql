-- Definitions every report, view and refresh step shares, created per connection (TEMP: read-only
-- connections may too). Metric names and meanings: analytics/metrics.py and docs/metrics.md.
CREATE OR REPLACE TEMP MACRO team_of(t) AS coalesce(t, '(unassigned)');

-- The kept share of work (tokens or dollars); NULL when there is nothing to divide.
CREATE OR REPLACE TEMP MACRO kept_share(kept, total) AS
    CASE WHEN total > 0 THEN coalesce(kept, 0)::DOUBLE / total END;

-- useful_output_ratio / useful_cost_ratio as reports show them.
CREATE OR REPLACE TEMP MACRO useful_ratio(kept, total) AS round(kept_share(kept, total), 4);

CREATE OR REPLACE TEMP MACRO usd(x) AS round(x, 6);

-- Change against the previous period: relative, in percent (NULL when there was nothing before), and
-- of a ratio, in percentage points. One decimal: what a reader compares.
CREATE OR REPLACE TEMP MACRO pct_change(now, before) AS
    CASE WHEN before > 0 THEN round((coalesce(now, 0) - before) * 100.0 / before, 1) END;
CREATE OR REPLACE TEMP MACRO points_change(now, before) AS round((now - before) * 100.0, 1);

-- Counts and token sums. DuckDB sums int64 into 128 bits, so a sum itself never overflows; what may
-- not fit is int64, the type every export shows. A report shows such a total empty (as_count), never
-- an error; the derived tables store it capped at int64's maximum (capped), so that a corrupt count
-- (ingest quarantines them; an old ledger may still hold one) can never fail a refresh.
CREATE OR REPLACE TEMP MACRO as_count(x) AS TRY_CAST(x AS BIGINT);
CREATE OR REPLACE TEMP MACRO total(x) AS as_count(sum(x));
CREATE OR REPLACE TEMP MACRO capped(x) AS least(x, 9223372036854775807)::BIGINT;

-- Numbers in evidence text: from an exact decimal, never from a binary double's own rounding (which
-- differs between library versions: 0.00165 is 0.0016499... as a double). Half away from zero at
-- `places` decimals, trailing zeros dropped but one kept after the point (10.0, 0.1, 0.0017).
CREATE OR REPLACE TEMP MACRO number_text(x, places) AS
    regexp_replace(regexp_replace(round(x::DECIMAL(38, 9), places)::VARCHAR, '(\.\d*?)0+$', '\1'), '\.$', '.0');

-- The slice: one STRUCT bound as $slice (analytics.queries.slice_param) carrying every filter;
-- NULL in a field means "no filter"; dates are inclusive UTC days. Who may be seen is decided in
-- in_people, the one place every report, view and export passes through.
CREATE OR REPLACE TEMP MACRO in_period(s, d) AS
    (s['date_from'] IS NULL OR d >= s['date_from']) AND (s['date_to'] IS NULL OR d <= s['date_to']);

CREATE OR REPLACE TEMP MACRO in_people(s, who, tm) AS
    (s['user'] IS NULL OR who = s['user']) AND (s['team'] IS NULL OR tm = s['team']);

CREATE OR REPLACE TEMP MACRO in_slice(s, d, who, tm, proj, src) AS
    in_period(s, d) AND in_people(s, who, tm)
    AND (s['project'] IS NULL OR proj = s['project']) AND (s['source'] IS NULL OR src = s['source']);

CREATE OR REPLACE TEMP MACRO session_days(s) AS TABLE
    SELECT f.*, team_of(o.team) AS team
    FROM session_day_facts f LEFT JOIN org_users o ON o.user_name = f.user_name
    WHERE in_slice(s, f.day, f.user_name, team_of(o.team), f.project, f.source)
      AND (s['model'] IS NULL OR f.model = s['model']);

CREATE OR REPLACE TEMP MACRO component_days(s) AS TABLE
    SELECT f.*, team_of(o.team) AS team
    FROM component_day_facts f LEFT JOIN org_users o ON o.user_name = f.user_name
    WHERE in_slice(s, f.day, f.user_name, team_of(o.team), f.project, f.source)
      AND (s['model'] IS NULL OR f.model = s['model']);

-- Flags have no model: with a model filter, the flags of sessions that used that model.
CREATE OR REPLACE TEMP MACRO filtered_flags(s) AS TABLE
    SELECT f.*, team_of(o.team) AS team
    FROM flags f LEFT JOIN org_users o ON o.user_name = f.user_name
    WHERE in_slice(s, f.day, f.user_name, team_of(o.team), f.project, f.source)
      AND (s['model'] IS NULL OR f.session_id IN (SELECT session_id FROM session_day_facts WHERE model = s['model']));

-- waste_cost_usd: looping + discarded + idle spend; NULL only when nothing in the row is priced.
CREATE OR REPLACE TEMP MACRO waste_cost(cost, looping, discarded, idle) AS
    CASE WHEN cost IS NOT NULL THEN usd(coalesce(looping, 0) + coalesce(discarded, 0) + coalesce(idle, 0)) END;

-- Spend and value per group: one row per value of `group_by` ('user', 'team', 'project', 'model',
-- 'day', or 'org' for one row over the whole slice; grp is its text), every measure the per-group
-- reports show, each defined here once. The daily, users, teams, projects and models reports and
-- the period comparison (view_changes) select their columns from it.
CREATE OR REPLACE TEMP MACRO group_of(group_by, user_name, team, project, model, day) AS
    CASE group_by WHEN 'team' THEN team WHEN 'project' THEN project WHEN 'model' THEN model
                  WHEN 'day' THEN day::VARCHAR WHEN 'org' THEN 'org' ELSE user_name END;

CREATE OR REPLACE TEMP MACRO usage_by(s, group_by) AS TABLE
    WITH f AS (
        SELECT *, group_of(group_by, user_name, team, project, model, day) AS grp FROM session_days(s)
    ),
    flagged AS (
        -- Flags have no model: per model, no flag count.
        SELECT group_of(group_by, user_name, team, project, NULL, day) AS grp,
               count(DISTINCT session_id) AS flagged_sessions
        FROM filtered_flags(s) GROUP BY 1
    )
    SELECT f.grp,
           any_value(f.team) AS team,
           count(DISTINCT f.user_name) AS users,
           count(DISTINCT f.session_id) AS sessions,
           total(f.requests) AS requests,
           total(f.input_tokens) AS input_tokens,
           total(f.output_tokens) AS output_tokens,
           total(f.cache_creation_tokens) AS cache_creation_tokens,
           total(f.cache_read_tokens) AS cache_read_tokens,
           total(f.total_tokens) AS total_tokens,
           usd(sum(f.cost_usd)) AS cost_usd,
           usd(sum(f.source_cost_usd)) AS source_cost_usd,
           total(f.unpriced_requests) AS unpriced_requests,
           total(f.estimated_output_requests) AS estimated_output_requests,
           usd(sum(f.estimated_output_cost_usd)) AS estimated_output_cost_usd,
           total(f.fallback_model_requests) AS fallback_model_requests,
           usd(sum(f.fallback_model_cost_usd)) AS fallback_model_cost_usd,
           total(f.kept_tokens) AS kept_tokens,
           total(f.looping_tokens) AS looping_tokens,
           total(f.discarded_tokens) AS discarded_tokens,
           total(f.idle_tokens) AS idle_tokens,
           as_count(sum(f.looping_tokens) + sum(f.discarded_tokens) + sum(f.idle_tokens)) AS waste_tokens,
           waste_cost(sum(f.cost_usd), sum(f.looping_cost_usd), sum(f.discarded_cost_usd), sum(f.idle_cost_usd))
               AS waste_cost_usd,
           usd(sum(f.kept_cost_usd)) AS kept_cost_usd,
           usd(sum(f.looping_cost_usd)) AS looping_cost_usd,
           usd(sum(f.discarded_cost_usd)) AS discarded_cost_usd,
           usd(sum(f.idle_cost_usd)) AS idle_cost_usd,
           useful_ratio(sum(f.kept_tokens), sum(f.total_tokens)) AS useful_output_ratio,
           useful_ratio(sum(f.kept_cost_usd), sum(f.cost_usd)) AS useful_cost_ratio,
           coalesce(any_value(g.flagged_sessions), 0) AS flagged_sessions
    FROM f LEFT JOIN flagged g ON g.grp IS NOT DISTINCT FROM f.grp
    GROUP BY f.grp;

-- Flagged spend, each dollar once (docs/metrics.md "Flag overlap"). A flag claims the requests of
-- its own stretch (started_at..ended_at, same session) that it is about: a loop its looping requests,
-- discarded_work its discarded ones, idle_burn its idle ones, zero_output and usage_spike all of them.
-- context_bloat's spend is the attributed share of the requests that consumed the component's
-- results, not whole requests: it claims that share of each request of its stretch, spread in
-- proportion to cost (never more than a whole request). A request claimed by several flags counts
-- once, at the largest claim; adding each flag's own spend counts it once per flag.
CREATE OR REPLACE TEMP MACRO flag_holds(flag, outcome) AS
    CASE flag WHEN 'loop' THEN outcome = 'looping' WHEN 'discarded_work' THEN outcome = 'discarded'
              WHEN 'idle_burn' THEN outcome = 'idle' ELSE TRUE END;

CREATE OR REPLACE TEMP MACRO flag_claims(s) AS TABLE
    WITH fl AS (
        SELECT row_number() OVER () AS flag_id, session_id, flag, started_at, ended_at, cost_usd, tokens
        FROM filtered_flags(s)
    ),
    hits AS (
        SELECT fl.flag_id, fl.session_id, fl.flag, r.request_key, r.cost_usd, r.total_tokens
        FROM fl
        JOIN request_facts r ON r.session_id = fl.session_id AND r.ts BETWEEN fl.started_at AND fl.ended_at
        WHERE flag_holds(fl.flag, r.outcome)
    ),
    -- the share of each request of its stretch a context_bloat flag claims (every other flag: all of it)
    shares AS (
        SELECT h.flag_id, least(1.0, coalesce(any_value(fl.cost_usd) / nullif(sum(h.cost_usd), 0), 0.0)) AS cost_share,
               least(1.0, coalesce(any_value(fl.tokens) / nullif(sum(h.total_tokens), 0), 0.0)) AS token_share
        FROM hits h JOIN fl USING (flag_id) WHERE h.flag = 'context_bloat' GROUP BY h.flag_id
    )
    SELECT h.session_id, h.flag, h.request_key, h.cost_usd, h.total_tokens,
           coalesce(x.cost_share, 1.0) * h.cost_usd AS claimed_cost,
           coalesce(x.token_share, 1.0) * h.total_tokens AS claimed_tokens
    FROM hits h LEFT JOIN shares x USING (flag_id);

CREATE OR REPLACE TEMP MACRO flagged_requests(s) AS TABLE
    SELECT session_id, request_key, max(claimed_cost) AS cost_usd, max(claimed_tokens) AS total_tokens
    FROM flag_claims(s) GROUP BY session_id, request_key;
