-- Which repository each session worked in (session_repos) and which commits came out of it
-- (git_links), with the signal and how sure each link is (docs/metrics.md "Outcomes in git"), for
-- the sessions derive_git_touched chose (_git_dirty).

-- Successful edits and the lines they added (a failed, rejected or interrupted edit changed nothing).
-- The dirty sessions' edits are selected first, then their calls by id, then those calls' results
-- by id: a join of the whole tables, filtered after, cost what the ledger holds instead of what is
-- new. The lines themselves are read where each use needs them, within the dirty sessions' span of
-- edit_lines: held in a table, every edit line of a re-derive (2.5 M on an 80x180 org) spilled
-- beyond the refresh's memory_limit, and most uses need only a sum per edit or the paths edited.
-- edit_lines' key is (tool_use_id, file_path, line_hash) (ingest/records.py TABLES: the writer keeps
-- a key's first row), so each of its rows is one line of one edit: nothing to deduplicate.
-- A session filter joined straight onto a scan of edit_lines is pushed into the scan, which then
-- reads every row group instead of the span's (15 ms against 1.5 ms for one session on an 80x180
-- org): the span's rows are summed, or taken whole (MATERIALIZED), before the sessions are chosen.
SET VARIABLE agentledger_span_edit_lines = (
    SELECT [min(rowid), max(rowid)] FROM edit_lines WHERE coalesce(session_id, '(none)') IN (SELECT session_id FROM _git_dirty)
);

CREATE OR REPLACE TEMP TABLE _dirty_edits AS
WITH per_session AS (
    SELECT tool_use_id, coalesce(session_id, '(none)') AS sid, sum(lines) AS lines
    FROM edit_lines WHERE in_span('edit_lines', rowid) GROUP BY ALL
)
SELECT tool_use_id, any_value(sid) AS sid, sum(lines) AS lines
FROM per_session WHERE sid IN (SELECT session_id FROM _git_dirty) GROUP BY tool_use_id;

-- A call or a result is looked up by its id among the dirty sessions' rows first: their span of row
-- ids (in_span, macros.sql; the chunks' spans are done with by now), found from the session column
-- (cheap to read), skips the row groups outside it, and a new session's rows lie together at the
-- tables' tails. Only the ids not found there are looked up in the whole table (mostly none: an
-- empty lookup reads nothing), which reads the whole id column (0.7 M random ids on an 80x180 org:
-- most of what this step cost).
-- The id is each table's key (ingest/records.py TABLES: the writer keeps a key's first row), so an
-- id found in the range has no other row: the rows are exactly those of a lookup in the whole table.
SET VARIABLE agentledger_span_tool_calls = (
    SELECT [min(rowid), max(rowid)] FROM tool_calls WHERE coalesce(session_id, '(none)') IN (SELECT session_id FROM _git_dirty)
);

SET VARIABLE agentledger_span_tool_results = (
    SELECT [min(rowid), max(rowid)] FROM tool_results WHERE coalesce(session_id, '(none)') IN (SELECT session_id FROM _git_dirty)
);

