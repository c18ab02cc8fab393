"""The ledger past one machine: a DuckLake catalog (PostgreSQL) with Parquet files in a folder or S3.

DuckLake keeps the tables' metadata and snapshots in the catalog and their rows in Parquet files;
any number of DuckDB processes, on any machines, read and write it. What that changes here:

- Extensions load by path from their PyPI wheels (`pip install 'agentledger[lake]'`): DuckDB cannot
  download them on a machine without internet access, and the wheels pin them to DuckDB 1.5.5.
- The schema is the single-file ledger's migrations, translated (`translate`): DuckLake has no
  PRIMARY KEY, UNIQUE, index or sequence. Nothing relies on them: every writer states its
  idempotency in its statements (ingest/writer.py).
- Many writers: DuckLake commits optimistically and only notices a conflict at COMMIT. Two
  transactions that insert the same new keys both commit without one, so every write transaction
  here first bumps the one row of `lake_writes` (store.sql.begin): any two concurrent writers then
  conflict, the loser rolls back and `LakeLedger.transact` runs its transaction again on the new
  snapshot. Writers parse in parallel and commit one at a time; a transaction sees every commit
  before it, so deduplication by keys holds as on the single file. `lake_writes.writes` counts the
  lake's write commits. Writers on the same machine take turns for their transactions (a lock file
  per lake), so they never redo work because of each other; only writers on different machines race.
- Readers attach read-only and read the last committed snapshot: nothing ever waits for a writer.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import os
import tempfile
import random
import re
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, TypeVar

import duckdb

from store.db import DatabaseError
from store.config import LakeTarget, mask, settings as store_settings
from store.settings import StoreSettings
from store.migrations import apply_migrations
from store.sql import commit, on_begin, rollback, run_sql

# The attached catalog's name; `USE` makes unqualified table names resolve into it.
LAKE = "agentledger_lake"
CLAIM = "UPDATE lake_writes SET writes = writes + 1"

T = TypeVar("T")


class LakeError(DatabaseError):
    """The lake could not be opened or used; the message is one line for the user."""


def extension_file(package: str, name: str) -> Path:
    """The extension binary a `duckdb-extension-<x>` wheel ships for this DuckDB version."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise LakeError(f"the {name} DuckDB extension is not installed: pip install -c constraints.txt 'agentledger[lake]'")
    path = Path(list(spec.submodule_search_locations)[0]) / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    if not path.exists():
        raise LakeError(f"{package} has no build for DuckDB {duckdb.__version__} ({path} is missing)")
    return path


def load_extension(con: duckdb.DuckDBPyConnection, package: str, name: str) -> None:
    """LOAD an extension from its wheel (DuckDB derives the entry point from the file's name)."""
    run_sql(con, f"LOAD {quote(str(extension_file(package, name)))}")


def quote(text: str) -> str:
    """A SQL string literal, for the few statements that take no bound parameters (ATTACH, LOAD)."""
    return "'" + text.replace("'", "''") + "'"


def uses_s3(path: str | None, cfg: StoreSettings) -> bool:
    return bool(path and path.startswith(("s3://", "s3a://"))) or bool(cfg.s3_endpoint or cfg.s3_key_id)


def enable_object_storage(con: duckdb.DuckDBPyConnection, cfg: StoreSettings | None = None) -> None:
    """httpfs and an S3 secret from the settings, so s3:// paths read and write."""
    cfg = cfg or store_settings()
    load_extension(con, "duckdb_extension_httpfs", "httpfs")
    options = {"REGION": cfg.s3_region, "URL_STYLE": cfg.s3_url_style, "USE_SSL": cfg.s3_use_ssl}
    if cfg.s3_endpoint:
        options["ENDPOINT"] = cfg.s3_endpoint
    if cfg.s3_key_id:
        options["KEY_ID"] = cfg.s3_key_id
    if cfg.s3_secret:
        options["SECRET"] = cfg.s3_secret.get_secret_value()
    names = list(options)
    run_sql(con, "CREATE OR REPLACE SECRET agentledger_s3 (TYPE S3, " + ", ".join(f"{n} ?" for n in names) + ")",
            [options[n] for n in names])


