-- Survival of agent lines (git blame at each snapshot of git_blame_plan) and the per-edit outcome
-- rows every git measure sums (edit_outcomes). Needs _edits (one row per successful edit) and _pool
-- from derive_git_links.

-- A repository whose history moved has new snapshots: its lines' survival is figured again.
INSERT INTO _git_fate
SELECT DISTINCT tool_use_id FROM commit_agent_lines WHERE repo_id IN (SELECT repo_id FROM _git_repos);

UPDATE commit_agent_lines SET alive_7d = NULL, alive_30d = NULL, alive_head = NULL
WHERE repo_id IN (SELECT repo_id FROM _git_repos);

-- A line is alive at a snapshot when blame there traces a line to the same commit, path and line
-- number; NULL when the snapshot is not due yet or its blame is not done or failed (a missing
-- object). Only lines with a figure still unknown are looked at: a snapshot's blame never changes.
CREATE OR REPLACE TEMP TABLE _alive AS
WITH unknown AS (
    SELECT repo_id, sha, path, line_no FROM commit_agent_lines
    WHERE landed AND (alive_7d IS NULL OR alive_30d IS NULL OR alive_head IS NULL)
),
per_horizon AS (
    SELECT a.repo_id, a.sha, a.path, a.line_no, p.horizon,
           CASE WHEN any_value(b.status) = 'ok' THEN count(r.lines) > 0
                WHEN any_value(b.status) = 'absent' THEN FALSE END AS alive
    FROM unknown a
    JOIN git_blame_plan p ON p.repo_id = a.repo_id AND p.sha = a.sha AND p.path = a.path
    JOIN git_blamed b ON b.repo_id = p.repo_id AND b.snapshot = p.snapshot AND b.path = p.path
    LEFT JOIN git_blame r ON r.repo_id = p.repo_id AND r.snapshot = p.snapshot AND r.path = p.path
                         AND r.orig_sha = a.sha AND r.orig_path = a.path
                         AND a.line_no >= r.orig_start AND a.line_no < r.orig_start + r.lines
    GROUP BY a.repo_id, a.sha, a.path, a.line_no, p.horizon
)
SELECT repo_id, sha, path, line_no,
       any_value(alive) FILTER (WHERE horizon = '7d') AS alive_7d,
       any_value(alive) FILTER (WHERE horizon = '30d') AS alive_30d,
       any_value(alive) FILTER (WHERE horizon = 'head') AS alive_head
FROM per_horizon GROUP BY ALL;

INSERT INTO _git_fate
SELECT DISTINCT c.tool_use_id FROM commit_agent_lines c
JOIN _alive x ON x.repo_id = c.repo_id AND x.sha = c.sha AND x.path = c.path AND x.line_no = c.line_no
WHERE x.alive_7d IS DISTINCT FROM c.alive_7d OR x.alive_30d IS DISTINCT FROM c.alive_30d
   OR x.alive_head IS DISTINCT FROM c.alive_head;

UPDATE commit_agent_lines AS c SET alive_7d = x.alive_7d, alive_30d = x.alive_30d, alive_head = x.alive_head
FROM _alive x
WHERE x.repo_id = c.repo_id AND x.sha = c.sha AND x.path = c.path AND x.line_no = c.line_no
  AND (x.alive_7d IS DISTINCT FROM c.alive_7d OR x.alive_30d IS DISTINCT FROM c.alive_30d
       OR x.alive_head IS DISTINCT FROM c.alive_head);

-- Per successful edit of a session derived again: lines written (within a mapped root; all of them
-- where the session maps to no repository) and what became of them.
DELETE FROM edit_outcomes WHERE session_id IN (SELECT session_id FROM _git_dirty);

INSERT INTO edit_outcomes BY NAME
WITH written AS (SELECT tool_use_id, sid, ts, lines FROM _edits),
pooled AS (
    SELECT tool_use_id, any_value(repo_id) AS repo_id, sum(lines) AS lines FROM _pool GROUP BY tool_use_id
)
SELECT w.tool_use_id, w.sid AS session_id, p.repo_id, w.ts,
       CASE WHEN w.sid IN (SELECT session_id FROM session_repos) THEN coalesce(p.lines, 0) ELSE w.lines END AS lines_written,
       0 AS lines_committed, 0 AS lines_landed, 0 AS lines_due_7d, 0 AS lines_alive_7d, 0 AS lines_due_30d,
       0 AS lines_alive_30d, 0 AS lines_alive_head
