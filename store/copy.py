"""Move a ledger between stores (`agentledger store copy`) and write it out as Parquet (`export`).

Both stores hold the same tables (the same migrations), so a copy is one INSERT per table: the
source is attached to the destination's DuckDB read-only and streamed across, never held in memory
whole. Into a file it is one transaction under the writer's memory limit. Into a lake it is one
transaction per range of the source's rows (LAKE_COPY_ROWS), on one thread: a lake writes the rows
as Parquet, whose writer holds a row group per thread outside DuckDB's memory_limit, and what one
transaction writes is kept until it commits (the 4x ledger copied in one transaction peaked at
1.5 GB). A copy into a lake that stops leaves the rows of the ranges it committed; the next copy
refuses that lake (it holds rows), so start again on an empty one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from store.config import LakeTarget, lake_target
from store.db import within_memory_limit
from store.key_hashes import KEY_HASHES, key_hash_sql
from store.migrations import is_single_file, one_thread, rowid_ranges
from store.sql import begin, commit, rollback, run_sql, transaction

SOURCE = "agentledger_source"
# Bookkeeping of one store that the other keeps for itself.
NOT_COPIED = ("schema_migrations", "lake_writes")
# Source rows per transaction of a copy into a lake: four of DuckDB's row groups.
LAKE_COPY_ROWS = 4 * 122_880
# Tables whose rows have a day or a time: exported in one folder per UTC day (Hive style).
DAY_COLUMNS = ("day", "ts")


class CopyError(RuntimeError):
    """The copy cannot be made; one line for the user."""


@dataclass
class CopySummary:
    tables: dict[str, int] = field(default_factory=dict)   # rows copied per table

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def attach_source(con: duckdb.DuckDBPyConnection, source: str | os.PathLike | LakeTarget) -> None:
    """Attach a file ledger or a lake to `con`, read-only, as `agentledger_source`."""
    from store.lake import load_extension, quote, uses_s3, enable_object_storage
    from store.config import settings

    lake = lake_target(source)
    if lake:
        load_extension(con, "duckdb_extension_ducklake", "ducklake")
        if lake.catalog.startswith("postgres:"):
            load_extension(con, "duckdb_extension_postgres_scanner", "postgres_scanner")
        if uses_s3(lake.data_path, settings()):
            enable_object_storage(con)
        schema = f", METADATA_SCHEMA {quote(lake.schema)}" if lake.schema else ""
        run_sql(con, f"ATTACH {quote(lake.spec)} AS {SOURCE} (READ_ONLY{schema})")
    else:
        path = Path(source).expanduser()
        if not path.exists():
            raise CopyError(f"no ledger at {path}")
        run_sql(con, f"ATTACH {quote(str(path))} AS {SOURCE} (READ_ONLY)")


def tables_of(con: duckdb.DuckDBPyConnection, database: str) -> list[str]:
    """The ledger's base tables in `database` (views are made by the migrations, not copied)."""
    rows = run_sql(con, "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'main'"
                        " AND NOT temporary ORDER BY table_name", [database])
    return [name for (name,) in rows if name not in NOT_COPIED]


def copy_into(con: duckdb.DuckDBPyConnection, source: str | os.PathLike | LakeTarget) -> CopySummary:
    """Copy every table of `source` into the (migrated, empty) ledger `con` writes: in one
    transaction into a file, in committed ranges of rows into a lake (module docstring)."""
    attach_source(con, source)
    try:
        here = run_sql(con, "SELECT current_database()")[0][0]
        mine = set(tables_of(con, here))
        theirs = tables_of(con, SOURCE)
        missing = [t for t in theirs if t not in mine]
        if missing:
            raise CopyError(f"the destination lacks table(s) {', '.join(missing)}: upgrade agentledger where it runs")
        # Every table: a copy into a lake that stopped part-way may have left rows in any of them.
        held = [t for t in theirs if run_sql(con, f"SELECT count(*) FROM {t}")[0][0]]
        if held:
            raise CopyError("the destination already holds a ledger (rows in " + ", ".join(held) + "): copy into an empty one")
        if is_single_file(con):
            # Without a limit DuckDB keeps what it likes of the rows the transaction writes (an
            # 80x180 ledger copied file to file peaked at 1.25 GB); under one it spills them.
            return within_memory_limit(con, lambda c: _copy_tables(c, theirs))
        return one_thread(con, lambda c: _copy_ranges(c, theirs))
    finally:
        run_sql(con, f"DETACH {SOURCE}")


