-- How much of the work the git links can see (one row, Data health): scanned repositories; sessions
-- in the slice with agent edits, those that map to no scanned repository and their share of the
-- spend of sessions with edits; printed commits found in no scanned repository; landed commits
-- naming a coding agent that no session explains (they belong to nobody: counted only for a viewer
-- who sees everyone, with no person, team, project or source filter; else NULL). No row when the
-- slice holds no session, or too few people for a group figure (small_group).
WITH spend AS (
    SELECT f.session_id, any_value(w.user_name) AS user_name, sum(f.cost_usd) AS cost_usd
    FROM session_day_facts f JOIN git_sessions() w USING (session_id)
    WHERE in_slice($slice, f.day, w.user_name, w.team, w.project, w.source)
      AND ($slice.model IS NULL OR f.model = $slice.model)
    GROUP BY f.session_id
),
edited AS (
    SELECT s.session_id, s.cost_usd, s.session_id IN (SELECT session_id FROM session_repos) AS mapped
    FROM spend s WHERE s.session_id IN (SELECT session_id FROM edit_outcomes)
),
unfound AS (
    SELECT count(*) AS n FROM commit_evidence v
    WHERE v.kind = 'commit' AND v.session_id IN (SELECT session_id FROM spend)
      AND NOT EXISTS (SELECT 1 FROM git_commits g WHERE left(g.sha, 7) = left(v.sha, 7) AND starts_with(g.sha, v.sha))
      AND NOT EXISTS (SELECT 1 FROM git_links l WHERE l.session_id = v.session_id
                      AND contains(' ' || l.printed_sha || ' ', ' ' || v.sha || ' '))
),
without_logs AS (
    SELECT count(*) AS n FROM git_commits g
    WHERE g.agent IS NOT NULL AND g.landed
      AND NOT EXISTS (SELECT 1 FROM git_links l WHERE l.repo_id = g.repo_id AND l.sha = g.sha)
)
SELECT (SELECT count(*) FROM git_repos) AS repositories,
       (SELECT max(scanned_at) FROM git_repos) AS last_scan_at,
       (SELECT count(*) FROM edited) AS sessions_with_edits,
       (SELECT count(*) FROM edited WHERE NOT mapped) AS unmapped_sessions,
       (SELECT usd(coalesce(sum(cost_usd) FILTER (WHERE NOT mapped), 0)) FROM edited) AS unmapped_cost_usd,
       (SELECT CASE WHEN sum(cost_usd) > 0 THEN round(coalesce(sum(cost_usd) FILTER (WHERE NOT mapped), 0) / sum(cost_usd), 4) END
        FROM edited) AS unmapped_cost_share,
       (SELECT n FROM unfound) AS printed_not_found,
       CASE WHEN coalesce(in_people($slice, NULL, NULL), FALSE) AND $slice.project IS NULL
                 AND $slice.source IS NULL AND $slice.model IS NULL
            THEN (SELECT n FROM without_logs) END AS agent_commits_without_logs
FROM spend
HAVING count(*) > 0 AND NOT small_group($slice, count(DISTINCT user_name), bool_or(user_name = scope()['viewer']));
