"""One request seen by a transcript and by OTel counts once, whichever was ingested first.

OTel `api_request` events are kept as reported in `otel_requests`; `requests` is derived:
- a transcript row (source claude) whose request_id an event shares takes the event's exact
  output tokens and cost (transcript output is often a streaming placeholder, formats.md §1.6);
- an event without a transcript twin becomes its own row, request_key 'otel:<event_key>';
- when the twin arrives later, the 'otel:' row is dropped and the transcript row takes over;
- an 'otel:' row belongs to the person whose transcript holds its session (OTel names people by
  email, transcripts by --user / folder), else to the directory row with its email, else the email.
The same rule keys OTel tool rows as 'otel:<tool_use_id>' beside the transcript's.
Every statement is limited to the keys of the batch just written (its transcript requests' and OTel
events' request ids, sessions, tool use ids), so the cost follows the batch, not the ledger nor the
run: a run's first batches are not reconciled again with each later one.
A load into a ledger with no request nor OTel event writes no 'otel:' row per batch: they wait for
the load's end (ingest/writer.py HeldBack), when every twin that will come has come, and none is
deleted again.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import TYPE_CHECKING

import duckdb

from ingest.batch import RecordBatch
from ingest.otel.schema import OTEL_KEY_PREFIX
from store.key_hashes import key_hash_sql
from store.sql import run_sql

if TYPE_CHECKING:
    import polars as pl

    from ingest.writer import RunKeys

OTEL = "otel"

# The batch's keys, registered for the statements below:
#   _b_transcript(request_id, session_id, user_name): its requests from transcripts;
#   _b_ids(request_id): those request ids and its OTel events' ones; _b_events(event_key): its OTel events;
#   _b_tools(tool_use_id, is_otel): its rows of the tool table at hand.

_OVERLAY = """
UPDATE requests SET
    output_tokens = o.output_tokens,
    output_estimated = FALSE,
    source_cost_usd = o.cost_usd,
    prompt_id = coalesce(requests.prompt_id, o.prompt_id),
    user_name = coalesce(requests.user_name, o.user_name),
    run_id = $run
FROM (SELECT * FROM otel_requests WHERE request_id IN (SELECT request_id FROM _b_ids)) o
WHERE requests.request_id = o.request_id
  AND requests.source <> 'otel'
  AND (requests.output_tokens IS DISTINCT FROM o.output_tokens OR requests.output_estimated
       OR requests.source_cost_usd IS DISTINCT FROM o.cost_usd)
"""

_DROP_SHADOWED = """
DELETE FROM requests
WHERE source = 'otel' AND request_id IN (SELECT request_id FROM _b_transcript)
"""

_UNTWINNED = """
FROM otel_requests o
WHERE o.event_key IN (SELECT event_key FROM _b_events)
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
      WHERE o.event_key IN (SELECT event_key FROM _b_events) AND o.team IS NOT NULL AND o.user_name IS NOT NULL) o
WHERE NOT EXISTS (SELECT 1 FROM org_users u
                  WHERE u.user_name = o.person OR (o.email IS NOT NULL AND lower(u.email) = lower(o.email)))
GROUP BY person
"""

# Transcripts arriving after their session's OTel-only rows: those rows move to the transcript's user.
_FOLLOW_SESSION_USER = """
UPDATE requests SET user_name = t.user_name, run_id = $run
FROM (SELECT session_id, min(user_name) AS user_name FROM _b_transcript
      WHERE session_id IS NOT NULL GROUP BY session_id) t
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
SELECT *, {key_hash_sql('request_key')} AS request_key_hash FROM (SELECT
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
{_UNTWINNED})
"""

_COUNT_NEW = f"""
SELECT count(*) {_UNTWINNED}
  AND NOT EXISTS (SELECT 1 FROM requests r WHERE r.request_key = '{OTEL_KEY_PREFIX}' || o.event_key)
"""


def _drop_shadowed_tools(con: duckdb.DuckDBPyConnection, table: str, tools: "pl.DataFrame") -> None:
    """'otel:<id>' tool rows give way to the transcript's row for the same tool_use_id."""
    if not tools.height:
        return
    con.register("_b_tools", tools)
    try:
        # The batch brought the transcript's row of a stored 'otel:' one, or an 'otel:' row whose
        # transcript row is stored: both looked up from the batch's ids, never the other way round.
        run_sql(con, f"""
            DELETE FROM {table} WHERE source = 'otel' AND tool_use_id IN (
                SELECT '{OTEL_KEY_PREFIX}' || tool_use_id FROM _b_tools WHERE NOT is_otel
                UNION ALL
                SELECT b.tool_use_id FROM _b_tools b
                WHERE b.is_otel AND EXISTS (SELECT 1 FROM {table} t WHERE t.source <> 'otel'
                                            AND t.tool_use_id = substr(b.tool_use_id, {len(OTEL_KEY_PREFIX) + 1})))
        """)
    finally:
        con.unregister("_b_tools")


def _tools(batch: RecordBatch, table: str) -> "pl.DataFrame":
    import polars as pl

    frame = batch.frame(table)
    if frame is None:
        return pl.DataFrame(schema={"tool_use_id": pl.String, "is_otel": pl.Boolean})
    return frame.select("tool_use_id", (pl.col("source") == OTEL).alias("is_otel"))