FROM written w LEFT JOIN pooled p USING (tool_use_id);

-- What became of the lines: for the edits just written and every edit whose lines in commits changed.
UPDATE edit_outcomes AS e
SET lines_committed = f.committed, lines_landed = f.landed, lines_due_7d = f.due_7d, lines_alive_7d = f.alive_7d,
    lines_due_30d = f.due_30d, lines_alive_30d = f.alive_30d, lines_alive_head = f.alive_head
FROM (
    SELECT t.tool_use_id, count(a.tool_use_id) AS committed, count(*) FILTER (WHERE a.landed) AS landed,
           count(a.alive_7d) AS due_7d, count(*) FILTER (WHERE a.alive_7d) AS alive_7d,
           count(a.alive_30d) AS due_30d, count(*) FILTER (WHERE a.alive_30d) AS alive_30d,
           count(*) FILTER (WHERE a.alive_head) AS alive_head
    FROM (SELECT tool_use_id FROM _git_fate UNION SELECT tool_use_id FROM _edits) t
    LEFT JOIN commit_agent_lines a ON a.tool_use_id = t.tool_use_id
    GROUP BY t.tool_use_id
) f
WHERE e.tool_use_id = f.tool_use_id;

-- Per session and turn: what its edits wrote and what became of it, for the sessions derived again
-- and those whose edits' fate changed.
CREATE OR REPLACE TEMP TABLE _git_turned AS
SELECT session_id FROM _git_dirty
UNION SELECT e.session_id FROM edit_outcomes e WHERE e.tool_use_id IN (SELECT tool_use_id FROM _git_fate);

DELETE FROM git_turns WHERE session_id IN (SELECT session_id FROM _git_turned);

-- Their edits first, then those edits' calls and requests by key (not a join of whole tables).
-- _edit_calls holds every call of the ids it holds (derive_git_links): only the other edits' calls
-- (an edit whose fate alone changed) are looked up in tool_calls, and mostly there are none (an
-- empty lookup reads nothing; one with a single id reads the whole id column).
CREATE OR REPLACE TEMP TABLE _turn_calls AS
WITH turned AS (
    SELECT tool_use_id FROM edit_outcomes WHERE session_id IN (SELECT session_id FROM _git_turned)
)
SELECT tool_use_id, request_key FROM _edit_calls WHERE tool_use_id IN (SELECT tool_use_id FROM turned)
UNION ALL
SELECT tool_use_id, request_key FROM tool_calls
WHERE tool_use_id IN (SELECT tool_use_id FROM turned WHERE tool_use_id IS NOT NULL
                      EXCEPT SELECT tool_use_id FROM _edit_calls WHERE tool_use_id IS NOT NULL);

-- The requests' turns, each edit's among its own session's rows of request_facts: a session's
-- turns are numbered within it, and its page shows git_turns beside its own turns. A request key
-- need not be request_facts' key: when a request moves to another session (a resumed session's
-- copy wins the dedup rule), the old session's row stays until that session is derived again, and
-- the new session has a row of its own. An edit whose request its session does not hold counts in
-- turn 0, as an edit of no known request. The turned sessions' rows lie within their span.
SET VARIABLE agentledger_span_request_facts = (
    SELECT [min(rowid), max(rowid)] FROM request_facts WHERE session_id IN (SELECT session_id FROM _git_turned)
);

INSERT INTO git_turns BY NAME
WITH turned AS MATERIALIZED (
    SELECT * FROM edit_outcomes WHERE session_id IN (SELECT session_id FROM _git_turned)
),
spanned AS MATERIALIZED (
    SELECT session_id, request_key, turn_no FROM request_facts WHERE in_span('request_facts', rowid)
),
turns AS MATERIALIZED (
    SELECT * FROM spanned WHERE request_key IN (SELECT request_key FROM _turn_calls)
)
SELECT e.session_id, coalesce(f.turn_no, 0) AS turn_no, sum(e.lines_written) AS lines_written,
       sum(e.lines_committed) AS lines_committed, sum(e.lines_landed) AS lines_landed,
       sum(e.lines_alive_head) AS lines_alive_head
FROM turned e
JOIN _turn_calls c ON c.tool_use_id = e.tool_use_id
LEFT JOIN turns f ON f.session_id = e.session_id AND f.request_key = c.request_key
GROUP BY e.session_id, coalesce(f.turn_no, 0);
