-- What the spend bought in git, per team, person, project and plugin (docs/metrics.md "Outcomes
-- in git"). Every session in the slice counts in the cost, the ones that produced nothing too.
-- Cost rows come by request day, line rows by edit day, commit rows by link day. A session's
-- project is where its work went (git_session_project), so all of its rows, cost included, count
-- for one project. Rows are in the viewer's scope (in_slice), people and paths shown as the viewer
-- sees them (person, private_text), group figures over too few people withheld (small_group).
WITH sessions AS (SELECT * FROM git_sessions()),
costs AS (
    SELECT f.session_id, w.user_name, w.team, w.project, f.cost_usd,
           CASE WHEN NOT w.linked THEN f.cost_usd ELSE 0 END AS unlinked_cost_usd,
           CASE WHEN w.matured THEN f.cost_usd ELSE 0 END AS matured_cost_usd,
           0 AS lines_written, 0 AS lines_committed, 0 AS lines_landed, 0 AS lines_due_30d,
           0 AS lines_alive_30d, 0 AS matured_alive_30d, NULL::VARCHAR AS commit_key
    FROM session_day_facts f JOIN sessions w USING (session_id)
    WHERE in_slice($slice, f.day, w.user_name, w.team, w.project, w.source)
      AND ($slice.model IS NULL OR f.model = $slice.model)
),
lines AS (
    SELECT e.session_id, w.user_name, w.team, w.project, 0, 0, 0,
           e.lines_written, e.lines_committed, e.lines_landed, e.lines_due_30d, e.lines_alive_30d,
           CASE WHEN w.matured THEN e.lines_alive_30d ELSE 0 END, NULL
    FROM edit_outcomes e JOIN sessions w USING (session_id)
    WHERE in_slice($slice, e.ts::DATE, w.user_name, w.team, w.project, w.source) AND git_used_model(w.session_id, $slice)
),
commits AS (
    SELECT l.session_id, w.user_name, w.team, w.project, 0, 0, 0, 0, 0, 0, 0, 0, 0, l.repo_id || ':' || l.sha AS commit_key
    FROM git_links l JOIN sessions w USING (session_id)
    JOIN git_commits g ON g.repo_id = l.repo_id AND g.sha = l.sha AND g.landed
    WHERE in_slice($slice, l.linked_at::DATE, w.user_name, w.team, w.project, w.source) AND git_used_model(w.session_id, $slice)
),
facts AS (SELECT * FROM costs UNION ALL SELECT * FROM lines UNION ALL SELECT * FROM commits),
by_group AS (
    SELECT CASE WHEN GROUPING(user_name) = 0 THEN 'person' WHEN GROUPING(team) = 0 THEN 'team' ELSE 'project' END AS level,
           CASE WHEN GROUPING(user_name) = 0 THEN person(user_name) WHEN GROUPING(team) = 0 THEN team
                ELSE private_text(project) END AS name,
           count(DISTINCT session_id) FILTER (WHERE cost_usd > 0 OR lines_written > 0) AS sessions,
           sum(cost_usd) AS cost_usd, sum(lines_written) AS lines_written, sum(lines_committed) AS lines_committed,
           sum(lines_landed) AS lines_landed, sum(lines_due_30d) AS lines_due_30d, sum(lines_alive_30d) AS lines_alive_30d,
           count(DISTINCT commit_key) AS landed_commits, sum(unlinked_cost_usd) AS unlinked_cost_usd,
           sum(matured_cost_usd) AS matured_cost_usd, sum(matured_alive_30d) AS matured_alive_30d
    FROM facts
    GROUP BY GROUPING SETS ((user_name), (team), (project))
    -- A person's own row is governed by pseudonyms; any other group by small-group protection.
    HAVING GROUPING(user_name) = 0
        OR NOT small_group($slice, count(DISTINCT user_name), bool_or(user_name = scope()['viewer']))
),
-- Plugins: their attributed cost; the lines of edits made by requests attributed to them (by share).
plugin_costs AS (
    SELECT c.plugin, c.session_id, w.user_name, c.cost_usd,
           CASE WHEN NOT w.linked THEN c.cost_usd ELSE 0 END AS unlinked_cost_usd,
           CASE WHEN w.matured THEN c.cost_usd ELSE 0 END AS matured_cost_usd
    FROM component_day_facts c JOIN sessions w USING (session_id)
    WHERE c.plugin IS NOT NULL AND in_slice($slice, c.day, w.user_name, w.team, w.project, w.source)
      AND ($slice.model IS NULL OR c.model = $slice.model)
),
plugin_lines AS (
    SELECT rc.plugin, sum(rc.share * e.lines_written) AS lines_written,
           sum(rc.share * e.lines_committed) AS lines_committed, sum(rc.share * e.lines_landed) AS lines_landed,
           sum(rc.share * e.lines_due_30d) AS lines_due_30d, sum(rc.share * e.lines_alive_30d) AS lines_alive_30d,
           sum(rc.share * e.lines_alive_30d) FILTER (WHERE w.matured) AS matured_alive_30d
    FROM edit_outcomes e
    JOIN sessions w USING (session_id)
    JOIN tool_calls t ON t.tool_use_id = e.tool_use_id
    JOIN request_components rc ON rc.request_key = t.request_key
    WHERE rc.plugin IS NOT NULL AND in_slice($slice, e.ts::DATE, w.user_name, w.team, w.project, w.source)
      AND git_used_model(w.session_id, $slice)
    GROUP BY rc.plugin
),
by_plugin AS (
    SELECT 'plugin' AS level, p.plugin AS name, p.sessions, p.cost_usd, l.lines_written, l.lines_committed,
           l.lines_landed, l.lines_due_30d, l.lines_alive_30d,
           (SELECT count(DISTINCT k.commit_key) FROM commits k
            WHERE k.session_id IN (SELECT session_id FROM plugin_costs x WHERE x.plugin = p.plugin)) AS landed_commits,
           p.unlinked_cost_usd, p.matured_cost_usd, l.matured_alive_30d
    FROM (SELECT plugin, count(DISTINCT session_id) AS sessions, sum(cost_usd) AS cost_usd,
                 sum(unlinked_cost_usd) AS unlinked_cost_usd, sum(matured_cost_usd) AS matured_cost_usd
          FROM plugin_costs GROUP BY plugin
          HAVING NOT small_group($slice, count(DISTINCT user_name), bool_or(user_name = scope()['viewer']))) p
    LEFT JOIN plugin_lines l USING (plugin)
)
SELECT level, name, sessions::BIGINT AS sessions, usd(cost_usd) AS cost_usd,
       as_count(round(coalesce(lines_written, 0))) AS lines_written,
       as_count(round(coalesce(lines_committed, 0))) AS lines_committed,
       as_count(round(coalesce(lines_landed, 0))) AS lines_landed,
       as_count(round(coalesce(lines_due_30d, 0))) AS lines_due_30d,
       as_count(round(coalesce(lines_alive_30d, 0))) AS lines_alive_30d,
       landed_commits::BIGINT AS landed_commits,
       CASE WHEN lines_landed > 0 THEN usd(cost_usd / lines_landed) END AS cost_per_landed_line,
       CASE WHEN matured_alive_30d > 0 THEN usd(matured_cost_usd / matured_alive_30d) END AS cost_per_alive_30d_line,
       CASE WHEN landed_commits > 0 THEN usd(cost_usd / landed_commits) END AS cost_per_landed_commit,
       usd(unlinked_cost_usd) AS unlinked_cost_usd
FROM (SELECT * FROM by_group UNION ALL BY NAME SELECT * FROM by_plugin)
WHERE name IS NOT NULL OR level <> 'project'
ORDER BY CASE level WHEN 'team' THEN 1 WHEN 'person' THEN 2 WHEN 'project' THEN 3 ELSE 4 END, name;