def _copy_tables(con: duckdb.DuckDBPyConnection, tables: list[str]) -> CopySummary:
    """One INSERT per table from the attached source, in one transaction."""
    summary = CopySummary()
    begin(con)
    try:
        for table in tables:
            summary.tables[table] = run_sql(con, _insert(con, table))[0][0]
        commit(con)
    except BaseException:
        rollback(con)
        raise
    return summary


def _copy_ranges(con: duckdb.DuckDBPyConnection, tables: list[str]) -> CopySummary:
    """Each table from the attached source in ranges of its rowids, one committed transaction each."""
    summary = CopySummary()
    for table in tables:
        insert = _insert(con, table) + " WHERE rowid >= ? AND rowid < ?"
        summary.tables[table] = 0
        for low, high in rowid_ranges(con, f"{SOURCE}.main.{table}", "true", LAKE_COPY_ROWS):
            summary.tables[table] += within_memory_limit(con, lambda c, lo=low, hi=high: _copy_range(c, insert, lo, hi))
    return summary


def _copy_range(con: duckdb.DuckDBPyConnection, insert: str, low: int, high: int) -> int:
    with transaction(con):
        return run_sql(con, insert, [low, high])[0][0]


def _insert(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """The INSERT of every row of `table` from the attached source."""
    columns = [c for (c,) in run_sql(
        con, "SELECT column_name FROM duckdb_columns() WHERE database_name = ? AND table_name = ?"
             " ORDER BY column_index", [SOURCE, table])]
    # A source older than the key hashes lacks them: computed here, as every insert does.
    hashes = {name: key for name, key in KEY_HASHES.get(table, {}).items() if name not in columns}
    names = ", ".join(columns + list(hashes))
    values = ", ".join(columns + [key_hash_sql(key) for key in hashes.values()])
    return f"INSERT INTO {table} ({names}) SELECT {values} FROM {SOURCE}.main.{table}"


def export_parquet(con: duckdb.DuckDBPyConnection, folder: Path) -> dict[str, int]:
    """Every ledger table as Parquet under `folder`/<table>/: tables with a day or a time split
    into `day=YYYY-MM-DD/` folders (Hive partitioning, which Spark, Trino, Polars, pandas and DuckDB
    read as a column). Rewrites what an earlier export of the same tables left there."""
    folder.mkdir(parents=True, exist_ok=True)
    here = run_sql(con, "SELECT current_database()")[0][0]
    written = {}
    for table in tables_of(con, here):
        columns = {c for (c,) in run_sql(con, "SELECT column_name FROM duckdb_columns() WHERE database_name = ?"
                                               " AND table_name = ?", [here, table])}
        target = str(folder / table)
        written[table] = run_sql(con, f"SELECT count(*) FROM {table}")[0][0]
        # An empty table still gets a file, so that an engine reading the folder finds its columns.
        day = next((c for c in DAY_COLUMNS if c in columns), None) if written[table] else None
        if day == "day":
            sql = f"COPY (SELECT * FROM {table}) TO $p (FORMAT parquet, PARTITION_BY (day), OVERWRITE)"
        elif day == "ts":
            sql = f"COPY (SELECT *, ts::DATE AS day FROM {table}) TO $p (FORMAT parquet, PARTITION_BY (day), OVERWRITE)"
        else:
            Path(target).mkdir(exist_ok=True)
            for stale in Path(target).glob("day=*"):  # an earlier export's partitions of a now empty table
                _remove_tree(stale)
            target = str(Path(target) / "data.parquet")
            sql = f"COPY (SELECT * FROM {table}) TO $p (FORMAT parquet)"
        run_sql(con, sql, {"p": target})
    return written


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)
