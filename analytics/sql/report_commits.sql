-- One row per commit a session is linked to, and per landed commit that names a coding agent but
-- that no session in the ledger explains ("agent commits without logs"), newest first.
WITH who AS (
    SELECT f.session_id, any_value(f.user_name) AS user_name, team_of(any_value(o.team)) AS team,
           any_value(f.project) AS project, any_value(f.source) AS source,
           bool_or($slice.model IS NULL OR f.model = $slice.model) AS has_model
    FROM session_day_facts f LEFT JOIN org_users o ON o.user_name = f.user_name GROUP BY f.session_id
),
linked AS (
    SELECT l.repo_id, l.sha, string_agg(l.session_id, ',' ORDER BY l.linked_at) AS session_ids,
           string_agg(DISTINCT l.printed_sha, ' ') AS printed_sha, min(l.signal) AS signal,
           max(l.confidence) AS confidence, bool_or(w.session_id IS NOT NULL AND w.has_model
               AND in_people($slice, w.user_name, w.team)
               AND ($slice.project IS NULL OR w.project = $slice.project) AND ($slice.source IS NULL OR w.source = $slice.source)) AS in_slice
    FROM git_links l LEFT JOIN who w USING (session_id)
    GROUP BY l.repo_id, l.sha
),
lines AS (
    SELECT repo_id, sha, count(*) AS agent_lines,
           CASE WHEN count(alive_7d) > 0 THEN count(*) FILTER (WHERE alive_7d) END AS alive_7d,
           CASE WHEN count(alive_30d) > 0 THEN count(*) FILTER (WHERE alive_30d) END AS alive_30d,
           CASE WHEN count(alive_head) > 0 THEN count(*) FILTER (WHERE alive_head) END AS alive_head
    FROM commit_agent_lines GROUP BY repo_id, sha
),
without_logs AS (
    SELECT g.repo_id, g.sha, NULL AS session_ids, NULL AS printed_sha, NULL::INTEGER AS signal, NULL::DOUBLE AS confidence,
           in_people($slice, NULL, NULL) AND $slice.project IS NULL AND $slice.source IS NULL AND $slice.model IS NULL AS in_slice
    FROM git_commits g
    WHERE g.agent IS NOT NULL AND g.landed
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
WHERE c.in_slice
  AND in_period($slice, g.committed_at::DATE)
ORDER BY g.committed_at DESC, c.sha;
