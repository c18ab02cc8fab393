"""Named, ordered schema migrations, each applied once and recorded in schema_migrations.

The files are written for the single-file ledger; a backend that lacks some of their features (the
DuckLake lake: no keys, no indexes) applies them through its `translate`, so the schema has one
source of truth.

A migration is one transaction, unless it has a backfill: the statements after its line starting
with BACKFILL_MARK are UPDATEs (`UPDATE t SET ... WHERE <rows not filled yet>`) that fill what the
statements before it added to rows already stored. Those would hold every changed row of a table in
one transaction, so memory would grow with the ledger; instead the statements before the mark are
committed first (they must be safe to run again: ADD COLUMN IF NOT EXISTS), then each UPDATE runs
over ranges of rowids, one committed transaction each, and the migration is recorded in a last
transaction that runs the UPDATEs once more over the whole table (filling any row a range missed:
normally none, so only the narrow columns of the WHERE are read). A run stopped anywhere in between
leaves a ledger without the record, which the next run finishes, filling only what is left.
Every transaction runs under MEMORY_LIMIT: DuckDB spills to disk what does not fit.

A lake (`by_files=True`, store/lake.py) cuts a backfill by its data files instead: a range of rowids
smaller than a file makes DuckLake write that file's delete file again, holding every earlier
range's deletes, so each range costs more time and memory than the one before (11 ranges of one
2.6 M-row file: 2.9 s and 466 MB for the first, 801 MB by the last). An UPDATE of whole files writes
each file's deletes once. Each transaction updates a group of files holding at most BACKFILL_ROWS
rows still to fill (a file with more is a group of its own: DuckLake closes a file at its
target_file_size, 512 MB, so a file's rows are bounded too), on one thread: DuckLake writes the
updated rows as Parquet, whose writer holds a row group per thread outside DuckDB's memory_limit
(which is why the limit does not bound it).
"""

from __future__ import annotations

import re
from importlib import resources
from typing import Callable

import duckdb

from store.sql import begin, commit, rollback, run_sql, transaction

SCHEMA_MIGRATIONS = ("CREATE TABLE IF NOT EXISTS schema_migrations ("
                     " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)")
BACKFILL_MARK = "-- backfill:"
# Rows of one backfill transaction: four of DuckDB's row groups (122,880 rows each), so that a
# range rewrites whole row groups.
BACKFILL_ROWS = 4 * 122_880
# DuckDB's memory_limit while migrating. Without it DuckDB keeps what it likes (80% of the machine):
# its cache of the file's blocks alone grows with the ledger.
MEMORY_LIMIT = "128MiB"

_UPDATE = re.compile(r"^\s*UPDATE\s+(\w+)\s+SET\s+(.+?)\s+WHERE\s+(.+?)\s*;?\s*$", re.I | re.S)


def migration_files() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every NNN_name.sql in this folder, in order."""
    found = []
    for entry in resources.files(__package__).iterdir():
        if entry.name.endswith(".sql") and entry.name[:3].isdigit():
            version = int(entry.name[:3])
            found.append((version, entry.name[4:-4], entry.read_text(encoding="utf-8")))
    return sorted(found)


def apply_migrations(con: duckdb.DuckDBPyConnection, translate: Callable[[str], str] = str,
                     retry: Callable | None = None, by_files: bool = False) -> list[str]:
    """Apply the migrations this database lacks (module docstring); return their names.
    `translate` adapts each file to the backend; `retry(work)` runs a transaction again when a
    concurrent writer (another process migrating the same lake) committed first. `by_files` cuts a
    backfill by the lake's data files, on one thread, instead of by rowids under a memory limit."""
    retry = retry or (lambda work: work(con))

    def limited(work: Callable[[duckdb.DuckDBPyConnection], object]) -> object:
        from store.db import within_memory_limit  # store.db imports this module

        if by_files:
            return retry(lambda c: one_thread(c, work))
        return retry(lambda c: within_memory_limit(c, work, MEMORY_LIMIT))

    limited(lambda c: run_sql(c, translate(SCHEMA_MIGRATIONS)))
    done = {row[0] for row in run_sql(con, "SELECT version FROM schema_migrations")}
    applied: list[str] = []
    for version, name, sql in migration_files():
        if version in done:
            continue
        schema, backfills = split_backfill(con, sql)
        if backfills:
            if not _apply_schema(con, version, translate(schema), limited):
                continue
            for statement in backfills:
                if by_files:
                    for files in limited(lambda c, s=statement: _file_groups(c, s)):
                        limited(lambda c, s=statement, f=files: _fill_files(c, s, f))
                    continue
                for low, high in limited(lambda c, s=statement: _ranges(c, s)):
                    limited(lambda c, s=statement, lo=low, hi=high: _fill(c, s, lo, hi))
            schema = ""
        schema += "".join(f"\n{table_update(*statement)};" for statement in backfills)
        limited(lambda c, v=version, n=name, s=translate(schema): _apply_one(c, v, n, s, applied))
    return applied


