"""Run the named SQL files in analytics/sql/ with bound parameters (values are never formatted in).

`read(con, name, filters)` is the one way a report or a view reads the ledger: it creates the shared
macros on the connection and binds the filters as one STRUCT parameter, $slice (`slice_param`), that
the table macros (session_days, component_days, filtered_flags) and `in_people` apply. The viewer's
scope is not a parameter: it is bound on the connection (analytics.access.scope.bind) and those same
macros obey it, so a new report that reads through them inherits it (docs/security.md).
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any, Mapping

import duckdb
import polars as pl

from analytics.filters import FIRST_PLAUSIBLE_DAY, FilterChoices, Filters, last_plausible_day
from analytics.periods import previous_period, utc_today
from store.sql import run_sql

_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
# Statements in a file end with a semicolon at the end of a line; no literal in our SQL holds one.
_SPLIT = re.compile(r";[ \t]*(?:\n|$)")


@lru_cache(maxsize=None)
def statements(name: str) -> tuple[str, ...]:
    """The statements of analytics/sql/<name>.sql, in order."""
    text = (resources.files("analytics") / "sql" / f"{name}.sql").read_text(encoding="utf-8")
    return tuple(part.strip() for part in _SPLIT.split(text) if _strip_comments(part).strip())


def _strip_comments(sql: str) -> str:
    return "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--"))


def bind(sql: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The subset of `params` a statement names (DuckDB refuses unused named parameters)."""
    wanted = set(_PARAM.findall(_strip_comments(sql)))
    missing = wanted - params.keys()
    if missing:
        raise KeyError(f"SQL parameter(s) not supplied: {', '.join(sorted(missing))}")
    return {name: params[name] for name in wanted}


def execute(con: duckdb.DuckDBPyConnection, name: str, params: Mapping[str, Any] | None = None) -> None:
    """Run every statement of a file (DDL/DML), consuming each result before the next."""
    for sql in statements(name):
        bound = bind(sql, params or {})
        run_sql(con, sql, bound or None)


def frame(con: duckdb.DuckDBPyConnection, name: str, params: Mapping[str, Any] | None = None) -> pl.DataFrame:
    """Run a file whose last statement is a SELECT and return that result as a polars frame."""
    *setup, last = statements(name)
    for sql in setup:
        run_sql(con, sql, bind(sql, params or {}) or None)
    return select(con, last, bind(last, params or {}))


def prepare(con: duckdb.DuckDBPyConnection) -> None:
    """Create the shared TEMP macros (filters, ratios) on this connection; cheap and repeatable."""
    execute(con, "macros")


def select(con: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, Any] | list | None = None) -> pl.DataFrame:
    """One SELECT as a polars frame (through Arrow), its result fully consumed."""
    relation = con.sql(sql, params=params) if params else con.sql(sql)
    return pl.from_arrow(relation.to_arrow_table())


def slice_param(filters: Filters) -> dict[str, Any]:
    """The $slice STRUCT every report and view binds: one field per filter, None = no filter."""
    return filters.model_dump()


def read(con: duckdb.DuckDBPyConnection, name: str, filters: Filters | None = None, **params: Any) -> pl.DataFrame:
    """The rows of analytics/sql/<name>.sql on the slice `filters` describes (plus the file's own parameters)."""
    prepare(con)
    return frame(con, name, {"slice": slice_param(filters or Filters()), **params})


# -- Views: what the dashboard shows besides the reports, each fn(con, filters, **params) -------------

def summary(con: duckdb.DuckDBPyConnection, filters: Filters | None = None) -> pl.DataFrame:
    """One row of KPIs: cost, tokens, requests, sessions, people, useful ratio, flagged sessions."""
    return read(con, "view_summary", filters)


def totals(con: duckdb.DuckDBPyConnection, filters: Filters | None = None) -> pl.DataFrame:
    """One row: sessions and spend of the slice (rollups only: cheap)."""
    return read(con, "view_totals", filters)


