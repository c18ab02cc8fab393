"""Running statements: DuckDB wants every result consumed before the next call on a connection."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator, Sequence

import duckdb


def run_sql(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | dict | None = None) -> list[tuple]:
    """Execute one statement and return all its rows (an INSERT returns its row count)."""
    if params is None:
        return con.execute(sql).fetchall()
    return con.execute(sql, params).fetchall()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """One transaction around a block: committed when it ends, rolled back when it raises."""
    run_sql(con, "BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        run_sql(con, "ROLLBACK")
        raise
    run_sql(con, "COMMIT")
