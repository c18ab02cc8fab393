"""One request seen by a transcript and by OTel counts once, whichever was ingested first.

OTel `api_request` events are kept as reported in `otel_requests`; `requests` is derived:
- a transcript row (source claude) whose request_id an event shares takes the event's exact
  output tokens and cost (transcript output is often a streaming placeholder, formats.md §1.6);
- an event without a transcript twin becomes its own row, request_key 'otel:<event_key>';
- when the twin arrives later, the 'otel:' row is dropped and the transcript row takes over;
- an 'otel:' row belongs to the person whose transcript holds its session (OTel names people by
  email, transcripts by --user / folder), else to the directory row with its email, else the email.
The same rule keys OTel tool rows as 'otel:<tool_use_id>' beside the transcript's.
Every statement is limited to rows this run touched, so the cost follows the batch, not the ledger.
"""

from __future__ import annotations

import duckdb

from store.sql import run_sql

OTEL = "otel"
OTEL_KEY_PREFIX = "otel:"

_OVERLAY = """
UPDATE requests SET
    output_tokens = o.output_tokens,
    output_estimated = FALSE,
    source_cost_usd = o.cost_usd,
    prompt_id = coalesce(requests.prompt_id, o.prompt_id),
    user_name = coalesce(requests.user_name, o.user_name),
    run_id = $run
FROM otel_requests o
WHERE requests.request_id = o.request_id
  AND requests.source <> 'otel'
  AND (requests.run_id = $run OR o.run_id = $run)
  AND (requests.output_tokens IS DISTINCT FROM o.output_tokens OR requests.output_estimated
       OR requests.source_cost_usd IS DISTINCT FROM o.cost_usd)
"""

_DROP_SHADOWED = """
DELETE FROM requests
WHERE source = 'otel'
  AND request_id IN (SELECT request_id FROM requests
                     WHERE source <> 'otel' AND request_id IS NOT NULL AND run_id = $run)
"""

_UNTWINNED = """
FROM otel_requests o
WHERE o.run_id = $run
  AND NOT EXISTS (SELECT 1 FROM requests r
                  WHERE r.source <> 'otel' AND r.request_id = o.request_id)
"""

# Who an OTel event's request counts under: the user its session's transcript was ingested as
# (an aux request shares the session of the transcript it ran beside), else the directory row with
# that email, else OTel's own name for the user (the email).
_PERSON = """coalesce(
    (SELECT min(r.user_name) FROM requests r WHERE r.session_id = o.session_id AND r.source <> 'otel'),
    (SELECT min(u.user_name) FROM org_users u WHERE lower(u.email) = lower(o.email)),
    o.user_name)"""

# The org directory rule: a `team`/`department` resource attribute adds the user to org_users
# only when neither the user name nor the email is listed yet; a loaded org.csv always wins.
_ADOPT_TEAMS = f"""
INSERT INTO org_users (user_name, email, team)
SELECT person, any_value(email), arg_max(team, ts)
FROM (SELECT {_PERSON} AS person, o.email, o.team, o.ts
      FROM otel_requests o
      WHERE o.run_id = $run AND o.team IS NOT NULL AND o.user_name IS NOT NULL) o
WHERE NOT EXISTS (SELECT 1 FROM org_users u
                  WHERE u.user_name = o.person OR (o.email IS NOT NULL AND lower(u.email) = lower(o.email)))
GROUP BY person
"""

# Transcripts arriving after their session's OTel-only rows: those rows move to the transcript's user.
_FOLLOW_SESSION_USER = """
UPDATE requests SET user_name = t.user_name, run_id = $run
FROM (SELECT session_id, min(user_name) AS user_name FROM requests
      WHERE source <> 'otel' AND run_id = $run AND session_id IS NOT NULL GROUP BY session_id) t
WHERE requests.source = 'otel' AND requests.session_id = t.session_id
  AND requests.user_name IS DISTINCT FROM t.user_name
"""

# An 'otel:' row already stored for the same event is replaced (deleted first: no upsert syntax,
# which a DuckLake catalog lacks).
_DELETE_REPORTED_AGAIN = f"""
DELETE FROM requests
WHERE source = 'otel' AND request_key IN (SELECT '{OTEL_KEY_PREFIX}' || o.event_key {_UNTWINNED})
"""

_INSERT_OTEL_ONLY = f"""
INSERT INTO requests BY NAME
SELECT
    '{OTEL_KEY_PREFIX}' || o.event_key AS request_key,
    'otel' AS source,
    o.request_id,
    {_PERSON} AS user_name,
    o.session_id,
    coalesce(o.query_source = 'subagent', FALSE) AS is_sidechain,
    o.agent_name AS subagent_type,
    o.agent_version, o.model, o.ts,
    o.input_tokens, o.output_tokens, o.cache_creation_tokens, o.cache_read_tokens,
    FALSE AS output_estimated, o.speed,
    o.plugin_name AS attribution_plugin, o.skill_name AS attribution_skill,
    o.agent_name AS attribution_agent, o.prompt_id,
    o.cost_usd AS source_cost_usd, o.file_path, o.line_no,
    $run AS run_id
{_UNTWINNED}
"""

_COUNT_NEW = f"""
SELECT count(*) {_UNTWINNED}
  AND NOT EXISTS (SELECT 1 FROM requests r WHERE r.request_key = '{OTEL_KEY_PREFIX}' || o.event_key)
"""


def _drop_shadowed_tools(con: duckdb.DuckDBPyConnection, table: str, run_id: int) -> None:
    """'otel:<id>' tool rows give way to the transcript's row for the same tool_use_id."""
    run_sql(con, f"""
        DELETE FROM {table} WHERE source = 'otel' AND tool_use_id IN (
            SELECT '{OTEL_KEY_PREFIX}' || tool_use_id FROM {table} WHERE source <> 'otel' AND run_id = $run)
           OR (source = 'otel' AND run_id = $run AND substr(tool_use_id, {len(OTEL_KEY_PREFIX) + 1}) IN (
            SELECT tool_use_id FROM {table} WHERE source <> 'otel'))
    """, {"run": run_id})


def reconcile(con: duckdb.DuckDBPyConnection, run_id: int) -> int:
    """Apply the cross-source rule to what this run wrote; returns the OTel-only requests added."""
    params = {"run": run_id}
    run_sql(con, _OVERLAY, params)
    run_sql(con, _DROP_SHADOWED, params)
    run_sql(con, _FOLLOW_SESSION_USER, params)
    run_sql(con, _ADOPT_TEAMS, params)
    new = run_sql(con, _COUNT_NEW, params)[0][0]
    run_sql(con, _DELETE_REPORTED_AGAIN, params)
    run_sql(con, _INSERT_OTEL_ONLY, params)
    for table in ("tool_calls", "tool_results"):
        _drop_shadowed_tools(con, table, run_id)
    return int(new)