def daily_outcomes(con: duckdb.DuckDBPyConnection, filters: Filters | None = None) -> pl.DataFrame:
    """Per day and outcome (kept, looping, discarded, idle): tokens and cost_usd."""
    return read(con, "view_daily_outcomes", filters)


def spend_by_source(con: duckdb.DuckDBPyConnection, filters: Filters | None = None) -> pl.DataFrame:
    """Per source agent: requests, total_tokens, cost_usd, useful_output_ratio."""
    return read(con, "view_spend_by_source", filters)


def user_daily(con: duckdb.DuckDBPyConnection, filters: Filters | None = None) -> pl.DataFrame:
    """Per person and day: cost_usd, total_tokens, useful_output_ratio."""
    return read(con, "view_user_daily", filters)


def team_daily(con: duckdb.DuckDBPyConnection, filters: Filters | None = None) -> pl.DataFrame:
    """Per team and day: cost_usd, total_tokens, useful_output_ratio."""
    return read(con, "view_team_daily", filters)


def session_timeline(con: duckdb.DuckDBPyConnection, filters: Filters | None = None, *, session_id: str) -> pl.DataFrame:
    """One session's requests in order, with outcome, attribution and tool calls."""
    return read(con, "view_session_timeline", filters, session_id=session_id)


def session_outcomes(con: duckdb.DuckDBPyConnection, filters: Filters | None = None, *, session_id: str) -> pl.DataFrame:
    """One session's requests, tokens and spend per outcome."""
    return read(con, "view_session_outcomes", filters, session_id=session_id)


def session_flags(con: duckdb.DuckDBPyConnection, filters: Filters | None = None, *, session_id: str) -> pl.DataFrame:
    """One session's flags with evidence."""
    return read(con, "view_session_flags", filters, session_id=session_id)


def changes(con: duckdb.DuckDBPyConnection, filters: Filters | None = None, *, group_by: str = "org") -> pl.DataFrame:
    """Per team (group_by='team') or for the whole slice ('org'): spend and ratios against the equally
    long period before, as relative change (percent) and percentage points; NULL without a period."""
    if group_by not in ("org", "team"):
        raise ValueError(f"changes are per 'org' or 'team', not {group_by!r}")
    filters = filters or Filters()
    previous = previous_period(filters)
    frame_ = read(con, "view_changes", filters, group_by=group_by, compare=previous is not None,
                  previous=slice_param(previous or filters))
    return frame_.rename({"grp": group_by}) if group_by == "team" else frame_.drop("grp")


def flag_types(con: duckdb.DuckDBPyConnection, filters: Filters | None = None) -> pl.DataFrame:
    """Per flag type: flags, sessions, its own spend and tokens, and the spend it shares with other types."""
    return read(con, "view_flag_types", filters)


def flag_overlap(con: duckdb.DuckDBPyConnection, filters: Filters | None = None) -> pl.DataFrame:
    """Pairs of flag types whose stretches hold the same requests: sessions and shared spend."""
    return read(con, "view_flag_overlap", filters)


def flagged_sessions(con: duckdb.DuckDBPyConnection, filters: Filters | None = None) -> pl.DataFrame:
    """One row per flagged session: its flags, spend in its flagged stretches (once) and its whole spend."""
    return read(con, "view_flagged_sessions", filters)


def people(con: duckdb.DuckDBPyConnection, filters: Filters | None = None, *, today: date | None = None) -> pl.DataFrame:
    """Per person (directory, data or files): newest request, days silent, sessions and spend in the period."""
    return read(con, "view_people", filters, today=today or utc_today(), first_plausible=FIRST_PLAUSIBLE_DAY,
                last_plausible=last_plausible_day())


