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
