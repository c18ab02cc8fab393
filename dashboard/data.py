"""Everything the pages read: analytics functions called by import, behind one cached function.

Every read goes through `_cached`: a short read-only connection with the viewer's scope bound on it
(dashboard.auth admitted them; analytics obeys the scope in every query), a result cached per ledger,
scope and key for CACHE_TTL, and the last good result served while an ingest holds the file. Pages call
`view(queries.summary, filters)`, `report("users", filters)` and the few helpers below; the metrics
themselves live in analytics/, so the CLI, the CSV export and the pages agree.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import duckdb
import polars as pl
import streamlit as st

from analytics import health, queries
from analytics.access.scope import Scope, bind
from analytics.access.settings import access_settings
from analytics.export import to_csv
from analytics.filters import UNASSIGNED_TEAM, FilterChoices, Filters
from analytics.reports import REPORTS, Report
from dashboard import auth
from store.config import LAKE_PREFIX, LakeTarget, is_lake_spec
from store.db import DatabaseError, reader, store_exists, store_name

# Cached results live this long: a scheduled ingest shows up within a minute, and a page
# revisited within the TTL never touches the database file at all.
CACHE_TTL = timedelta(seconds=60)

# A page waits this long for an ingest to release the write lock before it says so
# (store.db would wait 60 s; a dashboard page should answer sooner).
READ_WAIT_SECONDS = 20.0

# A page that has been drawn before waits only this long for a writer before it falls back to
# the last good result (see _with_fallback); a first-time query waits READ_WAIT_SECONDS.
BUSY_WAIT_SECONDS = 3.0
STALE_STATE = "_agentledger_served_stale_since"


def db_label(db: str | None = None) -> str:
    """The ledger as a page names it: a lake's spec with its password masked."""
    db = db or db_path()
    return LakeTarget(db[len(LAKE_PREFIX):]).display() if is_lake_spec(db) else db


def db_path() -> str:
    """The ledger this dashboard reads: $AGENTLEDGER_DB (set by `agentledger dashboard`; a file, or a
    lake's `ducklake:` spec), else the default."""
    return store_name(None)


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
    if not store_exists(path):
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


# --- The one cached read ----------------------------------------------------------------------

@st.cache_data(ttl=CACHE_TTL, show_spinner=False, max_entries=512)
def _cached(db: str, key: str, _read: Callable[[duckdb.DuckDBPyConnection], Any], _scope: Scope) -> Any:
    # `key` names the viewer's scope, the call and its arguments (what the cache is keyed on: a cache
    # shared by all sessions must never hand one viewer's rows to another); `_read` does it and
    # `_scope` is bound on the connection first; neither is hashed (the leading underscore).
    with reader(db, wait_seconds=_wait_for((db, key))) as con:
        bind(con, _scope)
        return _read(con)


def _get(key: str, read: Callable[[duckdb.DuckDBPyConnection], Any], db: str | None = None) -> Any:
    db = db or db_path()
    scope = auth.current().scope
    key = f"{scope.key}:{key}"
    return _with_fallback((db, key), lambda: _cached(db, key, read, scope))


def _key(name: str, filters: Filters | None, extra: dict[str, Any] | None = None) -> str:
    return json.dumps([name, filters.model_dump(mode="json") if filters else None, extra or {}],
                      sort_keys=True, default=str)


def view(query: Callable[..., pl.DataFrame], filters: Filters, **extra: Any) -> pl.DataFrame:
    """An analytics.queries view, query(con, filters, **extra), cached per filter values."""
    return _get(_key(f"view:{query.__name__}", filters, extra), lambda con: query(con, filters, **extra))


def report_entry(kind: str) -> Report:
    """The registry entry of `agentledger report KIND` (description, columns, query)."""
    return REPORTS[kind]


def report_kinds() -> list[str]:
    """The report kinds the CLI offers (`agentledger report KIND`), in the registry's order."""
    return list(REPORTS)


def report_info(kind: str) -> tuple[str, dict[str, str]]:
    """(description, {column: meaning}) as the registry documents them."""
    entry = report_entry(kind)
    return entry.description, entry.columns


def report(kind: str, filters: Filters) -> pl.DataFrame:
    """The rows of `agentledger report KIND` for these filters (cached)."""
    query = report_entry(kind).query
    return _get(_key(f"report:{kind}", filters), lambda con: query(con, filters))


def report_csv(kind: str, filters: Filters) -> bytes:
    """The exact bytes `agentledger report KIND --format csv` writes: the same export function."""
    return to_csv(report(kind, filters))


def report_download(kind: str, filters: Filters) -> Callable[[], bytes]:
    """A download button's data: called when the viewer clicks, it audits the export, then returns
    report_csv's bytes (computed now, in the viewer's scope). Every CSV download goes through here."""
    payload = report_csv(kind, filters)
    recorded = auth.export_recorder(auth.current(), access_settings(), f"report:{kind}", filters)

    def download() -> bytes:
        recorded()  # an export that cannot be audited raises here, and nothing is downloaded
        return payload

    return download


def filter_choices() -> FilterChoices:
    """What the sidebar offers: teams, people, projects, sources, models, and the plausible days with data."""
    return _get("choices", queries.filter_choices)


def has_teams() -> bool:
    """Whether an org directory with teams is loaded: without one every person is "(unassigned)",
    and a team column or label says nothing."""
    return any(team != UNASSIGNED_TEAM for team in filter_choices().values.get("team", []))


def session_span(session_id: str) -> Filters | None:
    """The slice (person, first and last day) that finds a session's one row in the sessions report."""
    return _get(_key("span", None, {"session": session_id}), lambda con: queries.session_span(con, session_id))


# Pipeline facts that name files and folders (whose names are people's): admins only.
_ADMIN_ONLY_COLUMNS = {"runs": ("command", "error"), "rejects": ("example",), "drift": ("first_path",)}


def health_facts(db: str) -> dict[str, pl.DataFrame]:
    """Every data-health table in one short connection: runs, files, rejects, freshness, drift (paths
    and commands only for admins)."""
    facts = _get("health", health.facts, db)
    if auth.current().is_admin:
        return facts
    return {name: frame.drop(_ADMIN_ONLY_COLUMNS.get(name, ()), strict=False) for name, frame in facts.items()}