def people_gaps(con: duckdb.DuckDBPyConnection, filters: Filters | None = None, *, today: date | None = None,
                listed: int = 12) -> pl.DataFrame:
    """One row: people the org directory expects in the slice, how many have no sessions in the period,
    and the first `listed` of those (longest silent first); no row when the slice holds none of them."""
    return read(con, "view_people_gaps", filters, today=today or utc_today(), first_plausible=FIRST_PLAUSIBLE_DAY,
                last_plausible=last_plausible_day(), listed=listed)


# -- Outcomes in git (docs/metrics.md "Outcomes in git"): one view per thing a page draws -------------

def git_headline(con: duckdb.DuckDBPyConnection, filters: Filters | None = None) -> pl.DataFrame:
    """One row (Overview): spend, and its shares in turns that landed a line and that keep one alive at
    the head; lines landed and alive; repositories scanned (0: show how to scan instead)."""
    return read(con, "view_git_headline", filters)


def team_outcomes(con: duckdb.DuckDBPyConnection, filters: Filters | None = None) -> pl.DataFrame:
    """Per team (Teams): the outcomes report's team rows, cost per landed line and per line alive at 30 days."""
    rows = read(con, "report_outcomes", filters)
    return rows.filter(pl.col("level") == "team").drop("level").rename({"name": "team"})


def plugin_outcomes(con: duckdb.DuckDBPyConnection, filters: Filters | None = None) -> pl.DataFrame:
    """Per component and plugin (Plugins, "Worth it?"): spend, its share in turns that landed, landed
    lines, and whether it is built in or an integration."""
    return read(con, "view_plugin_outcomes", filters)


def survival_curve(con: duckdb.DuckDBPyConnection, filters: Filters | None = None) -> pl.DataFrame:
    """Per team and age (0, 7, 30 days): landed agent lines due at that age, alive, and their share."""
    return read(con, "view_survival_curve", filters)


def git_coverage(con: duckdb.DuckDBPyConnection, filters: Filters | None = None) -> pl.DataFrame:
    """One row (Data health): repositories scanned, sessions with edits mapped to none and their share of
    spend, printed commits found nowhere, agent commits without logs."""
    return read(con, "view_git_coverage", filters)


def session_commits(con: duckdb.DuckDBPyConnection, filters: Filters | None = None, *, session_id: str) -> pl.DataFrame:
    """One session's commits (Session page): link signal, landed, its agent lines and how many are alive."""
    return read(con, "view_session_commits", filters, session_id=session_id)


def session_git_turns(con: duckdb.DuckDBPyConnection, filters: Filters | None = None, *, session_id: str) -> pl.DataFrame:
    """One session's turns: cost, useful ratio, and lines written, committed, landed and alive at the head."""
    return read(con, "view_session_git_turns", filters, session_id=session_id)


# The views over a slice of the data (the session views take one session instead).
VIEWS = {view.__name__: view for view in (summary, totals, daily_outcomes, spend_by_source, user_daily, team_daily, changes,
                                          flag_types, flag_overlap, flagged_sessions, people, people_gaps,
                                          git_headline, team_outcomes, plugin_outcomes, survival_curve, git_coverage)}


def session_span(con: duckdb.DuckDBPyConnection, session_id: str) -> Filters | None:
    """The slice (its person, its first and last day) holding one session's row in the sessions report;
    None when the session is not in the ledger or not in the viewer's scope."""
    prepare(con)
    user, first, last = frame(con, "session_span", {"session_id": session_id}).row(0)
    return Filters(user=user, date_from=first, date_to=last) if first else None


def filter_choices(con: duckdb.DuckDBPyConnection) -> FilterChoices:
    """Every value each filter can take, display names, and the plausible days that hold data."""
    values = read(con, "choices_values")
    found: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for dimension, value, label in values.iter_rows():
        found.setdefault(dimension, []).append(value)
        if label:
            names[value] = label
    first, last = frame(con, "choices_days", {"first_plausible": FIRST_PLAUSIBLE_DAY,
                                               "last_plausible": last_plausible_day()}).row(0)
    return FilterChoices(found, first, last, names)
