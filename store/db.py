"""Open the warehouse: writers migrate and wait for the lock, readers stay short and read-only.
How writers and readers share the one file is in store/ledger.py."""

from __future__ import annotations

import os
import threading
import time
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import Callable, Iterator, TypeVar

import duckdb
import platformdirs

from store.config import is_lake_spec, lake_target
from store.ledger import (LedgerBusy, gate_closed, let_readers_in, owner_only, pass_gate, readers_waiting, run_lock,
                          ticket)
from store.migrations import apply_migrations
from store.sql import run_sql

DB_ENV_VAR = "AGENTLEDGER_DB"
LOCK_WAIT_SECONDS = 60.0
# How often a writer holding the file between windows looks for a reader waiting for it.
READER_CHECK_SECONDS = 0.02
# While a writer holds the file, the log of its commits (the WAL) is merged into the file when it
# reaches this size, and always when the file is let go. DuckDB's default (16 MB) merged a cold
# ingest of 0.5 GB of logs a dozen times, each time rewriting every table smaller than a row group
# (~1 s of CPU in all); this bounds the log on disk and its replay after a crash.
HELD_CHECKPOINT_THRESHOLD = "256MiB"
# A held connection keeps in memory every block of the file it has read or written (DuckDB's limit
# is most of the machine's memory): a cold ingest of a 4.6 GB org held the whole ledger and peaked
# at 1.28 GB. Past this much, the file is let go at the window's end (a checkpoint, as every window
# did before) and the next window starts with nothing cached.
HELD_MEMORY_BYTES = 256 * 1024 * 1024
# DuckDB's memory_limit while a batch of logs is written and while the file is let go (its
# checkpoint). Without one DuckDB takes what it likes (80% of the machine): a cold ingest of a
# 4.6 GB org peaked at 1.07 GB, a checkpoint alone adding up to ~390 MB on top of the cached blocks.
# Under it DuckDB drops cached blocks of the file and spills the rest to `<ledger>.tmp/`.
WRITE_MEMORY_LIMIT = "320MiB"
# The storage format a new ledger file is created in (a file keeps the one it was created in).
# DuckDB's default writes files older releases read (v1.0.0), whose checkpoint rewrites the metadata
# of every row group of each table a commit touched: the end of a scheduled run (one new session, 17
# tables touched) spent 80 ms of CPU in its checkpoint on an 80x180 ledger and 95 on a 10x30, against
# 21 and 28 in this format, which reuses the metadata of unchanged row groups; a cold 40x40 ledger is
# also 11% smaller (61 MB against 68). Files in it need DuckDB 1.5 or later, which constraints.txt pins.
STORAGE = {"storage_compatibility_version": "v1.5.0"}

T = TypeVar("T")


class DatabaseError(RuntimeError):
    """The warehouse could not be opened; the message is one line for the user."""


def default_db_path() -> Path:
    """The database used when neither --db nor AGENTLEDGER_DB names one."""
    env = os.environ.get(DB_ENV_VAR)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("agentledger")) / "agentledger.duckdb"


def resolve_db_path(db: str | os.PathLike | None) -> Path:
    """--db wins over AGENTLEDGER_DB, which wins over the per-user data dir."""
    return Path(db).expanduser() if db else default_db_path()


def _is_lock_conflict(error: duckdb.Error) -> bool:
    text = str(error)
    return "lock" in text.lower() and ("conflicting" in text.lower() or "could not set lock" in text.lower())


def _connect_with_retry(path: Path, read_only: bool, wait_seconds: float) -> duckdb.DuckDBPyConnection:
    # DuckDB allows one writing process; a scheduled ingest and a dashboard must take turns,
    # so a lock conflict is waited out instead of failing the run. A reader first waits at the
    # gate while a writer is in, so that readers, however many, never keep a writer out; its
    # ticket makes the writer let it in before the writer's next window.
    if read_only:
        with ticket(path):
            return _connect(path, read_only, wait_seconds)
    return _connect(path, read_only, wait_seconds)


