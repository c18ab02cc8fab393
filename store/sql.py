"""Running statements: DuckDB wants every result consumed before the next call on a connection.

Write transactions start with `begin` and end with `commit` or `rollback`: a backend whose writers
commit concurrently (the DuckLake lake, store/lake.py) registers a statement that each of its write
transactions runs first (`on_begin`), and the writers need not know which backend they write to.
"""

from __future__ import annotations

import weakref
from contextlib import contextmanager
from typing import Any, Iterator, Sequence

import duckdb

# Connection -> the statement its backend runs at the start of every write transaction.
_ON_BEGIN: "weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, str]" = weakref.WeakKeyDictionary()


def run_sql(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | dict | None = None) -> list[tuple]:
    """Execute one statement and return all its rows (an INSERT returns its row count)."""
    if params is None:
        return con.execute(sql).fetchall()
    return con.execute(sql, params).fetchall()


def on_begin(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Have every write transaction `begin` starts on `con` run `sql` first."""
    _ON_BEGIN[con] = sql


def begin(con: duckdb.DuckDBPyConnection) -> None:
    """Start a write transaction (and run what the connection's backend asks of each one)."""
    run_sql(con, "BEGIN TRANSACTION")
    claim = _ON_BEGIN.get(con)
    if claim:
        run_sql(con, claim)


def commit(con: duckdb.DuckDBPyConnection) -> None:
    """Commit the transaction `begin` started."""
    run_sql(con, "COMMIT")


def rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back, if a transaction is still open: a COMMIT that failed (a lake's commit conflict)
    has already ended it, and the error that ended it is the one worth raising."""
    try:
        run_sql(con, "ROLLBACK")
    except duckdb.Error:
        pass


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """One transaction around a block: committed when it ends, rolled back when it or the commit raises."""
    begin(con)
    try:
        yield
        commit(con)
    except BaseException:
        rollback(con)
        raise
