-- Definitions every report, view and refresh step shares, created per connection (TEMP: read-only
-- connections may too). Metric names and meanings: analytics/metrics.py and docs/metrics.md.
CREATE OR REPLACE TEMP MACRO team_of(t) AS coalesce(t, '(unassigned)');

-- The kept share of the agents' work (tokens or dollars): Claude Code's own overhead (prompt
-- suggestions, compaction, warm-ups) is nobody's work and stays out of the denominator, so that
-- 1 - share is exactly the share wasted (docs/metrics.md "useful_output_ratio"). NULL when there
-- is no work to divide.
CREATE OR REPLACE TEMP MACRO kept_share(kept, total, overhead) AS
    CASE WHEN total - coalesce(overhead, 0) > 0 THEN coalesce(kept, 0)::DOUBLE / (total - coalesce(overhead, 0)) END;

-- useful_output_ratio / useful_cost_ratio as reports show them.
CREATE OR REPLACE TEMP MACRO useful_ratio(kept, total, overhead) AS round(kept_share(kept, total, overhead), 4);

CREATE OR REPLACE TEMP MACRO usd(x) AS round(x, 6);

-- The rows a derivation step reads, by row id: the span [first, last] of a fact table's rows being
-- derived is set as the variable agentledger_span_<table> ([NULL, NULL] when there are none, and no
-- row is within it), and in_span(table, rowid) keeps the rows within it. Once the variable is set
-- the bounds are constants, so DuckDB pushes the range into the table's scan, which skips the row
-- groups outside it by their zone maps: ingest appends a session's rows together, and what is new
-- lies at the tables' tails. The span holds every row of what is derived, so none is left out.
CREATE OR REPLACE TEMP MACRO in_span(tbl, rid) AS
    rid BETWEEN getvariable('agentledger_span_' || tbl)[1] AND getvariable('agentledger_span_' || tbl)[2];

-- Sums of money and of attributed shares (DOUBLE) are added exactly, as decimals: a binary sum
-- depends on the order rows arrive in (threads, the files of a DuckLake lake), and the same rows
-- must give the same figures, to the last byte of a CSV, whatever the storage. 12 places keep
-- a millionth of a cent; 38 digits hold sums up to 10^26.
CREATE OR REPLACE TEMP MACRO exact_sum(x) AS sum(x::DECIMAL(38, 12))::DOUBLE;
CREATE OR REPLACE TEMP MACRO exact_sum_if(x, keep) AS sum(CASE WHEN keep THEN x::DECIMAL(38, 12) END)::DOUBLE;

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

-- A flag's id: its kind, its session and what tells it from the session's other flags of that kind
-- (a loop's thread and start, a revert's call, a turn). Stable across refreshes: the same flag keeps it.
CREATE OR REPLACE TEMP MACRO flag_key(flag, sid, part) AS flag || ':' || sid || ':' || part;

-- Numbers in evidence text: from an exact decimal, never from a binary double's own rounding (which
-- differs between library versions: 0.00165 is 0.0016499... as a double). Half away from zero at
-- `places` decimals, trailing zeros dropped but one kept after the point (10.0, 0.1, 0.0017).
CREATE OR REPLACE TEMP MACRO number_text(x, places) AS
    regexp_replace(regexp_replace(round(x::DECIMAL(38, 9), places)::VARCHAR, '(\.\d*?)0+$', '\1'), '\.$', '.0');

