-- Survival of agent lines (git blame at each snapshot of git_blame_plan) and the per-edit outcome
-- rows every git measure sums (edit_outcomes). Needs _edits and _pool from derive_git_links.

-- A line is alive at a snapshot when blame there traces a line to the same commit, path and line
-- number; NULL when the snapshot is not due yet or its blame failed (a missing object).
CREATE OR REPLACE TEMP TABLE _alive AS
SELECT a.repo_id, a.sha, a.path, a.line_no, p.horizon,
       CASE WHEN any_value(b.status) = 'ok' THEN count(r.lines) > 0
            WHEN any_value(b.status) = 'absent' THEN FALSE END AS alive
FROM commit_agent_lines a
JOIN git_blame_plan p ON p.repo_id = a.repo_id AND p.sha = a.sha AND p.path = a.path
LEFT JOIN git_blamed b ON b.repo_id = p.repo_id AND b.snapshot = p.snapshot AND b.path = p.path
LEFT JOIN git_blame r ON r.repo_id = p.repo_id AND r.snapshot = p.snapshot AND r.path = p.path
                     AND r.orig_sha = a.sha AND r.orig_path = a.path
                     AND a.line_no >= r.orig_start AND a.line_no < r.orig_start + r.lines
WHERE a.landed
GROUP BY a.repo_id, a.sha, a.path, a.line_no, p.horizon;

UPDATE commit_agent_lines AS c SET alive_7d = x.alive_7d, alive_30d = x.alive_30d, alive_head = x.alive_head
FROM (
    SELECT repo_id, sha, path, line_no,
           any_value(alive) FILTER (WHERE horizon = '7d') AS alive_7d,
           any_value(alive) FILTER (WHERE horizon = '30d') AS alive_30d,
           any_value(alive) FILTER (WHERE horizon = 'head') AS alive_head
    FROM _alive GROUP BY ALL
) x
WHERE x.repo_id = c.repo_id AND x.sha = c.sha AND x.path = c.path AND x.line_no = c.line_no;

-- Per successful edit: lines written (within a mapped root; all of them where the session maps to
-- no repository) and what became of them.
DELETE FROM edit_outcomes;
INSERT INTO edit_outcomes
WITH written AS (
    SELECT tool_use_id, any_value(sid) AS sid, any_value(ts) AS ts, sum(lines) AS lines
    FROM _edits GROUP BY tool_use_id
),
pooled AS (
    SELECT tool_use_id, any_value(repo_id) AS repo_id, sum(lines) AS lines FROM _pool GROUP BY tool_use_id
),
fate AS (
    SELECT tool_use_id, count(*) AS committed, count(*) FILTER (WHERE landed) AS landed,
           count(alive_7d) AS due_7d, count(*) FILTER (WHERE alive_7d) AS alive_7d,
           count(alive_30d) AS due_30d, count(*) FILTER (WHERE alive_30d) AS alive_30d,
           count(*) FILTER (WHERE alive_head) AS alive_head
    FROM commit_agent_lines GROUP BY tool_use_id
)
SELECT w.tool_use_id, w.sid, p.repo_id, w.ts,
       CASE WHEN w.sid IN (SELECT session_id FROM session_repos) THEN coalesce(p.lines, 0) ELSE w.lines END,
       coalesce(f.committed, 0), coalesce(f.landed, 0), coalesce(f.due_7d, 0), coalesce(f.alive_7d, 0),
       coalesce(f.due_30d, 0), coalesce(f.alive_30d, 0), coalesce(f.alive_head, 0)
FROM written w LEFT JOIN pooled p USING (tool_use_id) LEFT JOIN fate f USING (tool_use_id);