-- The calls are kept (_edit_calls: every call of every id the dirty sessions' edit lines name), so
-- that git_turns (derive_git_survival) finds these edits' requests without another pass over tool_calls.
CREATE OR REPLACE TEMP TABLE _edit_calls AS
WITH spanned AS MATERIALIZED (
    SELECT tool_use_id, ts, request_key FROM tool_calls
    WHERE in_span('tool_calls', rowid)
)
SELECT * FROM spanned WHERE tool_use_id IN (SELECT tool_use_id FROM _dirty_edits);

INSERT INTO _edit_calls
SELECT tool_use_id, ts, request_key FROM tool_calls
WHERE tool_use_id IN (SELECT tool_use_id FROM _dirty_edits EXCEPT SELECT tool_use_id FROM _edit_calls);

CREATE OR REPLACE TEMP TABLE _edit_results AS
WITH spanned AS MATERIALIZED (
    SELECT tool_use_id, is_error, interrupted FROM tool_results
    WHERE in_span('tool_results', rowid)
)
SELECT * FROM spanned WHERE tool_use_id IN (SELECT tool_use_id FROM _edit_calls);

INSERT INTO _edit_results
SELECT tool_use_id, is_error, interrupted FROM tool_results
WHERE tool_use_id IN (SELECT tool_use_id FROM _edit_calls EXCEPT SELECT tool_use_id FROM _edit_results);

-- Per successful edit: its session, the time of its call and the lines it added.
CREATE OR REPLACE TEMP TABLE _edits AS
SELECT d.tool_use_id, d.sid, c.ts, d.lines
FROM _dirty_edits d
JOIN _edit_calls c ON c.tool_use_id = d.tool_use_id
JOIN _edit_results r ON r.tool_use_id = d.tool_use_id
WHERE NOT r.is_error AND NOT r.interrupted;

DROP TABLE _edit_results;
DROP TABLE _dirty_edits;

-- Where each git command ran: the evidence's own directory, else the cwd of the request that made it.
-- Its call and that call's request are looked up as the edits' calls are (request_key is the key of
-- requests), among the dirty sessions' rows first.
SET VARIABLE agentledger_span_requests = (
    SELECT [min(rowid), max(rowid)] FROM requests WHERE coalesce(session_id, '(none)') IN (SELECT session_id FROM _git_dirty)
);

CREATE OR REPLACE TEMP TABLE _evidence AS
WITH dirty AS MATERIALIZED (
    SELECT * FROM commit_evidence
    WHERE sha IS NOT NULL AND ts IS NOT NULL AND coalesce(session_id, '(none)') IN (SELECT session_id FROM _git_dirty)
),
spanned_calls AS MATERIALIZED (
    SELECT tool_use_id, request_key FROM tool_calls
    WHERE in_span('tool_calls', rowid)
),
found_calls AS MATERIALIZED (
    SELECT * FROM spanned_calls WHERE tool_use_id IN (SELECT tool_use_id FROM dirty)
),
calls AS MATERIALIZED (
    SELECT * FROM found_calls
    UNION ALL
    SELECT tool_use_id, request_key FROM tool_calls
    WHERE tool_use_id IN (SELECT tool_use_id FROM dirty WHERE tool_use_id IS NOT NULL EXCEPT SELECT tool_use_id FROM found_calls)
),
spanned_asked AS MATERIALIZED (
    SELECT request_key, project FROM requests
    WHERE in_span('requests', rowid)
),
found_asked AS MATERIALIZED (
    SELECT * FROM spanned_asked WHERE request_key IN (SELECT request_key FROM calls)
),
asked AS MATERIALIZED (
    SELECT * FROM found_asked
    UNION ALL
    SELECT request_key, project FROM requests
    WHERE request_key IN (SELECT request_key FROM calls WHERE request_key IS NOT NULL EXCEPT SELECT request_key FROM found_asked)
)
SELECT v.evidence_key, coalesce(v.session_id, '(none)') AS sid, v.ts, v.kind, v.sha, v.branch, v.subject,
       coalesce(v.dir, q.project) AS dir
FROM dirty v
LEFT JOIN calls c ON c.tool_use_id = v.tool_use_id
LEFT JOIN asked q ON q.request_key = c.request_key;

-- Signal 1: a printed sha that is in a scanned repository (same subject when git printed one).
-- A sha found in several repositories (a fork and its upstream) counts once: landed first.
CREATE OR REPLACE TEMP TABLE _printed AS
SELECT v.*, g.repo_id, g.sha AS found_sha, g.landed, g.author_email, g.authored_at, g.subject AS found_subject
FROM _evidence v
JOIN git_commits g ON left(g.sha, 7) = left(v.sha, 7) AND starts_with(g.sha, v.sha)
WHERE v.kind = 'commit' AND (v.subject IS NULL OR g.subject = v.subject)
QUALIFY row_number() OVER (PARTITION BY v.evidence_key ORDER BY g.landed DESC, g.repo_id) = 1;

-- Signal 2: the landed copy of a printed commit that is not on the default branch (rebased,
-- amended, squashed). Same subject and author date: a rebase keeps both; when the printed commit
-- is gone, its author date was seconds before the tool result.
CREATE OR REPLACE TEMP TABLE _copies AS
WITH wanted AS (
    SELECT v.evidence_key, v.sid, v.ts, v.subject, p.repo_id AS printed_repo, p.found_sha, p.author_email, p.authored_at
    FROM _evidence v LEFT JOIN _printed p USING (evidence_key)
    WHERE v.kind = 'commit' AND v.subject IS NOT NULL AND coalesce(NOT p.landed, TRUE)
),
by_subject AS (
    SELECT w.evidence_key, g.repo_id, g.sha,
           CASE WHEN w.found_sha IS NOT NULL THEN 'same subject and author date as the printed commit'
                ELSE 'same subject, author date and tool result ' || abs(date_diff('second', g.authored_at, w.ts)) || ' s apart' END AS how,
           CASE WHEN w.found_sha IS NOT NULL THEN 0.95 ELSE 0.9 END AS confidence,
           abs(date_diff('millisecond', g.authored_at, coalesce(w.authored_at, w.ts))) AS distance
    FROM wanted w
    JOIN git_commits g ON g.subject = w.subject AND g.landed
    WHERE (w.found_sha IS NOT NULL AND g.repo_id = w.printed_repo AND g.authored_at = w.authored_at
           AND g.author_email IS NOT DISTINCT FROM w.author_email)
       OR (w.found_sha IS NULL AND abs(date_diff('second', g.authored_at, w.ts)) <= $rebase_window_seconds)
),
-- A squash merge renames the subject: the printed commit's distinctive added lines (not boilerplate
-- every other commit adds: git_line_df), mostly, in one landed commit that no printed sha explains.
printed_lines AS (
    SELECT w.evidence_key, w.printed_repo AS repo_id, w.authored_at, a.path, a.line_hash, count(*) AS n
    FROM wanted w
    JOIN git_added_lines a ON a.repo_id = w.printed_repo AND a.sha = w.found_sha
    JOIN git_line_df d ON d.repo_id = a.repo_id AND d.line_hash = a.line_hash AND d.commits <= $common_line_commits
    WHERE w.evidence_key NOT IN (SELECT evidence_key FROM by_subject)
    GROUP BY ALL
),
printed_size AS (SELECT evidence_key, sum(n) AS lines FROM printed_lines GROUP BY evidence_key),
explained AS (
    SELECT repo_id, found_sha AS sha FROM _printed
    UNION SELECT repo_id, sha FROM by_subject
    UNION SELECT repo_id, sha FROM git_links WHERE signal < 3
),
squash_candidates AS (
    SELECT DISTINCT p.evidence_key, g.repo_id, g.sha
    FROM (SELECT DISTINCT evidence_key, repo_id, authored_at FROM printed_lines) p
    JOIN git_commits g ON g.repo_id = p.repo_id AND g.landed
     AND g.committed_at BETWEEN p.authored_at AND p.authored_at + to_milliseconds(CAST($squash_window_days * 86400000 AS BIGINT))
    WHERE NOT EXISTS (SELECT 1 FROM explained x WHERE x.repo_id = g.repo_id AND x.sha = g.sha)
),
candidate_lines AS (
    SELECT c.evidence_key, c.repo_id, c.sha, a.path, a.line_hash, count(*) AS n
    FROM squash_candidates c JOIN git_added_lines a ON a.repo_id = c.repo_id AND a.sha = c.sha
    GROUP BY ALL
),
squashed AS (
    SELECT c.evidence_key, c.repo_id, c.sha,
           'squash: ' || round(100.0 * sum(least(c.n, p.n)) / any_value(s.lines))
               || '% of the printed commit''s distinctive added lines' AS how,
           round(0.8 * sum(least(c.n, p.n)) / any_value(s.lines), 4) AS confidence,
           -sum(least(c.n, p.n)) AS distance
    FROM candidate_lines c
    JOIN printed_lines p ON p.evidence_key = c.evidence_key AND p.path = c.path AND p.line_hash = c.line_hash
    JOIN printed_size s ON s.evidence_key = c.evidence_key
    GROUP BY c.evidence_key, c.repo_id, c.sha
    HAVING sum(least(c.n, p.n)) >= $squash_min_overlap * any_value(s.lines)
)
SELECT * FROM (SELECT * FROM by_subject UNION ALL SELECT * FROM squashed)
QUALIFY row_number() OVER (PARTITION BY evidence_key ORDER BY distance, sha) = 1;