-- The viewer's scope (analytics/access/scope.py binds it per connection; docs/security.md). Unbound
-- (NULL) is the ledger file's owner: everything, names shown. in_scope keeps a person's rows when
-- the viewer sees everyone, their team, or them; person shows a pseudonym (HMAC-SHA256 of the user
-- name under the configured key, computed from the key's pads) instead of anyone's name but the
-- viewer's own; private_text masks home folders (/Users/<name>, /home/<name>) in paths and evidence
-- for a pseudonymous viewer; small_group is true for a group figure over fewer than min_group people
-- that does not include the viewer (a slice of one person is that person's own figures, not a group).
CREATE OR REPLACE TEMP MACRO scope() AS getvariable('agentledger_scope');

CREATE OR REPLACE TEMP MACRO in_scope(who, tm) AS
    scope() IS NULL OR scope()['everyone'] OR list_contains(scope()['teams'], tm)
    OR coalesce(list_contains(scope()['users'], who), FALSE);

CREATE OR REPLACE TEMP MACRO person(who) AS
    CASE WHEN scope()['ipad'] IS NULL OR who IS NULL OR who = scope()['viewer'] THEN who
         ELSE 'p-' || left(sha256(scope()['opad'] || unhex(sha256(scope()['ipad'] || encode(who)))), 12) END;

CREATE OR REPLACE TEMP MACRO private_text(x) AS
    CASE WHEN scope()['ipad'] IS NULL THEN x
         ELSE regexp_replace(regexp_replace(x, '/(Users|home)/[^/\s''"`]+', '~', 'g'),
                             '[A-Za-z]:\\Users\\[^\\\s''"`]+', '~', 'g') END;

CREATE OR REPLACE TEMP MACRO small_group(s, people, with_viewer) AS
    s['user'] IS NULL AND scope()['min_group'] IS NOT NULL AND people < scope()['min_group']
    AND NOT coalesce(with_viewer, FALSE);

-- The slice: one STRUCT bound as $slice (analytics.queries.slice_param) carrying every filter;
-- NULL in a field means "no filter"; dates are inclusive UTC days. Who may be seen is decided in
-- in_people, the one place every report, view and export passes through: the viewer's scope first,
-- then the filters, which name people as the viewer sees them (a pseudonym cannot be looked up by
-- the name behind it, and no filter value reaches past the scope).
CREATE OR REPLACE TEMP MACRO in_period(s, d) AS
    (s['date_from'] IS NULL OR d >= s['date_from']) AND (s['date_to'] IS NULL OR d <= s['date_to']);

CREATE OR REPLACE TEMP MACRO in_people(s, who, tm) AS
    in_scope(who, tm) AND (s['user'] IS NULL OR person(who) = s['user']) AND (s['team'] IS NULL OR tm = s['team']);

CREATE OR REPLACE TEMP MACRO in_slice(s, d, who, tm, proj, src) AS
    in_period(s, d) AND in_people(s, who, tm)
    AND (s['project'] IS NULL OR private_text(proj) = s['project']) AND (s['source'] IS NULL OR src = s['source']);

-- The row sources every report reads: rows in scope and slice, people and paths as the viewer sees them.
CREATE OR REPLACE TEMP MACRO session_days(s) AS TABLE
    SELECT f.* REPLACE (person(f.user_name) AS user_name, private_text(f.project) AS project), team_of(o.team) AS team
    FROM session_day_facts f LEFT JOIN org_users o ON o.user_name = f.user_name
    WHERE in_slice(s, f.day, f.user_name, team_of(o.team), f.project, f.source)
      AND (s['model'] IS NULL OR f.model = s['model']);

CREATE OR REPLACE TEMP MACRO component_days(s) AS TABLE
    SELECT f.* REPLACE (person(f.user_name) AS user_name, private_text(f.project) AS project), team_of(o.team) AS team
    FROM component_day_facts f LEFT JOIN org_users o ON o.user_name = f.user_name
    WHERE in_slice(s, f.day, f.user_name, team_of(o.team), f.project, f.source)
      AND (s['model'] IS NULL OR f.model = s['model']);

-- Flags have no model: with a model filter, the flags of sessions that used that model.
CREATE OR REPLACE TEMP MACRO filtered_flags(s) AS TABLE
    SELECT f.* REPLACE (person(f.user_name) AS user_name, private_text(f.project) AS project,
                        private_text(f.evidence) AS evidence), team_of(o.team) AS team
    FROM flags f LEFT JOIN org_users o ON o.user_name = f.user_name
    WHERE in_slice(s, f.day, f.user_name, team_of(o.team), f.project, f.source)
      AND (s['model'] IS NULL OR f.session_id IN (SELECT session_id FROM session_day_facts WHERE model = s['model']));

-- One session, if the viewer's scope holds it (the session pages take a session id, not a slice).
CREATE OR REPLACE TEMP MACRO session_visible(sid) AS
    EXISTS (SELECT 1 FROM session_day_facts f LEFT JOIN org_users o ON o.user_name = f.user_name
            WHERE f.session_id = sid AND in_scope(f.user_name, team_of(o.team)));

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
           usd(exact_sum(f.cost_usd)) AS cost_usd,
           usd(exact_sum(f.source_cost_usd)) AS source_cost_usd,
           total(f.unpriced_requests) AS unpriced_requests,
           total(f.estimated_output_requests) AS estimated_output_requests,
           usd(exact_sum(f.estimated_output_cost_usd)) AS estimated_output_cost_usd,
           total(f.fallback_model_requests) AS fallback_model_requests,
           usd(exact_sum(f.fallback_model_cost_usd)) AS fallback_model_cost_usd,
           total(f.kept_tokens) AS kept_tokens,
           total(f.looping_tokens) AS looping_tokens,
           total(f.discarded_tokens) AS discarded_tokens,
           total(f.idle_tokens) AS idle_tokens,
           total(f.overhead_tokens) AS overhead_tokens,
           as_count(sum(f.looping_tokens) + sum(f.discarded_tokens) + sum(f.idle_tokens)) AS waste_tokens,
           waste_cost(exact_sum(f.cost_usd), exact_sum(f.looping_cost_usd), exact_sum(f.discarded_cost_usd),
                      exact_sum(f.idle_cost_usd))
               AS waste_cost_usd,
           usd(exact_sum(f.kept_cost_usd)) AS kept_cost_usd,
           usd(exact_sum(f.looping_cost_usd)) AS looping_cost_usd,
           usd(exact_sum(f.discarded_cost_usd)) AS discarded_cost_usd,
           usd(exact_sum(f.idle_cost_usd)) AS idle_cost_usd,
           usd(exact_sum(f.overhead_cost_usd)) AS overhead_cost_usd,
           useful_ratio(sum(f.kept_tokens), sum(f.total_tokens), sum(f.overhead_tokens)) AS useful_output_ratio,
           useful_ratio(exact_sum(f.kept_cost_usd), exact_sum(f.cost_usd), exact_sum(f.overhead_cost_usd)) AS useful_cost_ratio,
           coalesce(any_value(g.flagged_sessions), 0) AS flagged_sessions
    FROM f LEFT JOIN flagged g ON g.grp IS NOT DISTINCT FROM f.grp
    GROUP BY f.grp
    -- A person's own row is governed by pseudonyms; any other group by small-group protection.
    HAVING group_by = 'user' OR NOT small_group(s, count(DISTINCT f.user_name), bool_or(f.user_name = scope()['viewer']));

-- Flagged spend, each request once (docs/metrics.md "Counting flagged spend once"). flag_requests
-- lists the requests every flag covers, with the share of each it counts (1; a context_bloat request
-- that consumed n components' results counts 1/n in each component's flag). flag_spend: the requests
-- of the slice's flags (filtered_flags: scope, people, a flag in the period by its day) that fall on
-- days in the period, so flagged spend is never more than the flags' own, nor than the period's.
CREATE OR REPLACE TEMP MACRO flag_spend(s) AS TABLE
    SELECT m.flag_id, m.flag, m.session_id, m.request_key, m.day, m.share, m.tokens, m.cost_usd, f.user_name
    FROM flag_requests m JOIN filtered_flags(s) f USING (flag_id)
    WHERE in_period(s, m.day);

-- A request several flags cover counts once: the whole request when any flag counts all of it, else
-- the flags' shares added (different components' parts of it), never more than the request. So the
-- flagged spend is never more than the flags' own spend added up, and equals it where no two flags
-- share a request (nor cross the period's edge). claimed_* is what counts; tokens/cost_usd the
-- request's own.
CREATE OR REPLACE TEMP MACRO flagged_requests(s) AS TABLE
    SELECT session_id, request_key, any_value(day) AS day, least(1.0, exact_sum(share)) AS share,
           any_value(tokens) AS tokens, any_value(cost_usd) AS cost_usd,
           least(1.0, exact_sum(share)) * any_value(tokens) AS claimed_tokens,
           least(1.0, exact_sum(share)) * any_value(cost_usd) AS claimed_cost
    FROM flag_spend(s) GROUP BY session_id, request_key;

-- People and their data (queries.people, queries.people_gaps): everyone in the org directory, everyone
-- with data, everyone whose files were read; when their newest request was made (on a plausible day:
-- a wrong clock must not make anyone look active), how long ago that is, what the period holds from
-- them, and their activity. In scope and slice, shown as the viewer may see them.
CREATE OR REPLACE TEMP MACRO people_rows(s, today, first_plausible, last_plausible) AS TABLE
    WITH directory AS (
        SELECT user_name, display_name, team FROM org_users
    ),
    seen AS (
        SELECT user_name, max(last_ts) AS last_request_at FROM session_day_facts
        WHERE day BETWEEN first_plausible AND last_plausible GROUP BY user_name
    ),
    files AS (
        SELECT DISTINCT user_name FROM source_files WHERE user_name IS NOT NULL AND source <> 'unrecognised'
    ),
    people AS (
        SELECT user_name FROM directory UNION SELECT user_name FROM seen UNION SELECT user_name FROM files
    ),
    -- session_days shows people as the viewer sees them (person()): joined on that below
    period AS (
        SELECT user_name, count(DISTINCT session_id) AS sessions, usd(exact_sum(cost_usd)) AS cost_usd
        FROM session_days(s) GROUP BY user_name
    )
    -- A pseudonymous viewer sees people as pseudonyms, without their display names.
    SELECT person(p.user_name) AS "user", CASE WHEN person(p.user_name) = p.user_name THEN d.display_name END AS name,
           team_of(d.team) AS team, d.user_name IS NOT NULL AS in_directory,
           sn.last_request_at, date_diff('day', sn.last_request_at::DATE, today) AS days_silent,
           coalesce(w.sessions, 0) AS sessions, w.cost_usd,
           CASE WHEN w.sessions IS NOT NULL THEN 'active'
                WHEN sn.last_request_at IS NOT NULL THEN 'no data in the period'
                WHEN p.user_name IN (SELECT user_name FROM files) THEN 'files but no requests'
                ELSE 'no data at all' END AS activity
    FROM people p
    LEFT JOIN directory d ON d.user_name = p.user_name
    LEFT JOIN seen sn ON sn.user_name = p.user_name
    LEFT JOIN period w ON w.user_name = person(p.user_name)
    WHERE p.user_name IS NOT NULL AND in_people(s, p.user_name, team_of(d.team))
      -- The list is about the people a viewer looks after: their own row only when they have data (a
      -- manager who does not use agents is no gap in the data).
      AND NOT (p.user_name IS NOT DISTINCT FROM scope()['viewer'] AND sn.last_request_at IS NULL
               AND p.user_name NOT IN (SELECT user_name FROM files));

-- Outcomes in git (docs/metrics.md): one row per session with what every git report needs about it,
-- names as stored (reports show them through person and private_text). Its project is where its
-- work went: the root of the scanned repository holding most of its landed lines (then of its
-- written lines, then the first root by name: never arbitrary), else the working directory most of
-- its session-days ran in. linked: a commit came out of it. matured: the newest scanned history is
-- 30 days past the session's end, so its lines have had the time to reach the 30-day mark.
CREATE OR REPLACE TEMP MACRO git_sessions() AS TABLE
    WITH repo_lines AS (
        SELECT s.session_id, s.root, coalesce(sum(e.lines_landed), 0) AS landed,
               coalesce(sum(e.lines_written), 0) AS written
        FROM session_repos s LEFT JOIN edit_outcomes e ON e.session_id = s.session_id AND e.repo_id = s.repo_id
        GROUP BY s.session_id, s.root
    ),
    evidence AS (
        SELECT session_id, first(root ORDER BY landed DESC, written DESC, root) AS project
        FROM repo_lines GROUP BY session_id
    ),
    -- Without evidence: the working directory most of its requests ran in, then most spend, then the
    -- first by name (mode() over rows would pick any of two tied directories, differently run to run).
    cwds AS (
        SELECT session_id, project, sum(requests) AS requests, coalesce(sum(cost_usd), 0) AS cost_usd
        FROM session_day_facts WHERE project IS NOT NULL GROUP BY session_id, project
    ),
    cwd AS (
        SELECT session_id, first(project ORDER BY requests DESC, cost_usd DESC, project) AS cwd
        FROM cwds GROUP BY session_id
    ),
    days AS (
        SELECT session_id, any_value(user_name) AS user_name, any_value(source) AS source, max(last_ts) AS last_ts
        FROM session_day_facts GROUP BY session_id
    )
    SELECT d.session_id, d.user_name, team_of(o.team) AS team, d.source, coalesce(v.project, c.cwd) AS project,
           d.session_id IN (SELECT session_id FROM git_links) AS linked,
           coalesce(d.last_ts + INTERVAL 30 DAY <= (SELECT max(head_at) FROM git_repos), FALSE) AS matured
    FROM days d LEFT JOIN org_users o ON o.user_name = d.user_name LEFT JOIN evidence v USING (session_id)
    LEFT JOIN cwd c USING (session_id);

-- With a model filter, a session's git figures count when the session used that model.
CREATE OR REPLACE TEMP MACRO git_used_model(sid, s) AS
    s['model'] IS NULL OR sid IN (SELECT session_id FROM session_day_facts WHERE model = s['model']);

-- Coverage (the coverage report and coverage_gaps): per user and UTC day, the Claude Code spend a
-- reference reports (the Admin API usage report, else OTel api_request events) against the spend
-- explained by ingested transcript detail.
-- People are matched across sources through the org directory: a directory row whose user_name or
-- email equals the source's identifier names the person; otherwise the identifier itself does.
-- Explained cost: the source's own figure when OTel gave one (exact), else the priced cost from
-- request_facts (analytics refresh); explained tokens need no prices.
CREATE OR REPLACE TEMP MACRO coverage_rows(s, threshold) AS TABLE
    WITH directory AS (
        SELECT user_name, lower(email) AS email, team FROM org_users
    ),
    admin AS (
        SELECT day, coalesce(user_name, actor) AS who,
               exact_sum(cost_usd) AS cost_usd,
               sum(coalesce(input_tokens, 0)::HUGEINT + coalesce(output_tokens, 0) + coalesce(cache_read_tokens, 0)
                   + coalesce(cache_creation_tokens, 0)) AS tokens
        FROM admin_usage_daily
        GROUP BY ALL
    ),
    -- An OTel event belongs to the person whose transcript holds its session (the same rule that
    -- assigns OTel-only requests), else to its email, which the directory may resolve below.
    session_owner AS (
        SELECT session_id, min(user_name) AS user_name FROM requests WHERE source = 'claude' GROUP BY session_id
    ),
    otel AS (
        SELECT o.ts::DATE AS day, coalesce(s.user_name, o.email, o.user_name) AS who, exact_sum(o.cost_usd) AS cost_usd,
               sum(o.input_tokens::HUGEINT + o.output_tokens + o.cache_read_tokens + o.cache_creation_tokens) AS tokens
        FROM otel_requests o
        LEFT JOIN session_owner s ON s.session_id = o.session_id
        GROUP BY ALL
    ),
    detail AS (
        SELECT r.ts::DATE AS day, r.user_name AS who,
               exact_sum(coalesce(r.source_cost_usd, f.cost_usd, 0)) AS cost_usd,
               sum(r.input_tokens::HUGEINT + r.output_tokens + r.cache_creation_tokens + r.cache_read_tokens) AS tokens,
               count(*) AS requests
        FROM requests r
        LEFT JOIN request_facts f ON f.request_key = r.request_key
        WHERE r.source = 'claude'      -- the only agent the Admin API and Claude Code OTel describe
        GROUP BY ALL
    ),
    keyed AS (
        SELECT 'admin' AS part, day, who, cost_usd, tokens, NULL::BIGINT AS requests FROM admin
        UNION ALL SELECT 'otel', day, who, cost_usd, tokens, NULL FROM otel
        UNION ALL SELECT 'detail', day, who, cost_usd, tokens, requests FROM detail
    ),
    person AS (
        SELECT k.*,
               coalesce((SELECT min(d.user_name) FROM directory d WHERE d.user_name = k.who OR d.email = lower(k.who)),
                        k.who) AS user_name
        FROM keyed k
    ),
    per_day AS (
        SELECT day, user_name,
               exact_sum_if(cost_usd, part = 'admin') AS admin_cost_usd,
               exact_sum_if(cost_usd, part = 'otel') AS otel_cost_usd,
               coalesce(exact_sum_if(cost_usd, part = 'detail'), 0) AS explained_cost_usd,
               sum(tokens) FILTER (WHERE part = 'admin') AS admin_tokens,
               sum(tokens) FILTER (WHERE part = 'otel') AS otel_tokens,
               coalesce(sum(tokens) FILTER (WHERE part = 'detail'), 0) AS explained_tokens,
               coalesce(sum(requests) FILTER (WHERE part = 'detail'), 0) AS transcript_requests
        FROM person
        GROUP BY ALL
    )
    SELECT p.day, person(p.user_name) AS "user", team_of(d.team) AS team,
           usd(p.admin_cost_usd) AS admin_cost_usd, usd(p.otel_cost_usd) AS otel_cost_usd,
           usd(coalesce(p.admin_cost_usd, p.otel_cost_usd)) AS reported_cost_usd,
           usd(p.explained_cost_usd) AS explained_cost_usd,
           usd(coalesce(p.admin_cost_usd, p.otel_cost_usd) - p.explained_cost_usd) AS missing_cost_usd,
           CASE WHEN coalesce(p.admin_cost_usd, p.otel_cost_usd) > 0
                THEN round(p.explained_cost_usd / coalesce(p.admin_cost_usd, p.otel_cost_usd), 4) END AS cost_coverage,
           as_count(p.admin_tokens) AS admin_tokens, as_count(p.otel_tokens) AS otel_tokens,
           as_count(coalesce(p.admin_tokens, p.otel_tokens)) AS reported_tokens,
           as_count(p.explained_tokens) AS explained_tokens,
           CASE WHEN coalesce(p.admin_tokens, p.otel_tokens) > 0
                THEN round(p.explained_tokens / coalesce(p.admin_tokens, p.otel_tokens), 4) END AS token_coverage,
           as_count(p.transcript_requests) AS transcript_requests,
           CASE WHEN p.admin_tokens IS NULL AND p.otel_tokens IS NULL THEN 'no reference'
                WHEN p.explained_tokens = 0 THEN 'no detail'
                WHEN p.explained_tokens < threshold * coalesce(p.admin_tokens, p.otel_tokens) THEN 'partial'
                ELSE 'covered' END AS status
    FROM per_day p
    LEFT JOIN directory d ON d.user_name = p.user_name
    -- Project, source and model do not apply: a reference reports per person and day only.
    WHERE in_period(s, p.day) AND in_people(s, p.user_name, team_of(d.team));
