"""Running statements: DuckDB wants every result consumed before the next call on a connection."""

from __future__ import annotations

from typing import Any, Sequence

import duckdb


def run_sql(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | dict | None = None) -> list[tuple]:
    """Execute one statement and return all its rows (an INSERT returns its row count)."""
    if params is None:
        return con.execute(sql).fetchall()
    return con.execute(sql, params).fetchall()