-- Printed commits resolved to the commit that counts: the landed copy, else the printed commit.
CREATE OR REPLACE TEMP TABLE _resolved AS
SELECT v.sid, v.evidence_key, v.ts, v.sha AS printed_sha, v.dir,
       coalesce(c.repo_id, p.repo_id) AS repo_id, coalesce(c.sha, p.found_sha) AS sha,
       CASE WHEN c.sha IS NOT NULL THEN 2 ELSE 1 END AS signal,
       coalesce(c.confidence, 1.0) AS confidence,
       CASE WHEN c.sha IS NOT NULL THEN 'printed ' || v.sha || CASE WHEN p.found_sha IS NULL THEN ' (gone)' ELSE ' (not on the default branch)' END
                                        || ', landed as ' || left(c.sha, 7) || ': ' || c.how
            WHEN p.landed THEN 'printed ' || v.sha || ', on the default branch'
            ELSE 'printed ' || v.sha || ', not on the default branch' END AS evidence
FROM _evidence v
LEFT JOIN _printed p USING (evidence_key)
LEFT JOIN _copies c USING (evidence_key)
WHERE v.kind = 'commit' AND coalesce(c.sha, p.found_sha) IS NOT NULL;

-- Roots: the laptop path of each repository a session committed in. Candidates are the prefixes
-- that turn the session's edited paths into paths of the repository (matched by file name, then
-- suffix) and that contain a directory a commit ran in; the one explaining the most paths wins.
-- The paths each session edited: only those whose file name some scanned repository file has can
-- match (below), so none is read when no repository is scanned.
SET VARIABLE agentledger_git_paths = (SELECT EXISTS (SELECT 1 FROM git_paths));

