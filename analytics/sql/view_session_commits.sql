-- One session's commits (the Session page): every commit linked to it, how it was linked, whether it
-- landed, and how many of this session's agent lines it holds and still has 7 and 30 days later and
-- at the head (empty: not due yet). Nothing when the viewer's scope does not hold the session.
WITH mine AS (
    SELECT repo_id, sha, count(*) AS agent_lines,
           CASE WHEN count(alive_7d) > 0 THEN count(*) FILTER (WHERE alive_7d) END AS alive_7d,
           CASE WHEN count(alive_30d) > 0 THEN count(*) FILTER (WHERE alive_30d) END AS alive_30d,
           CASE WHEN count(alive_head) > 0 THEN count(*) FILTER (WHERE alive_head) END AS alive_head
    FROM commit_agent_lines WHERE session_id = $session_id GROUP BY repo_id, sha
)
SELECT r.name AS repository, l.sha, g.committed_at, g.subject, g.landed, l.printed_sha, l.signal, l.confidence,
       private_text(l.evidence) AS evidence, g.lines_added, g.lines_removed, coalesce(m.agent_lines, 0) AS agent_lines,
       m.alive_7d, m.alive_30d, m.alive_head
FROM git_links l
JOIN git_commits g ON g.repo_id = l.repo_id AND g.sha = l.sha
JOIN git_repos r ON r.repo_id = l.repo_id
LEFT JOIN mine m ON m.repo_id = l.repo_id AND m.sha = l.sha
WHERE l.session_id = $session_id AND session_visible($session_id)
ORDER BY l.linked_at, l.sha;
