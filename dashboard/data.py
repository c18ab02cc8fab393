"""Everything the pages read, behind short read-only connections and st.cache_data.

Two kinds of reads live here, kept apart on purpose:
- `analytics(...)` calls the analytics layer's query functions (issue 4): every metric the
  dashboard shows comes from there, so the CLI, the CSV export and the pages agree.
- the `*_facts` helpers are plumbing only: filter choices and data-health facts read straight
  from the ingest bookkeeping tables (runs, files, rejects). They compute no metric.
"""

from __future__ import annotations

import importlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import duckdb
import polars as pl
import streamlit as st

from analytics.filters import Filters
from dashboard import wiring
from store.db import DatabaseError, reader, resolve_db_path

# Cached results live this long: a scheduled ingest shows up within a minute, and a page
# revisited within the TTL never touches the database file at all.
CACHE_TTL = timedelta(seconds=60)

# A page waits this long for an ingest to release the write lock before it says so
# (store.db would wait 60 s; a dashboard page should answer sooner).
READ_WAIT_SECONDS = 20.0

# The pipeline counts as stale when no ingest finished within this window (daily cron + slack).
STALE_AFTER = timedelta(hours=26)


# A source whose newest request is older than this probably stopped reaching the ledger.
QUIET_SOURCE_DAYS = 7


# A page that has been drawn before waits only this long for a writer before it falls back to
# the last good result (see _with_fallback); a first-time query waits READ_WAIT_SECONDS.
BUSY_WAIT_SECONDS = 3.0
STALE_STATE = "_agentledger_served_stale_since"


class AnalyticsMissing(RuntimeError):
    """The analytics function a page needs is not in this build; the page says which."""


def db_path() -> str:
    """The database this dashboard reads: $AGENTLEDGER_DB (set by `agentledger dashboard`), else the default."""
    return str(resolve_db_path(None))


@dataclass(frozen=True)
class DbState:
    """Whether there is anything to show, and if not, why (for the welcome page)."""

    status: str  # missing | unreadable | empty | ok
    path: str
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


# --- While an ingest holds the write lock ---------------------------------------------------
# DuckDB lets no reader open the file while another process writes it, and an ingest keeps it for
# its whole run. Rather than make every page wait and then fail, a query the dashboard has answered
# before is served from its last good result (process-wide, bounded), and the page says how old it is.
_LAST_GOOD: OrderedDict[tuple, tuple[datetime, Any]] = OrderedDict()
_LAST_GOOD_MAX = 256
_LAST_GOOD_LOCK = threading.Lock()


def _wait_for(key: tuple) -> float:
    return BUSY_WAIT_SECONDS if key in _LAST_GOOD else READ_WAIT_SECONDS


def _with_fallback(key: tuple, compute: Callable[[], Any]) -> Any:
    try:
        value = compute()
    except DatabaseError:
        with _LAST_GOOD_LOCK:
            hit = _LAST_GOOD.get(key)
        if hit is None:
            raise
        _note_stale(hit[0])
        return hit[1]
    with _LAST_GOOD_LOCK:
        _LAST_GOOD[key] = (datetime.now(timezone.utc).replace(tzinfo=None), value)
        _LAST_GOOD.move_to_end(key)
        while len(_LAST_GOOD) > _LAST_GOOD_MAX:
            _LAST_GOOD.popitem(last=False)
    return value


def _note_stale(since: datetime) -> None:
    try:
        current = st.session_state.get(STALE_STATE)
        st.session_state[STALE_STATE] = min(current, since) if current else since
    except Exception:  # noqa: BLE001 - outside a Streamlit run there is no page to tell
        pass


def served_stale_since() -> datetime | None:
    """When this run served a last good result because an ingest held the file, the oldest one's time."""
    return st.session_state.get(STALE_STATE)


def db_state(path: str | None = None) -> DbState:
    """Check the file exists, opens read-only, is migrated and holds at least one request."""
    path = path or db_path()
    if not Path(path).exists():
        return DbState("missing", path)
    key = ("state", path)
    state = _db_state(path)
    if state.status == "unreadable":
        _db_state.clear()  # a busy file is retried on the next rerun, not remembered for the TTL
        with _LAST_GOOD_LOCK:
            hit = _LAST_GOOD.get(key)
        if hit and hit[1].ok:
            _note_stale(hit[0])
            return hit[1]
        return state
    with _LAST_GOOD_LOCK:
        _LAST_GOOD[key] = (datetime.now(timezone.utc).replace(tzinfo=None), state)
    return state