CREATE OR REPLACE TEMP TABLE _edit_paths AS
WITH edited AS (
    SELECT DISTINCT tool_use_id, coalesce(session_id, '(none)') AS sid, file_path FROM edit_lines
    WHERE getvariable('agentledger_git_paths') AND in_span('edit_lines', rowid)
),
named AS (
    SELECT DISTINCT sid, file_path, regexp_extract(file_path, '[^/]*$') AS base FROM edited
    WHERE sid IN (SELECT session_id FROM _git_dirty) AND tool_use_id IN (SELECT tool_use_id FROM _edits)
)
SELECT * FROM named WHERE base IN (SELECT base FROM git_paths);

CREATE OR REPLACE TEMP TABLE _evidence_roots AS
WITH dirs AS (SELECT DISTINCT sid, repo_id, dir FROM _resolved WHERE dir IS NOT NULL),
candidates AS (
    SELECT d.sid, d.repo_id, left(e.file_path, length(e.file_path) - length(f.path) - 1) AS root,
           count(DISTINCT e.file_path) AS paths
    FROM dirs d
    JOIN _edit_paths e ON e.sid = d.sid
    JOIN git_paths f ON f.repo_id = d.repo_id AND f.base = e.base AND suffix(e.file_path, '/' || f.path)
    WHERE d.dir = left(e.file_path, length(e.file_path) - length(f.path) - 1)
       OR starts_with(d.dir, left(e.file_path, length(e.file_path) - length(f.path) - 1) || '/')
    GROUP BY ALL
)
SELECT d.sid, d.repo_id, coalesce(c.root, d.dir) AS root
FROM (SELECT sid, repo_id, mode(dir) AS dir FROM _resolved WHERE dir IS NOT NULL GROUP BY ALL) d
LEFT JOIN (SELECT * FROM candidates QUALIFY row_number() OVER (PARTITION BY sid, repo_id ORDER BY paths DESC, length(root) DESC) = 1) c
  USING (sid, repo_id);

-- Sessions no commit maps: the mapping file (a path prefix -> repository name or path), else
-- their edited paths, when one repository explains at least two of them better than any other.
CREATE OR REPLACE TEMP TABLE _session_dirs AS
SELECT coalesce(session_id, '(none)') AS sid, project AS dir FROM requests
WHERE project IS NOT NULL AND coalesce(session_id, '(none)') IN (SELECT session_id FROM _git_dirty) GROUP BY ALL;

