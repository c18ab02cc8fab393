"""Run the named SQL files in analytics/sql/ with bound parameters (values are never formatted in)."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import Any, Mapping

import duckdb
import polars as pl

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


# -- Named views the dashboard calls as fn(con, filters, **kwargs) (dashboard/wiring.py) --------

def _view(name: str, con: duckdb.DuckDBPyConnection, filters: Any = None, **extra: Any) -> pl.DataFrame:
    from analytics.filters import Filters  # local: filters is a leaf model, queries the runner

    prepare(con)
    return frame(con, f"view_{name}", {**(filters or Filters()).params(), **extra})


def summary(con: duckdb.DuckDBPyConnection, filters: Any = None) -> pl.DataFrame:
    """One row of KPIs: cost, tokens, requests, sessions, people, useful ratio, flagged sessions."""
    return _view("summary", con, filters)


def daily_outcomes(con: duckdb.DuckDBPyConnection, filters: Any = None) -> pl.DataFrame:
    """Per day and outcome (kept, looping, discarded, idle): tokens and cost_usd."""
    return _view("daily_outcomes", con, filters)


def spend_by_source(con: duckdb.DuckDBPyConnection, filters: Any = None) -> pl.DataFrame:
    """Per source agent: requests, total_tokens, cost_usd, useful_output_ratio."""
    return _view("spend_by_source", con, filters)


def user_daily(con: duckdb.DuckDBPyConnection, filters: Any = None) -> pl.DataFrame:
    """Per person and day: cost_usd, total_tokens, useful_output_ratio."""
    return _view("user_daily", con, filters)


def team_daily(con: duckdb.DuckDBPyConnection, filters: Any = None) -> pl.DataFrame:
    """Per team and day: cost_usd, total_tokens, useful_output_ratio."""
    return _view("team_daily", con, filters)


def session_timeline(con: duckdb.DuckDBPyConnection, filters: Any = None, *, session_id: str) -> pl.DataFrame:
    """One session's requests in order, with outcome, attribution and tool calls."""
    return _view("session_timeline", con, None, session_id=session_id)


def session_flags(con: duckdb.DuckDBPyConnection, filters: Any = None, *, session_id: str) -> pl.DataFrame:
    """One session's flags with evidence."""
    return _view("session_flags", con, None, session_id=session_id)
