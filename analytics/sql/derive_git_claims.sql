-- Agent lines in linked commits (docs/metrics.md "Outcomes in git"): what each session of _git_dirty
-- claims of its linked commits (git_claims), then, for every commit whose claims changed, which of its
-- added lines are whose (commit_agent_lines), and the blame snapshots survival needs (git_blame_plan).

-- Each linked commit's added lines, on the path of the session's pool they are matched against:
-- the same path, or (a file moved by a shell command) the one pool path with the same file name.
CREATE OR REPLACE TEMP TABLE _pool_paths AS
SELECT DISTINCT sid, repo_id, path, regexp_extract(path, '[^/]*$') AS base FROM _pool;

CREATE OR REPLACE TEMP TABLE _link_lines AS
WITH files AS (
    SELECT l.session_id AS sid, l.repo_id, l.sha, l.linked_at, f.path
    FROM git_links l JOIN git_commit_files f ON f.repo_id = l.repo_id AND f.sha = l.sha
    WHERE l.session_id IN (SELECT session_id FROM _git_dirty)
),
unique_base AS (
    SELECT sid, repo_id, base, any_value(path) AS path FROM _pool_paths GROUP BY ALL HAVING count(*) = 1
),
mapped AS (
    SELECT f.*, coalesce(exact.path, moved.path) AS pool_path
    FROM files f
    LEFT JOIN _pool_paths exact ON exact.sid = f.sid AND exact.repo_id = f.repo_id AND exact.path = f.path
    LEFT JOIN unique_base moved ON moved.sid = f.sid AND moved.repo_id = f.repo_id
                               AND moved.base = regexp_extract(f.path, '[^/]*$')
)
SELECT m.sid, m.repo_id, m.sha, m.linked_at, m.path, m.pool_path, a.line_no, a.line_hash
FROM mapped m
JOIN git_added_lines a ON a.repo_id = m.repo_id AND a.sha = m.sha AND a.path = m.path
WHERE m.pool_path IS NOT NULL;

