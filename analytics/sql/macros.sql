-- Definitions every report shares, created per connection (TEMP: read-only connections may too).
-- The filter semantics live here once: NULL means "no filter"; dates are inclusive UTC days;
-- a user missing from org_users belongs to team '(unassigned)'.
CREATE OR REPLACE TEMP MACRO team_of(t) AS coalesce(t, '(unassigned)');

-- useful_output_ratio: kept / all (tokens or dollars); NULL when there is nothing to divide.
CREATE OR REPLACE TEMP MACRO useful_ratio(kept, total) AS
    CASE WHEN total > 0 THEN round(coalesce(kept, 0)::DOUBLE / total, 4) END;

CREATE OR REPLACE TEMP MACRO usd(x) AS round(x, 6);

-- The period/person/team/project/source slice every table macro below applies (model differs).
CREATE OR REPLACE TEMP MACRO in_slice(d, who, tm, proj, src, p_from, p_to, p_team, p_user, p_project, p_source) AS
    (p_from IS NULL OR d >= p_from) AND (p_to IS NULL OR d <= p_to)
    AND (p_user IS NULL OR who = p_user) AND (p_team IS NULL OR tm = p_team)
    AND (p_project IS NULL OR proj = p_project) AND (p_source IS NULL OR src = p_source);

CREATE OR REPLACE TEMP MACRO session_days(p_from, p_to, p_team, p_user, p_project, p_source, p_model) AS TABLE
    SELECT f.*, team_of(o.team) AS team
    FROM session_day_facts f LEFT JOIN org_users o ON o.user_name = f.user_name
    WHERE in_slice(f.day, f.user_name, team_of(o.team), f.project, f.source,
                   p_from, p_to, p_team, p_user, p_project, p_source)
      AND (p_model IS NULL OR f.model = p_model);

CREATE OR REPLACE TEMP MACRO component_days(p_from, p_to, p_team, p_user, p_project, p_source, p_model) AS TABLE
    SELECT f.*, team_of(o.team) AS team
    FROM component_day_facts f LEFT JOIN org_users o ON o.user_name = f.user_name
    WHERE in_slice(f.day, f.user_name, team_of(o.team), f.project, f.source,
                   p_from, p_to, p_team, p_user, p_project, p_source)
      AND (p_model IS NULL OR f.model = p_model);

-- Flags have no model: with a model filter, the flags of sessions that used that model.
CREATE OR REPLACE TEMP MACRO filtered_flags(p_from, p_to, p_team, p_user, p_project, p_source, p_model) AS TABLE
    SELECT f.*, team_of(o.team) AS team
    FROM flags f LEFT JOIN org_users o ON o.user_name = f.user_name
    WHERE in_slice(f.day, f.user_name, team_of(o.team), f.project, f.source,
                   p_from, p_to, p_team, p_user, p_project, p_source)
      AND (p_model IS NULL OR f.session_id IN (SELECT session_id FROM session_day_facts WHERE model = p_model));
