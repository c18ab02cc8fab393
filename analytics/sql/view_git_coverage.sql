-- How much of the work the git links can see (one row): sessions with edits that map to no
-- scanned repository and their share of the spend of sessions with edits, printed commits found
-- in no scanned repository, and landed commits naming a coding agent that no session explains.
WITH edited AS (
    SELECT session_id, bool_or(session_id IN (SELECT session_id FROM session_repos)) AS mapped
    FROM edit_outcomes GROUP BY session_id
),
spend AS (
    SELECT session_id, sum(cost_usd) AS cost_usd FROM session_day_facts GROUP BY session_id
)
SELECT
    (SELECT count(*) FROM edited WHERE NOT mapped) AS unmapped_sessions,
    (SELECT CASE WHEN sum(s.cost_usd) > 0 THEN round(coalesce(sum(s.cost_usd) FILTER (WHERE NOT e.mapped), 0) / sum(s.cost_usd), 4) END
     FROM edited e LEFT JOIN spend s USING (session_id)) AS unmapped_cost_share,
    (SELECT count(*) FROM commit_evidence v
     WHERE v.kind = 'commit'
       AND NOT EXISTS (SELECT 1 FROM git_commits g WHERE left(g.sha, 7) = left(v.sha, 7) AND starts_with(g.sha, v.sha))
       AND NOT EXISTS (SELECT 1 FROM git_links l WHERE l.session_id = v.session_id
                       AND contains(' ' || l.printed_sha || ' ', ' ' || v.sha || ' '))) AS printed_not_found,
    (SELECT count(*) FROM git_commits g
     WHERE g.agent IS NOT NULL AND g.landed
       AND NOT EXISTS (SELECT 1 FROM git_links l WHERE l.repo_id = g.repo_id AND l.sha = g.sha)) AS agent_commits_without_logs;
