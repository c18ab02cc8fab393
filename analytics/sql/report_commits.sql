-- One row per commit a session in the slice is linked to, and per landed commit that names a coding
-- agent but that no session in the ledger explains ("agent commits without logs"), newest first.
-- Only the linked sessions the viewer may see are listed and counted; commits without logs belong
-- to nobody, so only a viewer who sees everyone, with no person, team, project or source filter, sees them.
WITH visible AS (
    SELECT l.repo_id, l.sha, l.session_id, l.linked_at, l.printed_sha, l.signal, l.confidence
    FROM git_links l JOIN git_sessions() w USING (session_id)
    WHERE in_people($slice, w.user_name, w.team) AND git_used_model(w.session_id, $slice)
      AND ($slice.project IS NULL OR private_text(w.project) = $slice.project)
      AND ($slice.source IS NULL OR w.source = $slice.source)
),
linked AS (
    SELECT repo_id, sha, string_agg(session_id, ',' ORDER BY linked_at, session_id) AS session_ids,
           string_agg(DISTINCT printed_sha, ' ') AS printed_sha, min(signal) AS signal, max(confidence) AS confidence
    FROM visible GROUP BY repo_id, sha
),
lines AS (
    SELECT a.repo_id, a.sha, count(*) AS agent_lines,
           CASE WHEN count(a.alive_7d) > 0 THEN count(*) FILTER (WHERE a.alive_7d) END AS alive_7d,
           CASE WHEN count(a.alive_30d) > 0 THEN count(*) FILTER (WHERE a.alive_30d) END AS alive_30d,
           CASE WHEN count(a.alive_head) > 0 THEN count(*) FILTER (WHERE a.alive_head) END AS alive_head
    FROM commit_agent_lines a
    WHERE EXISTS (SELECT 1 FROM visible v WHERE v.repo_id = a.repo_id AND v.sha = a.sha AND v.session_id = a.session_id)
    GROUP BY a.repo_id, a.sha
),
without_logs AS (
    SELECT g.repo_id, g.sha, NULL AS session_ids, NULL AS printed_sha, NULL::INTEGER AS signal, NULL::DOUBLE AS confidence
    FROM git_commits g
    WHERE g.agent IS NOT NULL AND g.landed
      AND coalesce(in_people($slice, NULL, NULL), FALSE)
      AND $slice.project IS NULL AND $slice.source IS NULL AND $slice.model IS NULL
      AND NOT EXISTS (SELECT 1 FROM git_links l WHERE l.repo_id = g.repo_id AND l.sha = g.sha)
)
SELECT r.name AS repository, c.sha, g.committed_at, g.subject, g.agent, g.landed,
       c.session_ids, c.printed_sha, c.signal, c.confidence,
       g.lines_added, g.lines_removed, coalesce(n.agent_lines, 0) AS agent_lines,
       n.alive_7d, n.alive_30d, n.alive_head
FROM (SELECT * FROM linked UNION ALL SELECT * FROM without_logs) c
JOIN git_commits g ON g.repo_id = c.repo_id AND g.sha = c.sha
JOIN git_repos r ON r.repo_id = c.repo_id
LEFT JOIN lines n ON n.repo_id = c.repo_id AND n.sha = c.sha
WHERE in_period($slice, g.committed_at::DATE)
ORDER BY g.committed_at DESC, c.sha;
