"""Open the warehouse: writers migrate and wait for the lock, readers stay short and read-only."""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb
import platformdirs

from store.migrations import apply_migrations

DB_ENV_VAR = "AGENTLEDGER_DB"
LOCK_WAIT_SECONDS = 60.0


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
    # so a lock conflict is waited out instead of failing the run.
    deadline = time.monotonic() + wait_seconds
    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as error:
            if not _is_lock_conflict(error) or time.monotonic() >= deadline:
                raise DatabaseError(f"cannot open {path}: {str(error).splitlines()[0]}") from error
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


def connect_writer(db: str | os.PathLike | None = None, wait_seconds: float = LOCK_WAIT_SECONDS) -> duckdb.DuckDBPyConnection:
    """A read-write connection with every migration applied (creates the file if needed)."""
    path = resolve_db_path(db)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DatabaseError(f"cannot create the folder for {path}: {error.strerror}") from error
    con = _connect_with_retry(path, read_only=False, wait_seconds=wait_seconds)
    apply_migrations(con)
    return con


@contextmanager
def writer(db: str | os.PathLike | None = None, wait_seconds: float = LOCK_WAIT_SECONDS) -> Iterator[duckdb.DuckDBPyConnection]:
    """Context manager around connect_writer that always closes (releasing the file lock)."""
    con = connect_writer(db, wait_seconds)
    try:
        yield con
    finally:
        con.close()


@contextmanager
def reader(db: str | os.PathLike | None = None, wait_seconds: float = LOCK_WAIT_SECONDS) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived read-only connection; the file must exist and be migrated."""
    path = resolve_db_path(db)
    if not path.exists():
        raise DatabaseError(f"no database at {path}: run `agentledger ingest PATH --db {path}` first")
    con = _connect_with_retry(path, read_only=True, wait_seconds=wait_seconds)
    try:
        yield con
    finally:
        con.close()
