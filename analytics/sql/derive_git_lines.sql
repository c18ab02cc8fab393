-- Agent lines in linked commits (commit_agent_lines) and the blame snapshots they need
-- (git_blame_plan). Needs _pool from derive_git_links. Definitions: docs/metrics.md "Outcomes in git".

-- Each linked commit's added lines, on the path of the session's pool they are matched against:
-- the same path, or (a file moved by a shell command) the one pool path with the same file name.
CREATE OR REPLACE TEMP TABLE _pool_paths AS
SELECT DISTINCT sid, repo_id, path, regexp_extract(path, '[^/]*$') AS base FROM _pool;

CREATE OR REPLACE TEMP TABLE _link_lines AS
WITH files AS (
    SELECT l.session_id AS sid, l.repo_id, l.sha, l.linked_at, f.path
    FROM git_links l JOIN git_commit_files f ON f.repo_id = l.repo_id AND f.sha = l.sha
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

-- Which added lines are the agent's: the first m_k copies in file order; when several sessions
-- matched one commit's line, they take its copies in link order. Each is traced to the edit that
-- wrote it: the pool is consumed first-written first (position matched_before + rank).
CREATE OR REPLACE TEMP TABLE _agent_lines AS
WITH shares AS (
    SELECT m.*, coalesce(sum(m.matched) OVER s, 0) - m.matched AS offset_in_commit
    FROM _matched m WHERE m.matched > 0
    WINDOW s AS (PARTITION BY m.repo_id, m.sha, m.pool_path, m.line_hash ORDER BY m.linked_at, m.sid
                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
),
ranked AS (
    SELECT l.*, row_number() OVER (PARTITION BY l.sid, l.repo_id, l.sha, l.path, l.line_hash ORDER BY l.line_no) AS copy_no,
           row_number() OVER (PARTITION BY l.repo_id, l.sha, l.path, l.line_hash ORDER BY l.line_no) AS commit_copy_no
    FROM _link_lines l
),
chosen AS (
    SELECT r.sid, r.repo_id, r.sha, r.path, r.line_no, r.pool_path, r.line_hash,
           s.matched_before + r.commit_copy_no - s.offset_in_commit AS position
    FROM ranked r
    JOIN shares s ON s.sid = r.sid AND s.repo_id = r.repo_id AND s.sha = r.sha AND s.pool_path = r.pool_path
                 AND s.line_hash = r.line_hash
    WHERE r.commit_copy_no > s.offset_in_commit AND r.commit_copy_no <= s.offset_in_commit + s.matched
),
fifo AS (
    SELECT sid, repo_id, path, line_hash, tool_use_id,
           sum(lines) OVER w - lines AS first_position, sum(lines) OVER w AS last_position
    FROM _pool
    WINDOW w AS (PARTITION BY sid, repo_id, path, line_hash ORDER BY ts, tool_use_id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
SELECT c.sid, c.repo_id, c.sha, c.path, c.line_no, f.tool_use_id
FROM chosen c
JOIN fifo f ON f.sid = c.sid AND f.repo_id = c.repo_id AND f.path = c.pool_path AND f.line_hash = c.line_hash
           AND c.position > f.first_position AND c.position <= f.last_position;

DELETE FROM commit_agent_lines;
INSERT INTO commit_agent_lines
SELECT a.sid, a.repo_id, a.sha, a.path, a.line_no, a.tool_use_id, g.landed, NULL, NULL, NULL
FROM _agent_lines a JOIN git_commits g ON g.repo_id = a.repo_id AND g.sha = a.sha;

-- Snapshots: the head of the default branch, and its first first-parent commit at or after the
-- commit's time + 7 and + 30 days (none yet: the figure is not due).
DELETE FROM git_blame_plan;
INSERT INTO git_blame_plan
WITH touched AS (
    SELECT DISTINCT a.repo_id, a.sha, a.path, g.committed_at
    FROM commit_agent_lines a JOIN git_commits g ON g.repo_id = a.repo_id AND g.sha = a.sha
    WHERE a.landed
),
horizons AS (
    SELECT t.*, h.horizon, h.days FROM touched t, (VALUES ('7d', 7), ('30d', 30)) h(horizon, days)
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
FROM touched t JOIN git_repos r ON r.repo_id = t.repo_id WHERE r.head_sha IS NOT NULL;