def _scope(batch: RecordBatch) -> dict[str, "pl.DataFrame"]:
    """The batch's keys the statements are limited to (Polars: imported once a batch is written)."""
    import polars as pl

    transcript = batch.request_columns("source", "request_id", "session_id", "user_name") \
        .filter(pl.col("source") != OTEL).drop("source")
    events = batch.frame("otel_requests")
    event_keys = events.select("event_key") if events is not None else pl.DataFrame(schema={"event_key": pl.String})
    event_ids = events.select("request_id") if events is not None else pl.DataFrame(schema={"request_id": pl.String})
    ids = pl.concat([transcript.select("request_id"), event_ids]).drop_nulls().unique()
    return {"_b_transcript": transcript, "_b_ids": ids, "_b_events": event_keys}


def insert_otel_only(con: duckdb.DuckDBPyConnection, run_id: int, event_keys: "list[pl.Series]") -> int:
    """The 'otel:' rows of the events `event_keys` (held back by a load: no 'otel:' row of theirs is
    stored) that have no transcript twin; returns how many were added."""
    import polars as pl

    if not event_keys:
        return 0
    events = pl.concat(event_keys).unique().to_frame("event_key")
    con.register("_b_events", events)
    try:
        return int(run_sql(con, _INSERT_OTEL_ONLY, {"run": run_id})[0][0])
    finally:
        con.unregister("_b_events")


class _Needed:
    """Which statements can change anything for this batch. With the run's keys (ingest/writer.py
    RunKeys: the ledger held no request nor OTel event at the run's start, and every request id
    and session written since is remembered by a hash), a statement is left out when none of the
    batch's ids can meet a stored row it would touch; a hash remembered (or a rare collision)
    keeps it. Without them every statement runs, as a ledger with history needs."""

    def __init__(self, run_keys: "RunKeys | None", scope: dict[str, "pl.DataFrame"]) -> None:
        self.keys = run_keys
        self.insert = True
        if run_keys is None:
            self.overlay = self.drop_shadowed = self.follow_session_user = self.events = self.reported_again = True
            return
        transcript = scope["_b_transcript"]
        ids = scope["_b_ids"]["request_id"].hash()
        transcript_ids = transcript["request_id"].drop_nulls().hash()
        sessions = transcript["session_id"].drop_nulls().hash()
        # A transcript row meets an OTel event only by a request id both tables hold.
        self.overlay = bool((run_keys.may_hold("otel_requests.request_id", ids)
                             & run_keys.may_hold("requests.request_id", ids)).any())
        # 'otel:' rows carry their events' request ids and sessions.
        self.drop_shadowed = bool(run_keys.may_hold("otel_requests.request_id", transcript_ids).any())
        self.follow_session_user = bool(run_keys.may_hold("otel_requests.session_id", sessions).any())
        self.events = scope["_b_events"].height > 0
        # An event offered for the first time has no 'otel:' row yet (when requests, too, held no row
        # at the start: a re-read can leave 'otel:' rows whose events it removed).
        first = "otel_requests" in run_keys.first_in_batch and run_keys.keeps("requests.request_id")
        self.reported_again = self.events and not first
        if run_keys.held_back is not None:
            # The load writes its 'otel:' rows at its end (insert_otel_only): none is stored to
            # delete, move or count, and none is inserted now.
            self.drop_shadowed = self.follow_session_user = self.reported_again = self.insert = False

    def tools(self, table: str, tools: "pl.DataFrame") -> bool:
        """Whether the batch's tool rows can meet a stored row of the other kind (see _drop_shadowed_tools)."""
        if self.keys is None:
            return True
        import polars as pl

        prefix = len(OTEL_KEY_PREFIX)
        wanted = tools.select(
            pl.when(pl.col("is_otel")).then(pl.col("tool_use_id").str.slice(prefix))
            .otherwise(pl.lit(OTEL_KEY_PREFIX) + pl.col("tool_use_id")).alias("tool_use_id"))
        return self.keys.may_hold_keys(table, wanted)


def reconcile(con: duckdb.DuckDBPyConnection, run_id: int, batch: RecordBatch) -> int:
    """Apply the cross-source rule to what this batch wrote; returns the OTel-only requests added."""
    params = {"run": run_id}
    scope = _scope(batch)
    needed = _Needed(batch.run_keys, scope)
    with ExitStack() as stack:
        for name, frame in scope.items():
            con.register(name, frame)
            stack.callback(con.unregister, name)
        if needed.overlay:
            run_sql(con, _OVERLAY, params)
        if needed.drop_shadowed:
            run_sql(con, _DROP_SHADOWED)
        if needed.follow_session_user:
            run_sql(con, _FOLLOW_SESSION_USER, params)
        new = 0
        if needed.events:
            run_sql(con, _ADOPT_TEAMS)
            if needed.reported_again:
                new = run_sql(con, _COUNT_NEW)[0][0]
                run_sql(con, _DELETE_REPORTED_AGAIN)
            if needed.insert:
                added = run_sql(con, _INSERT_OTEL_ONLY, params)[0][0]
                if not needed.reported_again:
                    new = added  # no 'otel:' row of these events was stored: every one inserted is new
    for table in ("tool_calls", "tool_results"):
        tools = _tools(batch, table)
        if needed.tools(table, tools):
            _drop_shadowed_tools(con, table, tools)
    return int(new)
