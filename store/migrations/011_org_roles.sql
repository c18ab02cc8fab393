-- Who may see what in the dashboard and `report --as`: a role per person of the org directory
-- (org.csv's optional `role` column; `agentledger org load` replaces it with the directory). A
-- person without a row here has the role their place in the directory gives them: manager when
-- someone reports to them, engineer otherwise (analytics/access/directory.py). A table of its own
-- and not a column of org_users: positional inserts into org_users keep working.
CREATE TABLE org_roles (
    user_name   VARCHAR PRIMARY KEY,
    role        VARCHAR NOT NULL CHECK (role IN ('admin', 'manager', 'engineer'))
);