def scratch(path: str | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that can read and write `path` (a folder, or s3://… with httpfs)."""
    con = duckdb.connect()
    cfg = store_settings()
    if uses_s3(path, cfg):
        enable_object_storage(con, cfg)
    return con


# How often attaching a brand-new lake is tried while other writers create its catalog tables.
ATTACH_TRIES = 20


def connect(target: LakeTarget, read_only: bool = False, migrate: bool = True) -> duckdb.DuckDBPyConnection:
    """A connection with the lake attached (and used); a writer's has every migration applied."""
    for attempt in range(1, ATTACH_TRIES + 1):
        try:
            return _connect(target, read_only, migrate)
        except LakeError as error:
            # Workers started together on an empty catalog database all try to create DuckLake's
            # own tables; all but one fail in PostgreSQL. The next try finds the tables there.
            if attempt == ATTACH_TRIES or "Failed to initialize DuckLake" not in str(error):
                raise
            time.sleep(0.05 * attempt * random.uniform(0.5, 1.5))
    raise AssertionError("unreachable")


def _connect(target: LakeTarget, read_only: bool, migrate: bool) -> duckdb.DuckDBPyConnection:
    cfg = store_settings()
    con = duckdb.connect()
    try:
        load_extension(con, "duckdb_extension_ducklake", "ducklake")
        if target.catalog.startswith("postgres:"):
            # The wheel's file is named postgres_scanner, the name DuckDB derives the entry point from.
            load_extension(con, "duckdb_extension_postgres_scanner", "postgres_scanner")
        if uses_s3(target.data_path, cfg):
            enable_object_storage(con, cfg)
        options = []
        if target.data_path and not read_only:
            options.append(f"DATA_PATH {quote(_folder(target.data_path))}")
        if target.schema:
            options.append(f"METADATA_SCHEMA {quote(target.schema)}")
        if read_only:
            options.append("READ_ONLY")
        suffix = f" ({', '.join(options)})" if options else ""
        run_sql(con, f"ATTACH {quote(target.spec)} AS {LAKE}{suffix}")
        run_sql(con, f"USE {LAKE}")
        if not read_only:
            _prepare_writer(con, migrate)
    except duckdb.Error as error:
        con.close()
        raise LakeError(f"cannot open the lake {target.display()}: {mask(_first_line(error))}") from None
    except BaseException:
        con.close()
        raise
    return con


def _folder(path: str) -> str:
    """DuckLake wants the data path to end with a separator."""
    return path if path.endswith("/") else path + "/"


def _prepare_writer(con: duckdb.DuckDBPyConnection, migrate: bool) -> None:
    _retry(con, _bootstrap)
    on_begin(con, CLAIM)
    if migrate:
        # A backfill runs by data files (store/migrations: a range of rows smaller than a file
        # rewrites that file's deletes once per range).
        apply_migrations(con, translate=translate, retry=lambda work: _retry(con, work), by_files=True)


def _bootstrap(con: duckdb.DuckDBPyConnection) -> None:
    """The one-row table every write transaction bumps (created once, by whichever writer is first)."""
    if run_sql(con, "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND table_name = 'lake_writes'",
               [LAKE])[0][0]:
        return
    run_sql(con, "BEGIN TRANSACTION")
    try:
        run_sql(con, "CREATE TABLE IF NOT EXISTS lake_writes (writes BIGINT NOT NULL)")
        run_sql(con, "INSERT INTO lake_writes SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM lake_writes)")
        commit(con)
    except BaseException:
        rollback(con)
        raise


# -- the schema, translated -------------------------------------------------------------------

_TABLE_KEY = re.compile(r",\s*(?:PRIMARY\s+KEY|UNIQUE)\s*\([^)]*\)", re.I)
_COLUMN_KEY = re.compile(r"(?:\s+NOT\s+NULL)?\s+PRIMARY\s+KEY\b(?!\s*\()", re.I)
_COLUMN_UNIQUE = re.compile(r"\s+UNIQUE\b(?!\s*\()", re.I)
_INDEX = re.compile(r"^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\b[^;]*;", re.I | re.M)
_DROP_INDEX = re.compile(r"^\s*DROP\s+INDEX\b[^;]*;", re.I | re.M)
# A table copied only to drop its keys (013): a lake never had them, so the copy goes, and with it
# the constraints it restores (DuckLake refuses them on a table created in the same transaction).
_REKEY = re.compile(r"^\s*ALTER\s+TABLE\s+(\w+)\s+RENAME\s+TO\s+\1__keyed\s*;.*?^\s*DROP\s+TABLE\s+\1__keyed\s*;"
                    r"(?:\s*ALTER\s+TABLE\s+\1\s+ALTER\s+COLUMN\s[^;]*;)*", re.I | re.M | re.S)
_SEQUENCE = re.compile(r"\bCREATE\s+SEQUENCE\b|\bnextval\s*\(", re.I)
_CHECK = re.compile(r"(?:,\s*|\s+)(?:CONSTRAINT\s+\w+\s+)?CHECK\s*\(", re.I)


def translate(sql: str) -> str:
    """A migration as DuckLake takes it: a key column keeps only its NOT NULL; uniqueness, CHECK
    constraints and indexes are dropped, and so is a table's copy made only to drop its keys (the writers never rely on them: a value a CHECK would refuse
    is refused where it enters, e.g. ingest/org.py's roles). A sequence cannot be translated: ids
    must come from the data or from SQL."""
    text = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
    if _SEQUENCE.search(text):
        raise LakeError("a migration uses a sequence, which DuckLake does not have")
    text = _REKEY.sub("", text)
    text = _INDEX.sub("", _DROP_INDEX.sub("", text))
    text = _TABLE_KEY.sub("", text)
    text = _COLUMN_KEY.sub(" NOT NULL", text)
    return _drop_checks(_COLUMN_UNIQUE.sub("", text))


def _drop_checks(text: str) -> str:
    """`text` without its CHECK (...) clauses (their parentheses nest: CHECK (x IN ('a', 'b')))."""
    while (found := _CHECK.search(text)) is not None:
        depth, end = 0, found.end() - 1
        for end in range(found.end() - 1, len(text)):
            depth += {"(": 1, ")": -1}.get(text[end], 0)
            if depth == 0:
                break
        else:
            raise LakeError("a migration has a CHECK whose parentheses do not close")
        text = text[:found.start()] + text[end + 1:]
    return text


# -- writers ----------------------------------------------------------------------------------

def is_conflict(error: BaseException) -> bool:
    """A commit refused because a concurrent writer committed first (DuckLake's optimistic check)."""
    while error is not None:
        if isinstance(error, duckdb.Error) and "conflict" in str(error).lower():
            return True
        error = error.__cause__ or error.__context__
    return False


def _retry(con: duckdb.DuckDBPyConnection, work: Callable[[duckdb.DuckDBPyConnection], T],
           stats: "CommitStats | None" = None) -> T:
    tries = store_settings().lake_commit_tries
    delay = 0.02
    started = time.perf_counter()
    for attempt in range(1, tries + 1):
        try:
            result = work(con)
        except BaseException as error:
            rollback(con)
            if attempt == tries or not is_conflict(error):
                raise
            if stats:
                stats.conflicts += 1
            # Jittered, growing back-off: the writers that lost try again at different moments.
            time.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 1.6, 1.0)
            continue
        if stats:
            stats.commits += 1
            stats.seconds += time.perf_counter() - started
        return result
    raise AssertionError("unreachable")


@contextmanager
def _host_turn(target: LakeTarget) -> Iterator[None]:
    """This machine's writers of one lake, one transaction at a time: a loser of an optimistic
    commit redoes its whole transaction, a writer waiting here redoes nothing. The lock file lives
    only while some writer holds or awaits it: one per lake ever written (each test makes a lake)
    piled up in the temporary folder by the hundred."""
    digest = hashlib.blake2b(target.key.encode(), digest_size=8).hexdigest()
    path = Path(tempfile.gettempdir()) / f"agentledger-lake-{digest}.lock"
    fd = _locked(path)
    try:
        yield
    finally:
        # Removed while still held, so that a writer that opened it meanwhile sees, once it has the
        # lock, that the path no longer names that file (_locked), and takes the path's new one.
        try:
            os.unlink(path)
        except OSError:
            pass  # another user's file (a sticky /tmp): it stays, as all did before
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _locked(path: Path) -> int:
    """A descriptor of the file at `path`, holding its exclusive flock, once the path still names
    that very file: a lock on a file its holder has already unlinked excludes nobody who comes later."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            held, named = os.fstat(fd), os.stat(path)
            if (held.st_dev, held.st_ino) == (named.st_dev, named.st_ino):
                return fd
        except FileNotFoundError:
            pass  # unlinked by the holder before us: open it afresh
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)


class CommitStats:
    """Transactions a writer committed, how many times one had to be redone after a conflict, and
    the seconds spent in them (the part of a run that the lake's writers cannot do side by side)."""

    def __init__(self) -> None:
        self.commits = 0
        self.conflicts = 0
        self.seconds = 0.0


class LakeLedger:
    """The lake for one ingest run: one connection for the whole run (there is no file to let go
    of), and transactions redone when a concurrent writer's commit conflicts."""

    exclusive = False     # other writers may commit at any time

    def __init__(self, target: LakeTarget) -> None:
        self.target = target
        self.con = connect(target)
        self.stats = CommitStats()

    @contextmanager
    def window(self) -> Iterator[duckdb.DuckDBPyConnection]:
        yield self.con

    @contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The run's connection: readers of a lake never wait for it, so nothing to let go of."""
        yield self.con

    def transact(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """Run `work` (which commits one transaction) until it commits without a conflict."""
        with _host_turn(self.target):
            return _retry(self.con, work, self.stats)

    def close(self) -> None:
        self.con.close()


@contextmanager
def open_lake(target: LakeTarget) -> Iterator[LakeLedger]:
    """The lake as an ingest run's ledger; closes its connection at the end."""
    ledger = LakeLedger(target)
    try:
        yield ledger
    finally:
        ledger.close()


# One read-only attachment per lake and process: loading the extensions and attaching take about
# a second, a cursor on an attachment a millisecond; each cursor's queries read the snapshot that
# is the newest when they start.
_READERS: dict[str, duckdb.DuckDBPyConnection] = {}
_READERS_LOCK = threading.Lock()


def _attached(target: LakeTarget) -> duckdb.DuckDBPyConnection:
    with _READERS_LOCK:
        con = _READERS.get(target.key)
        if con is None:
            con = _READERS[target.key] = connect(target, read_only=True)
        return con


@contextmanager
def reader(target: LakeTarget) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection on the last committed snapshot; never waits for a writer."""
    try:
        cursor = _attached(target).cursor()
        run_sql(cursor, f"USE {LAKE}")
    except duckdb.Error:
        # The attachment went bad (the catalog restarted): attach afresh once.
        with _READERS_LOCK:
            stale = _READERS.pop(target.key, None)
        if stale is not None:
            stale.close()
        cursor = _attached(target).cursor()
        run_sql(cursor, f"USE {LAKE}")
    try:
        yield cursor
    finally:
        cursor.close()


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