def split_backfill(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[str, list[tuple[str, str, str]]]:
    """A migration's statements before its backfill mark, and its backfill UPDATEs as (table,
    assignments, which rows)."""
    lines = sql.splitlines()
    mark = next((i for i, line in enumerate(lines) if line.startswith(BACKFILL_MARK)), len(lines))
    backfills = []
    code = [line for line in lines[mark:] if not line.lstrip().startswith("--")]
    for statement in con.extract_statements("\n".join(code)):
        found = _UPDATE.match(statement.query)
        if found is None:
            raise ValueError(f"a backfill must be UPDATE table SET ... WHERE ...: {statement.query.strip()[:80]}")
        backfills.append((found[1], found[2], found[3]))
    return "\n".join(lines[:mark]), backfills


def table_update(table: str, assignments: str, rows: str, ranged: bool = False) -> str:
    """The backfill UPDATE, over the whole table or (`ranged`) over rowids in [$1, $2)."""
    within = " AND rowid >= $1 AND rowid < $2" if ranged else ""
    return f"UPDATE {table} SET {assignments} WHERE ({rows}){within}"


def _ranges(con: duckdb.DuckDBPyConnection, backfill: tuple[str, str, str]) -> list[tuple[int, int]]:
    """Rowid ranges [low, high) that cover the rows the backfill has left to fill, each holding at
    most BACKFILL_ROWS of them."""
    table, _, rows = backfill
    return rowid_ranges(con, table, rows, BACKFILL_ROWS)


def rowid_ranges(con: duckdb.DuckDBPyConnection, table: str, rows: str, most: int) -> list[tuple[int, int]]:
    """Rowid ranges [low, high) that cover the rows of `table` matching `rows`, each holding at most
    `most` of them. Rowids need not be dense (a lake holds rows whose ids are past 10^18 beside rows
    numbered from 0), so ranges are packed from the count of rows per block of rowids."""
    block = max(most // 8, 1)
    counted = run_sql(con, f"SELECT rowid // {block} AS b, count(*) FROM {table} WHERE {rows} GROUP BY b ORDER BY b")
    return [(blocks[0] * block, (blocks[-1] + 1) * block) for blocks in _packed(counted, most)]


def _packed(counted: list[tuple], most: int) -> list[list]:
    """The things of `counted` ((thing, rows) in order) in runs holding at most `most` rows each
    (a thing holding more is a run of its own)."""
    runs: list[list] = []
    held = 0
    for thing, count in counted:
        if runs and held + count <= most:
            runs[-1].append(thing)
            held += count
        else:
            runs.append([thing])
            held = count
    return runs


def _fill(con: duckdb.DuckDBPyConnection, backfill: tuple[str, str, str], low: int, high: int) -> None:
    """One range of a backfill, committed, then written into the file."""
    with transaction(con):
        run_sql(con, table_update(*backfill, ranged=True), [low, high])
    _settle(con)


def _file_groups(con: duckdb.DuckDBPyConnection, backfill: tuple[str, str, str]) -> list[list[str]]:
    """The lake's data files that hold rows the backfill has left to fill, in groups of at most
    BACKFILL_ROWS such rows (a file holding more is a group of its own). Rows kept in the catalog
    rather than a file (DuckLake's inlining) have no file: the migration's last transaction fills them."""
    table, _, rows = backfill
    counted = run_sql(con, f"SELECT filename, count(*) FROM {table} WHERE ({rows}) AND filename IS NOT NULL"
                           " GROUP BY filename ORDER BY filename")
    return _packed(counted, BACKFILL_ROWS)


def _fill_files(con: duckdb.DuckDBPyConnection, backfill: tuple[str, str, str], files: list[str]) -> None:
    """A backfill's rows in these data files of a lake, in one committed transaction."""
    within = ", ".join("?" for _ in files)
    with transaction(con):
        run_sql(con, f"{table_update(*backfill)} AND filename IN ({within})", files)


def one_thread(con: duckdb.DuckDBPyConnection, work: Callable[[duckdb.DuckDBPyConnection], object]) -> object:
    """`work(con)` with DuckDB on one thread (the connection gets its own setting back after)."""
    before = run_sql(con, "SELECT current_setting('threads')")[0][0]
    run_sql(con, "SET threads = 1")
    try:
        return work(con)
    finally:
        run_sql(con, f"SET threads = {int(before)}")


def _apply_schema(con: duckdb.DuckDBPyConnection, version: int, sql: str, limited: Callable) -> bool:
    """The statements before a backfill, each committed and written into the file (a column added
    to a table is held in memory until then: 8 bytes a row); False when a writer recorded the
    migration meanwhile."""
    for statement in con.extract_statements(sql):
        if not limited(lambda c, s=statement.query: _once(c, version, s)):
            return False
    return True


def _once(con: duckdb.DuckDBPyConnection, version: int, sql: str) -> bool:
    with transaction(con):
        if _recorded(con, version):
            return False
        run_sql(con, sql)
    _settle(con)
    return True


def _settle(con: duckdb.DuckDBPyConnection) -> None:
    """Write what was committed into a single-file ledger (a lake writes its files as it commits;
    its CHECKPOINT is a maintenance run, never wanted here)."""
    if is_single_file(con):
        run_sql(con, "CHECKPOINT")


def is_single_file(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether `con` writes a DuckDB database (a file, or in memory), not a lake."""
    return run_sql(con, "SELECT type = 'duckdb' AND NOT readonly FROM duckdb_databases()"
                        " WHERE database_name = current_database()")[0][0]


def _recorded(con: duckdb.DuckDBPyConnection, version: int) -> bool:
    return bool(run_sql(con, "SELECT count(*) FROM schema_migrations WHERE version = ?", [version])[0][0])


def _apply_one(con: duckdb.DuckDBPyConnection, version: int, name: str, sql: str, applied: list[str]) -> None:
    """One migration and its record, unless a writer applied it meanwhile (checked in the transaction)."""
    begin(con)
    try:
        if _recorded(con, version):
            rollback(con)
            return
        run_sql(con, sql)
        run_sql(con, "INSERT INTO schema_migrations VALUES (?, ?, now()::TIMESTAMP)", [version, name])
        commit(con)
    except BaseException:
        rollback(con)
        raise
    applied.append(name)
