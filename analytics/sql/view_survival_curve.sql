-- Share of agent lines alive by age, per team (one row per team and age): of the agent lines whose
-- commit landed in the slice, those still there 0, 7 and 30 days after the commit (git blame at the
-- default branch then). A line counts at an age once its repository's history reaches that far past
-- its commit (lines_due); at 0 days every landed line is there. A team's project and people are its
-- sessions' (git_sessions); lines are placed in the period by the day their commit was linked.
WITH lines AS (
    SELECT w.team, w.user_name, a.alive_7d, a.alive_30d
    FROM commit_agent_lines a
    JOIN git_sessions() w ON w.session_id = a.session_id
    JOIN git_links l ON l.session_id = a.session_id AND l.repo_id = a.repo_id AND l.sha = a.sha
    WHERE a.landed AND in_slice($slice, l.linked_at::DATE, w.user_name, w.team, w.project, w.source)
      AND git_used_model(a.session_id, $slice)
),
ages AS (
    SELECT team, user_name, 0 AS age_days, TRUE AS alive FROM lines
    UNION ALL SELECT team, user_name, 7, alive_7d FROM lines WHERE alive_7d IS NOT NULL
    UNION ALL SELECT team, user_name, 30, alive_30d FROM lines WHERE alive_30d IS NOT NULL
)
SELECT team, age_days, count(*) AS lines_due, count(*) FILTER (WHERE alive) AS lines_alive,
       round(count(*) FILTER (WHERE alive) / count(*), 4) AS alive_share
FROM ages
GROUP BY team, age_days
HAVING NOT small_group($slice, count(DISTINCT user_name), bool_or(user_name = scope()['viewer']))
ORDER BY team, age_days;
