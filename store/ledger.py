"""Who may use the single-file ledger when: one writer at a time, in short write windows, and
readers that never make the writer wait for long nor fail.

DuckDB lets one process write a file, or any number read it, never both at once. Three rules
share it between a scheduled ingest and the people looking at the dashboard:

- The run lock (`<ledger>.lock`): one writing command (ingest, refresh, org load) at a time. A
  second one waits up to its `--wait`, then gives up with `LedgerBusy` (exit code 75: try later).
- Write windows: a writer writes in bounded windows (one batch of about 64 MB of log, a refresh
  chunk, the run's bookkeeping) and parses the next batch between them. It keeps the file open
  between windows only while no reader waits: a waiting reader makes it let go at once
  (store/db.py FileLedger), since every close costs a checkpoint.
- The gate (`<ledger>.gate`): a writer about to open a window closes the gate; readers pass the
  gate before they open the file and wait while it is closed. Readers already inside finish their
  (short) query and leave, so the writer gets in however many readers keep coming.
- Tickets (`<ledger>.readers/`): a reader that has to wait leaves a ticket until it is in. Before
  its next window the writer lets in every reader holding a ticket from before that moment (newer
  ones do not hold it up), so a reader waits for at most the one window it arrived in, however
  closely the writer's windows follow each other, and then reads the last committed state. Every
  window is bounded (a batch, one derive chunk: analytics/refresh.py), so no reader waits long and
  none fails because an ingest or a refresh runs.

Every file beside the ledger is created owner-only, like the ledger itself (store/db.py).
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import time
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator, Protocol, TypeVar

import duckdb

T = TypeVar("T")

# How often a waiting writer or reader tries the lock again.
POLL_SECONDS = 0.005
# Readers hold the gate only while they connect; a writer polls for the moment nobody does.
MAX_POLL_SECONDS = 0.05
# The longest a writer holds back its next window for readers that were waiting before it: they
# need milliseconds to get in; this only bounds the wait for one that hangs.
YIELD_SECONDS = 10.0


class LedgerBusy(RuntimeError):
    """Another writer kept the ledger for longer than this one would wait; one line for the user."""


class Ledger(Protocol):
    """Somewhere ingest and refresh write: `window()` yields a connection for one short write,
    `read()` one for reading between windows (the writer's own heavy queries: readers go on
    meanwhile); `transact(work)` runs `work` (which commits one transaction) in a window, again if
    the backend reports that a concurrent writer's commit conflicted with it. `exclusive`: no other
    writer commits while this one runs (the single file's run lock); False for the DuckLake lake."""

    exclusive: bool

    def window(self) -> AbstractContextManager[duckdb.DuckDBPyConnection]: ...

    def read(self) -> AbstractContextManager[duckdb.DuckDBPyConnection]: ...

    def transact(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T: ...


class HeldLedger:
    """A connection the caller already holds (tests, library callers): every window is that connection."""

    exclusive = True

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    @contextmanager
    def window(self) -> Iterator[duckdb.DuckDBPyConnection]:
        yield self.con

    @contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        yield self.con

    def transact(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """Run `work` on the held connection (nobody else writes through it)."""
        return work(self.con)


def lock_path(db: Path, kind: str) -> Path:
    """`<ledger>.lock` (the run lock) or `<ledger>.gate` (the readers' gate), beside the ledger."""
    return db.with_name(f"{db.name}.{kind}")


@contextmanager
def _flock(path: Path, mode: int, wait_seconds: float) -> Iterator[int | None]:
    """Hold an flock on `path`; yields its descriptor, or None when `wait_seconds` passed first."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + wait_seconds
        delay = POLL_SECONDS
        while True:
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    yield None
                    return
                time.sleep(delay)
                delay = min(delay * 1.5, MAX_POLL_SECONDS)
        try:
            yield fd
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def run_lock(db: Path, wait_seconds: float, what: str = "ingest") -> Iterator[None]:
    """The one writing command on `db`; LedgerBusy when another keeps it past `wait_seconds`."""
    path = lock_path(db, "lock")
    with _flock(path, fcntl.LOCK_EX, wait_seconds) as fd:
        if fd is None:
            raise LedgerBusy(f"{db} is busy: {_holder(path)} still running after {wait_seconds:g} s; try again later")
        os.ftruncate(fd, 0)
        os.write(fd, f"{what} (pid {os.getpid()}, since {datetime.now().strftime('%Y-%m-%d %H:%M:%S')})".encode())
        yield


def _holder(path: Path) -> str:
    try:
        return path.read_text(errors="replace").strip() or "another writer"
    except OSError:
        return "another writer"


@contextmanager
def gate_closed(db: Path, wait_seconds: float) -> Iterator[None]:
    """Keep new readers out while a writer opens the file (readers inside finish first)."""
    with _flock(lock_path(db, "gate"), fcntl.LOCK_EX, wait_seconds) as fd:
        if fd is None:
            raise LedgerBusy(f"{db}: readers kept the gate for {wait_seconds:g} s")
        yield


def pass_gate(db: Path, wait_seconds: float) -> bool:
    """Wait while a writer holds the gate; False when it held it for all of `wait_seconds`.
    A ledger nobody has written with the gate yet has no gate file: nothing to wait for."""
    path = lock_path(db, "gate")
    if not path.exists():
        return True
    try:
        with _flock(path, fcntl.LOCK_SH, wait_seconds) as fd:
            return fd is not None
    except OSError:
        return True  # a read-only folder: no gate can be kept there, so no writer keeps one


@contextmanager
def ticket(db: Path) -> Iterator[None]:
    """A waiting reader's ticket in `<ledger>.readers/`, from before it passes the gate until it is in."""
    folder = lock_path(db, "readers")
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f"{os.getpid()}-", dir=folder)
        os.close(fd)
    except OSError:
        yield  # a read-only folder: no writer can keep a gate there either
        return
    try:
        yield
    finally:
        try:
            os.unlink(name)
        except OSError:
            pass


def readers_waiting(db: Path) -> bool:
    """Whether some reader holds a ticket (is waiting to get in; a killed reader's does not count)."""
    try:
        with os.scandir(lock_path(db, "readers")) as entries:
            return any(_ticket_alive(entry.path) for entry in entries)
    except OSError:
        return False


def let_readers_in(db: Path, max_seconds: float = YIELD_SECONDS) -> None:
    """Before a writer's window: wait until every reader that holds a ticket now is in (its ticket
    gone, or its process gone), at most `max_seconds`. Tickets taken later do not hold the writer up."""
    folder = lock_path(db, "readers")
    try:
        waiting = [entry.path for entry in os.scandir(folder)]
    except OSError:
        return
    deadline = time.monotonic() + max_seconds
    delay = POLL_SECONDS
    while waiting:
        waiting = [path for path in waiting if os.path.exists(path) and _ticket_alive(path)]
        if not waiting or time.monotonic() >= deadline:
            return
        time.sleep(delay)
        delay = min(delay * 1.5, MAX_POLL_SECONDS)


def _ticket_alive(path: str) -> bool:
    """A ticket whose reader was killed is removed, so it never holds a writer up again."""
    try:
        os.kill(int(os.path.basename(path).split("-", 1)[0]), 0)
        return True
    except ProcessLookupError:
        try:
            os.unlink(path)
        except OSError:
            pass
        return False
    except (ValueError, PermissionError):
        return True


@contextmanager
def owner_only() -> Iterator[None]:
    """Files created meanwhile (the ledger, its WAL, the lock files) are readable by their owner only."""
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)
