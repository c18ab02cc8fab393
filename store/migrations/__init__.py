"""Named, ordered schema migrations, each applied once and recorded in schema_migrations.

The files are written for the single-file ledger; a backend that lacks some of their features (the
DuckLake lake: no keys, no indexes) applies them through its `translate`, so the schema has one
source of truth."""

from __future__ import annotations

from importlib import resources
from typing import Callable

import duckdb

from store.sql import begin, commit, rollback, run_sql

SCHEMA_MIGRATIONS = ("CREATE TABLE IF NOT EXISTS schema_migrations ("
                     " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)")


def migration_files() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every NNN_name.sql in this folder, in order."""
    found = []
    for entry in resources.files(__package__).iterdir():
        if entry.name.endswith(".sql") and entry.name[:3].isdigit():
            version = int(entry.name[:3])
            found.append((version, entry.name[4:-4], entry.read_text(encoding="utf-8")))
    return sorted(found)


def apply_migrations(con: duckdb.DuckDBPyConnection, translate: Callable[[str], str] = str,
                     retry: Callable | None = None) -> list[str]:
    """Apply the migrations this database lacks, each in its own transaction; return their names.
    `translate` adapts each file to the backend; `retry(work)` runs a transaction again when a
    concurrent writer (another process migrating the same lake) committed first."""
    retry = retry or (lambda work: work(con))
    retry(lambda c: run_sql(c, translate(SCHEMA_MIGRATIONS)))
    done = {row[0] for row in run_sql(con, "SELECT version FROM schema_migrations")}
    applied: list[str] = []
    for version, name, sql in migration_files():
        if version in done:
            continue
        retry(lambda c, v=version, n=name, s=sql: _apply_one(c, v, n, translate(s), applied))
    return applied


def _apply_one(con: duckdb.DuckDBPyConnection, version: int, name: str, sql: str, applied: list[str]) -> None:
    """One migration and its record, unless a writer applied it meanwhile (checked in the transaction)."""
    begin(con)
    try:
        if run_sql(con, "SELECT count(*) FROM schema_migrations WHERE version = ?", [version])[0][0]:
            rollback(con)
            return
        run_sql(con, sql)
        run_sql(con, "INSERT INTO schema_migrations VALUES (?, ?, now()::TIMESTAMP)", [version, name])
        commit(con)
    except BaseException:
        rollback(con)
        raise
    applied.append(name)