@st.cache_data(ttl=timedelta(seconds=10), show_spinner=False)
def _db_state(path: str) -> DbState:
    # Every rerun of every page asks; opening the file each time would cost more than the page.
    try:
        with reader(path, wait_seconds=_wait_for(("state", path))) as con:
            tables = {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
            if "requests" not in tables:
                return DbState("empty", path, "the file has no ledger tables yet")
            count = con.execute("SELECT count(*) FROM (SELECT 1 FROM requests LIMIT 1)").fetchone()[0]
    except (DatabaseError, duckdb.Error) as error:
        return DbState("unreadable", path, str(error).splitlines()[0])
    return DbState("ok" if count else "empty", path)


def _resolve(target: str) -> Callable[..., Any]:
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and module_name.startswith(error.name):
            raise AnalyticsMissing(target) from error
        raise
    fn = getattr(module, attr, None)
    if fn is None:
        raise AnalyticsMissing(target)
    return fn


def _as_frame(result: Any) -> pl.DataFrame:
    if isinstance(result, pl.DataFrame):
        return result
    if isinstance(result, list):
        return pl.DataFrame(result)
    return pl.DataFrame(result)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False, max_entries=512)
def _cached_analytics(db: str, target: str, filters_json: str, kwargs_json: str) -> pl.DataFrame:
    fn = _resolve(target)
    filters = Filters.model_validate_json(filters_json)
    kwargs = json.loads(kwargs_json)
    with reader(db, wait_seconds=_wait_for((db, target, filters_json, kwargs_json))) as con:
        return _as_frame(fn(con, filters, **kwargs))


def analytics(target: str, filters: Filters, **kwargs: Any) -> pl.DataFrame:
    """Call analytics function `module:name` as fn(con, filters, **kwargs), cached per filter values."""
    key = (db_path(), target, filters.model_dump_json(), json.dumps(kwargs, sort_keys=True, default=str))
    return _with_fallback(key, lambda: _cached_analytics(*key))


def available(target: str) -> bool:
    """Whether the analytics function exists in this build (pages degrade gracefully if not)."""
    try:
        _resolve(target)
    except AnalyticsMissing:
        return False
    return True


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pl.DataFrame:
    # A relation materialised at once: nothing is left unconsumed on the connection.
    return con.sql(sql, params=params or None).pl()


@dataclass(frozen=True)
class FilterChoices:
    """Distinct values offered by the global filter widgets, and the data's date span."""

    teams: list[str]
    users: list[str]
    projects: list[str]
    sources: list[str]
    models: list[str]
    first_day: date | None
    last_day: date | None
    names: dict[str, str]  # user name -> display name, for labels only


UNASSIGNED_TEAM = "(unassigned)"


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def _filter_choices(db: str) -> FilterChoices:
    with reader(db, wait_seconds=_wait_for(("choices", db))) as con:
        def distinct(column: str) -> list[str]:
            rows = con.execute(f"SELECT DISTINCT {column} FROM requests WHERE {column} IS NOT NULL ORDER BY 1").fetchall()
            return [r[0] for r in rows]

        users = distinct("user_name")
        projects = distinct("project")
        sources = distinct("source")
        models = distinct("model")
        teams = [r[0] for r in con.execute("SELECT DISTINCT team FROM org_users WHERE team IS NOT NULL ORDER BY 1").fetchall()]
        unassigned = con.execute(
            "SELECT count(*) FROM (SELECT DISTINCT r.user_name FROM requests r"
            " LEFT JOIN org_users o ON o.user_name = r.user_name WHERE o.team IS NULL)"
        ).fetchone()[0]
        first, last = con.execute("SELECT min(ts)::DATE, max(ts)::DATE FROM requests").fetchone()
        names = dict(con.execute("SELECT user_name, display_name FROM org_users WHERE display_name IS NOT NULL").fetchall())
    if unassigned and UNASSIGNED_TEAM not in teams:
        teams.append(UNASSIGNED_TEAM)
    return FilterChoices(teams, users, projects, sources, models, first, last, names)


def filter_choices() -> FilterChoices:
    """What the sidebar offers: teams, people, projects, sources, models, first and last day."""
    db = db_path()
    return _with_fallback(("choices", db), lambda: _filter_choices(db))


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def _session_span(db: str, session_id: str) -> tuple[str | None, date | None, date | None]:
    with reader(db, wait_seconds=_wait_for(("span", db, session_id))) as con:
        row = con.execute(
            "SELECT any_value(user_name), min(ts)::DATE, max(ts)::DATE FROM requests WHERE session_id = ?", [session_id]
        ).fetchone()
    return row if row else (None, None, None)


def session_span(session_id: str) -> tuple[str | None, date | None, date | None]:
    """(user, first day, last day) of a session: the slice that finds its one row in the sessions report."""
    db = db_path()
    return _with_fallback(("span", db, session_id), lambda: _session_span(db, session_id))


# --- Data health: facts about the pipeline, not metrics --------------------------------------

# The manifest's source for files no parser recognised (see ingest/file_reader.py).
UNRECOGNISED_SOURCE = "unrecognised"