CREATE OR REPLACE TEMP TABLE _mapped_roots AS
SELECT s.sid, r.repo_id, m.prefix AS root
FROM _session_dirs s
JOIN git_path_map m ON s.dir = m.prefix OR starts_with(s.dir, rtrim(m.prefix, '/') || '/')
JOIN git_repos r ON r.name = m.repo OR r.path = m.repo
WHERE s.sid IN (SELECT sid FROM _edits) AND s.sid NOT IN (SELECT sid FROM _evidence_roots)
QUALIFY row_number() OVER (PARTITION BY s.sid, r.repo_id ORDER BY length(m.prefix) DESC) = 1;

CREATE OR REPLACE TEMP TABLE _matched_roots AS
WITH candidates AS (
    SELECT e.sid, f.repo_id, left(e.file_path, length(e.file_path) - length(f.path) - 1) AS root,
           count(DISTINCT e.file_path) AS paths
    FROM _edit_paths e
    JOIN git_paths f ON f.base = e.base AND suffix(e.file_path, '/' || f.path)
    WHERE e.sid NOT IN (SELECT sid FROM _evidence_roots) AND e.sid NOT IN (SELECT sid FROM _mapped_roots)
    GROUP BY ALL
),
ranked AS (
    SELECT *, row_number() OVER (PARTITION BY sid ORDER BY paths DESC) AS rank,
           lead(paths) OVER (PARTITION BY sid ORDER BY paths DESC) AS runner_up
    FROM candidates
)
SELECT sid, repo_id, root FROM ranked
WHERE rank = 1 AND paths >= 2 AND coalesce(runner_up, 0) < paths;

INSERT INTO session_repos
SELECT sid, repo_id, root, 'commit evidence' FROM _evidence_roots
UNION ALL SELECT sid, repo_id, root, 'mapping file' FROM _mapped_roots
UNION ALL SELECT sid, repo_id, root, 'path match' FROM _matched_roots;

-- The pool: each session's agent-written lines, as paths relative to the root of the repository
-- they lie in (the deepest root, for a repository inside another). Lines outside every root stay out.
SET VARIABLE agentledger_git_pooled = (
    SELECT EXISTS (SELECT 1 FROM session_repos WHERE session_id IN (SELECT session_id FROM _git_dirty))
);

CREATE OR REPLACE TEMP TABLE _pool AS
WITH spanned AS MATERIALIZED (
    SELECT tool_use_id, session_id, file_path, line_hash, lines FROM edit_lines
    WHERE getvariable('agentledger_git_pooled') AND in_span('edit_lines', rowid)
),
lines AS (
    SELECT e.tool_use_id, coalesce(e.session_id, '(none)') AS sid, d.ts, e.file_path, e.line_hash, e.lines
    FROM spanned e JOIN _edits d ON d.tool_use_id = e.tool_use_id
    WHERE coalesce(e.session_id, '(none)') IN (SELECT session_id FROM _git_dirty)
)
SELECT e.sid, s.repo_id, e.tool_use_id, e.ts, substr(e.file_path, length(s.root) + 2) AS path, e.line_hash, e.lines
FROM lines e
JOIN session_repos s ON s.session_id = e.sid AND starts_with(e.file_path, rtrim(s.root, '/') || '/')
QUALIFY row_number() OVER (PARTITION BY e.tool_use_id, e.file_path, e.line_hash ORDER BY length(s.root) DESC) = 1;

