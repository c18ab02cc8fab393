"""Named, ordered schema migrations, each applied once and recorded in schema_migrations."""

from __future__ import annotations

from importlib import resources

import duckdb

from store.sql import run_sql


def migration_files() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every NNN_name.sql in this folder, in order."""
    found = []
    for entry in resources.files(__package__).iterdir():
        if entry.name.endswith(".sql") and entry.name[:3].isdigit():
            version = int(entry.name[:3])
            found.append((version, entry.name[4:-4], entry.read_text(encoding="utf-8")))
    return sorted(found)


def apply_migrations(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply the migrations this database lacks, each in its own transaction; return their names."""
    run_sql(
        con, "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )
    done = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    applied = []
    for version, name, sql in migration_files():
        if version in done:
            continue
        run_sql(con, "BEGIN TRANSACTION")
        try:
            run_sql(con, sql)
            run_sql(
                con, "INSERT INTO schema_migrations VALUES (?, ?, now()::TIMESTAMP)", [version, name]
            )
            run_sql(con, "COMMIT")
        except Exception:
            run_sql(con, "ROLLBACK")
            raise
        applied.append(name)
    return applied