HEALTH_SQL: dict[str, str] = {
    # The most recent ingest runs with their counters, newest first.
    "runs": "SELECT run_id, started_at, ended_at, status, date_diff('millisecond', started_at, ended_at) / 1000.0"
            " AS seconds, files_seen, files_new, files_changed, files_unchanged, files_missing, files_failed,"
            " lines, requests_new, requests_updated, rejects, unknown_types, unknown_fields, error, command"
            " FROM ingest_runs ORDER BY run_id DESC LIMIT 20",
    # Per source: files known, files gone at the source, lines and bytes loaded, last seen.
    "files": "SELECT source, count(*) AS files, count(*) FILTER (WHERE missing) AS files_missing,"
             " count(DISTINCT user_name) AS people, sum(lines_loaded) AS lines, sum(offset_loaded) AS bytes_loaded,"
             " max(last_seen_at) AS last_seen_at FROM source_files GROUP BY source ORDER BY source",
    # Quarantined lines grouped by reason, with one example location each.
    "rejects": "SELECT reason, count(*) AS lines, count(DISTINCT path) AS files, max(run_id) AS last_run_id,"
               " arg_min(path || ':' || line_no, run_id) AS example FROM rejects GROUP BY reason ORDER BY lines DESC",
    # Per source: newest request timestamp and the last time one of its files was read.
    "freshness": "WITH latest AS (SELECT source, max(ts) AS newest_request, count(*) AS requests FROM requests GROUP BY source),"
                 " seen AS (SELECT source, max(last_seen_at) AS last_file_seen FROM source_files GROUP BY source)"
                 " SELECT coalesce(l.source, s.source) AS source, l.requests, l.newest_request, s.last_file_seen"
                 " FROM latest l FULL OUTER JOIN seen s ON s.source = l.source ORDER BY 1",
    # Record types and fields the parsers did not know, counted (format drift).
    "drift": "SELECT source, kind, name, occurrences, first_path FROM schema_drift ORDER BY occurrences DESC LIMIT 50",
}


@st.cache_data(ttl=timedelta(seconds=15), show_spinner=False)
def _health_facts(db: str) -> dict[str, pl.DataFrame]:
    with reader(db, wait_seconds=_wait_for(("health", db))) as con:
        return {name: _rows(con, sql) for name, sql in HEALTH_SQL.items()}


def health_facts(db: str) -> dict[str, pl.DataFrame]:
    """Every data-health table in one short connection: runs, files, rejects, freshness, drift."""
    return _with_fallback(("health", db), lambda: _health_facts(db))


@dataclass(frozen=True)
class Staleness:
    """How old the pipeline's last successful run is, and whether that is too old."""

    last_ok_run_at: datetime | None
    age: timedelta | None
    stale: bool


def staleness(runs: pl.DataFrame, now: datetime | None = None) -> Staleness:
    """Stale when no ingest run finished successfully within STALE_AFTER (timestamps are naive UTC)."""
    now = now or datetime.now(timezone.utc).replace(tzinfo=None)
    ok = runs.filter(pl.col("status") == "ok") if runs.height else runs
    if not ok.height:
        return Staleness(None, None, True)
    last = ok["ended_at"].max()
    age = now - last
    return Staleness(last, age, age > STALE_AFTER)


# --- Reports: the CLI's registry, the CLI's CSV bytes -----------------------------------------

def _report_function(entry: Any) -> Callable[..., Any]:
    # A registry entry is either the query function itself or a small record that holds it.
    if callable(entry) and not hasattr(entry, "query"):
        return entry
    for name in ("query", "run", "fn", "function"):
        fn = getattr(entry, name, None)
        if callable(fn):
            return fn
    raise AnalyticsMissing(f"{wiring.REPORTS_TARGET}[...] (an entry without a query function)")


def report_info(kind: str) -> tuple[str, dict[str, str]]:
    """(description, {column: meaning}) as the registry documents them; empty when it does not."""
    entry = _resolve(wiring.REPORTS_TARGET).get(kind)
    return getattr(entry, "description", "") or "", dict(getattr(entry, "columns", {}) or {})


def report_kinds() -> list[str]:
    """The report kinds the CLI offers (`agentledger report KIND`), in the registry's order."""
    return list(_resolve(wiring.REPORTS_TARGET))


@st.cache_data(ttl=CACHE_TTL, show_spinner=False, max_entries=256)
def _cached_report(db: str, kind: str, filters_json: str) -> pl.DataFrame:
    registry = _resolve(wiring.REPORTS_TARGET)
    if kind not in registry:
        raise AnalyticsMissing(f"{wiring.REPORTS_TARGET}[{kind!r}]")
    fn = _report_function(registry[kind])
    with reader(db, wait_seconds=_wait_for((db, kind, filters_json))) as con:
        return _as_frame(fn(con, Filters.model_validate_json(filters_json)))


def report(kind: str, filters: Filters) -> pl.DataFrame:
    """The rows of `agentledger report KIND` for these filters (cached)."""
    key = (db_path(), kind, filters.model_dump_json())
    return _with_fallback(key, lambda: _cached_report(*key))


def report_csv(kind: str, filters: Filters) -> bytes:
    """The exact bytes `agentledger report KIND --format csv` writes: the same export function."""
    export = _resolve(wiring.EXPORT_TARGET)
    text = export(report(kind, filters))
    return text if isinstance(text, bytes) else text.encode("utf-8")