-- Signal 3: a commit of the session's repository, authored between its first edit and
-- $overlap_window_hours after its last, whose distinctive added lines (not boilerplate: git_line_df)
-- are enough of them lines the session wrote before it (a person committing the agent's work). For a
-- session that printed commits, only lines its printed commits did not add count, and only commits
-- no printed sha explains (its own or another session's).
CREATE OR REPLACE TEMP TABLE _overlaps AS
WITH printing AS (SELECT DISTINCT sid FROM _evidence WHERE kind = 'commit'),
explained AS (
    SELECT DISTINCT repo_id, sha FROM _resolved
    UNION SELECT repo_id, found_sha FROM _printed
    UNION SELECT repo_id, sha FROM git_links WHERE signal < 3
),
spans AS (SELECT sid, repo_id, min(ts) AS first_edit, max(ts) AS last_edit FROM _pool GROUP BY ALL),
candidates AS (
    SELECT s.sid, g.repo_id, g.sha, g.authored_at
    FROM spans s
    JOIN git_commits g ON g.repo_id = s.repo_id AND g.reachable AND g.nonblank_added > 0
     AND g.authored_at > s.first_edit
     AND g.authored_at <= s.last_edit + to_milliseconds(CAST($overlap_window_hours * 3600000 AS BIGINT))
    WHERE s.sid NOT IN (SELECT sid FROM printing)
       OR NOT EXISTS (SELECT 1 FROM explained x WHERE x.repo_id = g.repo_id AND x.sha = g.sha)
),
added AS (
    SELECT a.repo_id, a.sha, a.path, a.line_hash, count(*) AS n
    FROM git_added_lines a JOIN (SELECT DISTINCT repo_id, sha FROM candidates) c USING (repo_id, sha)
    JOIN git_line_df d ON d.repo_id = a.repo_id AND d.line_hash = a.line_hash AND d.commits <= $common_line_commits
    GROUP BY ALL
),
commit_size AS (SELECT repo_id, sha, sum(n) AS added FROM added GROUP BY ALL),
self_committed AS (
    SELECT r.sid, r.repo_id, a.path, a.line_hash, count(*) AS n
    FROM (SELECT DISTINCT sid, repo_id, sha FROM _resolved) r
    JOIN git_added_lines a ON a.repo_id = r.repo_id AND a.sha = r.sha
    GROUP BY ALL
),
-- Only the lines the candidate commit added count (shared, below): the pool's other lines are left
-- out before the grouping (a session's whole pool per candidate commit was 1.4 M rows on the 40x40 org).
written AS (
    SELECT c.sid, c.repo_id, c.sha, p.path, p.line_hash, sum(p.lines) AS lines
    FROM candidates c JOIN _pool p ON p.sid = c.sid AND p.repo_id = c.repo_id AND p.ts <= c.authored_at
    JOIN added a ON a.repo_id = c.repo_id AND a.sha = c.sha AND a.path = p.path AND a.line_hash = p.line_hash
    GROUP BY c.sid, c.repo_id, c.sha, p.path, p.line_hash
),
left_over AS (
    SELECT w.sid, w.repo_id, w.sha, w.path, w.line_hash, w.lines - coalesce(k.n, 0) AS lines
    FROM written w LEFT JOIN self_committed k USING (sid, repo_id, path, line_hash)
    WHERE w.lines > coalesce(k.n, 0)
),
shared AS (
    SELECT c.sid, c.repo_id, c.sha, any_value(c.authored_at) AS authored_at, any_value(z.added) AS added,
           sum(least(w.lines, a.n)) AS overlap
    FROM candidates c
    JOIN commit_size z ON z.repo_id = c.repo_id AND z.sha = c.sha
    JOIN added a ON a.repo_id = c.repo_id AND a.sha = c.sha
    JOIN left_over w ON w.sid = c.sid AND w.repo_id = a.repo_id AND w.sha = a.sha AND w.path = a.path
                    AND w.line_hash = a.line_hash
    GROUP BY c.sid, c.repo_id, c.sha
)
SELECT * FROM shared
WHERE overlap >= $overlap_min_lines AND overlap >= $overlap_min_share * added;

-- The links, with the branch state of their commit then (derive_git_touched redoes a session whose
-- linked commit has since been merged or rewritten away).
INSERT INTO git_links BY NAME
SELECT l.*, g.landed, g.reachable
FROM (
    SELECT sid AS session_id, repo_id, sha, string_agg(printed_sha, ' ' ORDER BY ts) AS printed_sha,
           min(signal) AS signal, min(confidence) AS confidence, max(ts) AS linked_at,
           string_agg(evidence, '; ' ORDER BY ts) AS evidence
    FROM _resolved GROUP BY sid, repo_id, sha
    UNION ALL
    SELECT sid, repo_id, sha, NULL, 3, round(overlap / added, 4), authored_at,
           overlap || ' of its ' || added || ' distinctive added lines were written by the session'
    FROM _overlaps
) l
JOIN git_commits g ON g.repo_id = l.repo_id AND g.sha = l.sha;