def _connect(path: Path, read_only: bool, wait_seconds: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + wait_seconds
    delay = 0.05
    while True:
        if read_only and not pass_gate(path, max(deadline - time.monotonic(), 0.0)):
            raise DatabaseError(f"cannot open {path}: a writer kept it for more than {wait_seconds:g} s")
        try:
            return duckdb.connect(str(path), read_only=read_only, config=STORAGE)
        except duckdb.IOException as error:
            if not _is_lock_conflict(error) or time.monotonic() >= deadline:
                raise DatabaseError(f"cannot open {path}: {str(error).splitlines()[0]}") from error
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


def _create_folder(path: Path) -> None:
    """The ledger's folder, owner-only when we create it (an existing folder is left as it is)."""
    try:
        private_folder(path.parent)
    except OSError as error:
        raise DatabaseError(f"cannot create the folder for {path}: {error.strerror}") from error


def private_folder(folder: Path) -> Path:
    """Create `folder` and each missing folder above it owner-only: `mkdir(parents=True, mode=)`
    gives the mode to the last one only, and the others would be listable by everyone."""
    missing = [f for f in (folder, *folder.parents) if not f.exists()]
    for f in reversed(missing):
        f.mkdir(mode=0o700, exist_ok=True)
    return folder


def connect_writer(db: str | os.PathLike | None = None, wait_seconds: float = LOCK_WAIT_SECONDS,
                   migrate: bool = True) -> duckdb.DuckDBPyConnection:
    """A read-write connection with every migration applied (creates the file, owner-only, if needed).
    `migrate=False` skips the check, for a writer that migrated the file earlier in the same run."""
    path = resolve_db_path(db)
    _create_folder(path)
    new = not path.exists()
    con = _connect_with_retry(path, read_only=False, wait_seconds=wait_seconds)
    if new:
        os.chmod(path, 0o600)
    if migrate or new:
        apply_migrations(con)
    return con


@contextmanager
def writer(db: str | os.PathLike | None = None, wait_seconds: float = LOCK_WAIT_SECONDS,
           what: str = "writer") -> Iterator[duckdb.DuckDBPyConnection]:
    """One writing command's connection, held for its whole run (refresh, org load): the run lock,
    then one write window. Always closes, releasing the file."""
    lake = lake_target(db)
    if lake:
        with _open_lake(lake) as ledger:
            yield ledger.con
        return
    path = resolve_db_path(db)
    _create_folder(path)
    with owner_only(), run_lock(path, wait_seconds, what), gate_closed(path, wait_seconds):
        con = connect_writer(path, wait_seconds)
        try:
            yield con
        finally:
            con.close()


class FileLedger:
    """The single-file ledger for a writer that holds it in short windows (ingest, refresh): the
    run lock for the writer's whole run, the file while a window is open, and between windows too
    as long as no reader waits: every close checkpoints (17 closes took 3 s of a 21 s cold ingest
    of 0.5 GB), so the file is let go only for a reader, for the writer's own read-only reads
    (`read`), or at the end (`close`).
    A reader that comes between windows is let in at once by a watcher thread: it waits for at
    most the window it arrived in, as if the file had been let go at that window's end."""

    exclusive = True   # the run lock keeps every other writer out

    def __init__(self, path: Path, wait_seconds: float) -> None:
        self.path = path
        self.wait_seconds = wait_seconds
        self.migrated = False     # the run lock keeps other writers out: one check per run is enough
        self._held: tuple[duckdb.DuckDBPyConnection, ExitStack] | None = None
        self._lock = threading.Lock()      # a window, or the watcher letting the file go
        self._watcher: threading.Thread | None = None
        self._closed = threading.Event()

    @contextmanager
    def window(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Let in the readers waiting since before now, close the gate, open the file (or keep it
        open when nobody waits); a window that fails lets go of both."""
        with self._lock:
            if readers_waiting(self.path):
                self._let_go()
            let_readers_in(self.path)
            con = self._hold()
            try:
                yield con
            except BaseException:
                self._let_go()
                raise
            if _memory_bytes(con) > HELD_MEMORY_BYTES:
                self._let_go()

    def _hold(self) -> duckdb.DuckDBPyConnection:
        if self._held is None:
            gate = ExitStack()
            with owner_only():
                gate.enter_context(gate_closed(self.path, self.wait_seconds))
                try:
                    con = connect_writer(self.path, self.wait_seconds, migrate=not self.migrated)
                    con.execute(f"SET checkpoint_threshold = '{HELD_CHECKPOINT_THRESHOLD}'")
                except BaseException:
                    gate.close()
                    raise
            self.migrated = True
            self._held = (con, gate)
            self._watch()
        return self._held[0]

    def _let_go(self) -> None:
        """Close the file (a checkpoint, under WRITE_MEMORY_LIMIT), then open the gate."""
        if self._held is not None:
            con, gate = self._held
            self._held = None
            try:
                with owner_only():
                    _checkpoint(con)
                    con.close()
            finally:
                gate.close()

    def _watch(self) -> None:
        if self._watcher is None:
            self._watcher = threading.Thread(target=self._let_readers_in_between, name="ledger-readers", daemon=True)
            self._watcher.start()

    def _let_readers_in_between(self) -> None:
        while not self._closed.wait(READER_CHECK_SECONDS):
            if self._held is not None and readers_waiting(self.path) and self._lock.acquire(blocking=False):
                try:
                    self._let_go()
                except Exception:  # noqa: BLE001 - the next window opens the file again and says what is wrong
                    pass
                finally:
                    self._lock.release()

    def close(self) -> None:
        """Let go of the file at the end of the run (its last checkpoint)."""
        self._closed.set()
        with self._lock:
            self._let_go()
        if self._watcher is not None:
            self._watcher.join()

    @contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The file read-only, between windows, beside any other readers (the run lock keeps
        other writers out, so what it reads stays as read until this writer's next window)."""
        with self._lock:
            if not self.migrated:  # the first connection of a run migrates the file
                self._hold()
            self._let_go()       # one process cannot hold the file both read-write and read-only
        con = _connect(self.path, True, self.wait_seconds)
        try:
            yield con
        finally:
            con.close()

    def transact(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """Run `work` (one transaction) in a write window."""
        with self.window() as con:
            return work(con)


def checkpoint(con: duckdb.DuckDBPyConnection) -> None:
    """Merge the log of commits into the file within WRITE_MEMORY_LIMIT."""
    within_memory_limit(con, lambda c: run_sql(c, "CHECKPOINT"))


def _checkpoint(con: duckdb.DuckDBPyConnection) -> None:
    """checkpoint(con) before a close. A connection left unusable (a window that failed) is closed
    as it is: its close checkpoints, or says what is wrong."""
    with suppress(duckdb.Error):
        checkpoint(con)


def log_bytes(con: duckdb.DuckDBPyConnection) -> int:
    """How much of a single-file ledger's log of commits is not merged into the file yet (0 for
    a lake, an in-memory or a read-only database: they keep no such log)."""
    files = run_sql(con, "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
                         " AND type = 'duckdb' AND path IS NOT NULL AND NOT readonly")
    try:
        return os.path.getsize(files[0][0] + ".wal") if files else 0
    except OSError:
        return 0


@contextmanager
def memory_limited(con: duckdb.DuckDBPyConnection, limit: str) -> Iterator[None]:
    """DuckDB's memory_limit at `limit` for a block (the connection gets its own back after)."""
    before = run_sql(con, "SELECT current_setting('memory_limit')")[0][0]
    run_sql(con, "SET memory_limit = ?", [limit])
    try:
        yield
    finally:
        run_sql(con, "SET memory_limit = ?", [before])


def within_memory_limit(con: duckdb.DuckDBPyConnection, work: Callable[[duckdb.DuckDBPyConnection], T],
                        limit: str | None = None) -> T:
    """`work(con)` under DuckDB's memory_limit (`limit`, else WRITE_MEMORY_LIMIT). DuckDB refuses to spill a few operators at some
    limits (an Out of Memory error rather than a spill): `work` is then done again without the
    limit, so a run ends with more memory rather than fail. `work` must leave nothing behind when
    it raises (one transaction, rolled back)."""
    try:
        with memory_limited(con, limit or WRITE_MEMORY_LIMIT):
            return work(con)
    except duckdb.OutOfMemoryException:
        return work(con)


def _memory_bytes(con: duckdb.DuckDBPyConnection) -> int:
    """What DuckDB holds in memory for this database: cached blocks, and anything not yet spilled."""
    return con.execute("SELECT coalesce(sum(memory_usage_bytes), 0) FROM duckdb_memory()").fetchone()[0]


@contextmanager
def open_ledger(db: str | os.PathLike | None = None, wait_seconds: float = LOCK_WAIT_SECONDS,
                what: str = "ingest") -> Iterator[FileLedger]:
    """The ledger for one ingest run: LedgerBusy when another writer keeps it past `wait_seconds`.
    A lake (`ducklake:…`) needs no lock: its writers commit concurrently (store/lake.py)."""
    lake = lake_target(db)
    if lake:
        with _open_lake(lake) as ledger:
            yield ledger
        return
    path = resolve_db_path(db)
    _create_folder(path)
    with owner_only(), run_lock(path, wait_seconds, what):
        ledger = FileLedger(path, wait_seconds)
        try:
            yield ledger
        finally:
            ledger.close()


@contextmanager
def reader(db: str | os.PathLike | None = None, wait_seconds: float = LOCK_WAIT_SECONDS) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived read-only connection; the file must exist and be migrated. On a lake: the last
    committed snapshot, read without waiting for anyone."""
    lake = lake_target(db)
    if lake:
        from store import lake as lake_store

        with lake_store.reader(lake) as con:
            yield con
        return
    path = resolve_db_path(db)
    if not path.exists():
        raise DatabaseError(f"no database at {path}: run `agentledger ingest PATH --db {path}` first")
    con = _connect_with_retry(path, read_only=True, wait_seconds=wait_seconds)
    try:
        yield con
    finally:
        con.close()


def _open_lake(target):
    # Imported on demand: the single-file ledger never loads the lake's extensions.
    from store.lake import open_lake

    return open_lake(target)


def store_name(db: str | os.PathLike | None = None) -> str:
    """How a command names the store it uses: the file's path, or the lake's spec."""
    lake = lake_target(db)
    return lake.spec if lake else str(resolve_db_path(db))


def store_exists(db: str | os.PathLike | None = None) -> bool:
    """Whether there is a ledger to read: the file exists (a lake is asked when it is opened)."""
    return is_lake_spec(db) or lake_target(db) is not None or resolve_db_path(db).exists()


__all__ = ["DatabaseError", "FileLedger", "LedgerBusy", "connect_writer", "open_ledger", "reader", "writer"]
