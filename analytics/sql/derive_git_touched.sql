-- Which sessions' links to git are derived again (docs/architecture.md "Git"): those with log rows
-- from runs after the last refresh ($after_run; -1 redoes every session), and those a scan may have
-- changed: sessions active near the commits it added, sessions whose linked commits moved branch
-- (merged, rewritten), and sessions the mapping file maps differently. Their rows in session_repos,
-- git_links and git_claims are deleted here and derived again by the next steps.

-- Repositories a scan changed since the last refresh (new commits, moved branches, a new default).
CREATE OR REPLACE TEMP TABLE _git_repos AS
SELECT repo_id FROM git_repos WHERE run_id > $after_run;

-- New commits link only to sessions active near them: a printed commit is committed while its
-- session runs, a rebase keeps the author date, a squash lands within the squash window, a person
-- commits the agent's work within the overlap window (a day of slack for clocks). The span is set
-- as constants so the scans below skip what lies outside it by zone maps (no new commit: NULL,
-- and nothing is near).
SET VARIABLE agentledger_git_lo = (
    SELECT min(least(authored_at, committed_at)) - to_milliseconds(CAST(($squash_window_days + 1) * 86400000 AS BIGINT))
    FROM git_commits WHERE run_id > $after_run
);
SET VARIABLE agentledger_git_hi = (
    SELECT max(greatest(authored_at, committed_at)) + to_milliseconds(CAST(($overlap_window_hours + 24) * 3600000 AS BIGINT))
    FROM git_commits WHERE run_id > $after_run
);

CREATE OR REPLACE TEMP TABLE _git_dirty AS
WITH near AS (
    SELECT e.session_id FROM edit_outcomes e
    WHERE e.ts BETWEEN getvariable('agentledger_git_lo') AND getvariable('agentledger_git_hi')
    UNION SELECT coalesce(v.session_id, '(none)') FROM commit_evidence v
    WHERE v.ts BETWEEN getvariable('agentledger_git_lo') AND getvariable('agentledger_git_hi')
),
moved AS (
    SELECT l.session_id FROM git_links l JOIN git_commits g ON g.repo_id = l.repo_id AND g.sha = l.sha
    WHERE l.repo_id IN (SELECT repo_id FROM _git_repos) AND (l.landed <> g.landed OR l.reachable <> g.reachable)
),
remapped AS (
    -- A new mapping file: every session it mapped, and every session under one of its prefixes now.
    SELECT session_id FROM session_repos
    WHERE mapped_by = 'mapping file'
      AND (EXISTS (SELECT 1 FROM git_path_map WHERE run_id > $after_run) OR NOT EXISTS (SELECT 1 FROM git_path_map))
    UNION SELECT coalesce(q.session_id, '(none)') FROM requests q
    JOIN git_path_map m ON m.run_id > $after_run AND (q.project = m.prefix OR starts_with(q.project, rtrim(m.prefix, '/') || '/'))
)
SELECT session_id FROM _touched
UNION SELECT coalesce(session_id, '(none)') FROM edit_lines WHERE run_id > $after_run
UNION SELECT coalesce(session_id, '(none)') FROM commit_evidence WHERE run_id > $after_run
UNION SELECT session_id FROM near
UNION SELECT session_id FROM moved
UNION SELECT session_id FROM remapped;

-- Commits the dirty sessions claimed lines of: their agent lines are assigned again (other
-- sessions on them included), with the commits the new claims name (derive_git_claims).
CREATE OR REPLACE TEMP TABLE _git_affected AS
SELECT DISTINCT repo_id, sha FROM git_claims WHERE session_id IN (SELECT session_id FROM _git_dirty);

DELETE FROM session_repos WHERE session_id IN (SELECT session_id FROM _git_dirty);
DELETE FROM git_links WHERE session_id IN (SELECT session_id FROM _git_dirty);
DELETE FROM git_claims WHERE session_id IN (SELECT session_id FROM _git_dirty);