-- Multiset matching with a carried-forward pool, per (session, pool path, line): commit k, in
-- link order, matches m_k = M_k - M_(k-1) lines, where M_k = min(M_(k-1) + a_k, W_k) (a_k: its
-- added copies, W_k: copies written before its link time). Unrolled: M_k = A_k + min(0, min_(j<=k) (W_j - A_j)).
CREATE OR REPLACE TEMP TABLE _matched AS
WITH per_commit AS (
    SELECT sid, repo_id, sha, linked_at, pool_path, line_hash, count(*) AS added
    FROM _link_lines GROUP BY ALL
),
written AS (
    SELECT c.sid, c.repo_id, c.sha, c.pool_path, c.line_hash, coalesce(sum(p.lines), 0) AS written
    FROM per_commit c
    LEFT JOIN _pool p ON p.sid = c.sid AND p.repo_id = c.repo_id AND p.path = c.pool_path
                     AND p.line_hash = c.line_hash AND p.ts <= c.linked_at
    GROUP BY ALL
),
cumulative AS (
    SELECT c.*, w.written,
           sum(c.added) OVER k AS added_so_far
    FROM per_commit c JOIN written w USING (sid, repo_id, sha, pool_path, line_hash)
    WINDOW k AS (PARTITION BY c.sid, c.repo_id, c.pool_path, c.line_hash ORDER BY c.linked_at, c.sha
                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
),
totals AS (
    SELECT *, added_so_far + least(0, min(written - added_so_far) OVER k) AS matched_so_far
    FROM cumulative
    WINDOW k AS (PARTITION BY sid, repo_id, pool_path, line_hash ORDER BY linked_at, sha
                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
SELECT sid, repo_id, sha, linked_at, pool_path, line_hash,
       matched_so_far - coalesce(lag(matched_so_far) OVER k, 0) AS matched,
       coalesce(lag(matched_so_far) OVER k, 0) AS matched_before
FROM totals
WINDOW k AS (PARTITION BY sid, repo_id, pool_path, line_hash ORDER BY linked_at, sha);

-- A session's claim: the first m_k copies of the line in the commit, in file order, each traced to
-- the edit that wrote it (the pool is consumed first-written first: position matched_before + k).
INSERT INTO git_claims BY NAME
WITH ranked AS (
    SELECT l.*, row_number() OVER (PARTITION BY l.sid, l.repo_id, l.sha, l.pool_path, l.line_hash
                                   ORDER BY l.path, l.line_no) AS copy_no
    FROM _link_lines l
),
chosen AS (
    SELECT r.sid, r.repo_id, r.sha, r.linked_at, r.path, r.pool_path, r.line_hash, m.matched_before + r.copy_no AS position
    FROM ranked r
    JOIN _matched m ON m.sid = r.sid AND m.repo_id = r.repo_id AND m.sha = r.sha AND m.pool_path = r.pool_path
                   AND m.line_hash = r.line_hash
    WHERE r.copy_no <= m.matched
),
fifo AS (
    SELECT sid, repo_id, path, line_hash, tool_use_id,
           sum(lines) OVER w - lines AS first_position, sum(lines) OVER w AS last_position
    FROM _pool
    WINDOW w AS (PARTITION BY sid, repo_id, path, line_hash ORDER BY ts, tool_use_id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
SELECT c.sid AS session_id, c.repo_id, c.sha, c.path, c.line_hash,
       row_number() OVER (PARTITION BY c.sid, c.repo_id, c.sha, c.path, c.line_hash ORDER BY c.position) AS copy_no,
       f.tool_use_id, c.linked_at
FROM chosen c
JOIN fifo f ON f.sid = c.sid AND f.repo_id = c.repo_id AND f.path = c.pool_path AND f.line_hash = c.line_hash
           AND c.position > f.first_position AND c.position <= f.last_position;

INSERT INTO _git_affected
SELECT DISTINCT repo_id, sha FROM git_claims WHERE session_id IN (SELECT session_id FROM _git_dirty);

-- Edits whose lines in commits are about to change: their outcome counts are redone afterwards.
CREATE OR REPLACE TEMP TABLE _git_fate AS
SELECT DISTINCT a.tool_use_id FROM commit_agent_lines a
WHERE EXISTS (SELECT 1 FROM _git_affected x WHERE x.repo_id = a.repo_id AND x.sha = a.sha);

-- Which added lines are whose: per line of a commit, the sessions that claimed copies of it take
-- them in link order (an earlier link first), copies in file order; claims beyond the copies lapse.
DELETE FROM commit_agent_lines a WHERE EXISTS (SELECT 1 FROM _git_affected x WHERE x.repo_id = a.repo_id AND x.sha = a.sha);

INSERT INTO commit_agent_lines BY NAME
WITH claimed AS (
    SELECT c.* FROM git_claims c
    WHERE EXISTS (SELECT 1 FROM _git_affected x WHERE x.repo_id = c.repo_id AND x.sha = c.sha)
),
sessions AS (
    SELECT session_id, repo_id, sha, path, line_hash, any_value(linked_at) AS linked_at, count(*) AS n
    FROM claimed GROUP BY session_id, repo_id, sha, path, line_hash
),
offsets AS (
    SELECT *, coalesce(sum(n) OVER (PARTITION BY repo_id, sha, path, line_hash ORDER BY linked_at, session_id
                                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS taken_before
    FROM sessions
),
copies AS (
    SELECT a.repo_id, a.sha, a.path, a.line_hash, a.line_no,
           row_number() OVER (PARTITION BY a.repo_id, a.sha, a.path, a.line_hash ORDER BY a.line_no) AS copy
    FROM git_added_lines a
    WHERE EXISTS (SELECT 1 FROM _git_affected x WHERE x.repo_id = a.repo_id AND x.sha = a.sha)
)
SELECT c.session_id, c.repo_id, c.sha, c.path, p.line_no, c.tool_use_id, g.landed
FROM claimed c
JOIN offsets o ON o.session_id = c.session_id AND o.repo_id = c.repo_id AND o.sha = c.sha AND o.path = c.path
              AND o.line_hash = c.line_hash
JOIN copies p ON p.repo_id = c.repo_id AND p.sha = c.sha AND p.path = c.path AND p.line_hash = c.line_hash
             AND p.copy = o.taken_before + c.copy_no
JOIN git_commits g ON g.repo_id = c.repo_id AND g.sha = c.sha;

INSERT INTO _git_fate
SELECT DISTINCT a.tool_use_id FROM commit_agent_lines a
WHERE EXISTS (SELECT 1 FROM _git_affected x WHERE x.repo_id = a.repo_id AND x.sha = a.sha);

-- Snapshots to blame: the head of the default branch, and its first first-parent commit at or after
-- the commit's time + 7 and + 30 days (none yet: the figure is not due). Redone for the commits
-- whose agent lines were assigned again, and for every agent-line commit of a repository whose
-- history moved (a new head; +7/+30 d snapshots that have come since).
CREATE OR REPLACE TEMP TABLE _git_planned AS
SELECT DISTINCT a.repo_id, a.sha, a.path, g.committed_at
FROM commit_agent_lines a JOIN git_commits g ON g.repo_id = a.repo_id AND g.sha = a.sha
WHERE a.landed AND (a.repo_id IN (SELECT repo_id FROM _git_repos)
                    OR EXISTS (SELECT 1 FROM _git_affected x WHERE x.repo_id = a.repo_id AND x.sha = a.sha));

DELETE FROM git_blame_plan p
WHERE p.repo_id IN (SELECT repo_id FROM _git_repos)
   OR EXISTS (SELECT 1 FROM _git_affected x WHERE x.repo_id = p.repo_id AND x.sha = p.sha);

INSERT INTO git_blame_plan BY NAME
WITH horizons AS (
    SELECT t.*, h.horizon, h.days FROM _git_planned t, (VALUES ('7d', 7), ('30d', 30)) h(horizon, days)
),
snapshots AS (
    SELECT h.repo_id, h.sha, h.horizon, h.path, arg_min(m.sha, m.committed_at) AS snapshot
    FROM horizons h
    JOIN git_commits m ON m.repo_id = h.repo_id AND m.mainline AND m.committed_at >= h.committed_at + to_days(h.days)
    GROUP BY ALL
)
SELECT repo_id, sha, horizon, snapshot, path FROM snapshots
UNION ALL
SELECT t.repo_id, t.sha, 'head', r.head_sha, t.path
FROM _git_planned t JOIN git_repos r ON r.repo_id = t.repo_id WHERE r.head_sha IS NOT NULL;
