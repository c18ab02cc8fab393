"""The audit log: every page view, export and refusal, appended to a SQLite file beside the ledger
(for a DuckLake lake: in the data folder of the account that serves it, see audit_path_for).

Why a file of its own and why SQLite: the dashboard opens the DuckDB ledger read-only, and DuckDB
lets one process write at a time, so audit rows written into the ledger would make every page view
wait for a scheduled ingest (and make the ingest wait for viewers). SQLite (Python's standard
library) lets many processes append safely (the dashboard's sessions and `agentledger report`
runs), readers never block the writer (WAL), and it is not touched by ingest, refresh or a ledger
rebuilt from scratch. Append-only is enforced twice: triggers refuse UPDATE and DELETE, and each row
carries a SHA-256 chained over the row before it, so a row edited or removed behind SQLite's back
(by someone with the file) breaks the chain at that row (`verify`). The file is created owner-only
(0600), like the ledger.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import platformdirs
import polars as pl

from store.config import LakeTarget, is_lake_spec, lake_target

SUFFIX = ".audit.sqlite3"
GENESIS = "0" * 64
BUSY_MS = 10_000  # appends are tiny: another writer holds the file for milliseconds
ACTIONS = ("view", "export", "refused")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT NOT NULL,      -- UTC, ISO-8601 with microseconds
    viewer      TEXT NOT NULL,      -- the signed-in e-mail, local:<login>, or (anonymous) for a refusal
    role        TEXT,               -- admin | manager | engineer; NULL when refused before a role was known
    mode        TEXT NOT NULL,      -- local | proxy | oidc | cli
    action      TEXT NOT NULL CHECK (action IN ('view', 'export', 'refused')),
    target      TEXT NOT NULL,      -- page url path, report kind, or why a request was refused
    filters     TEXT NOT NULL,      -- JSON: the filters (and session) the viewer asked for
    client      TEXT,               -- the client's address as the server saw it, or cli
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""
_FIELDS = ("at", "viewer", "role", "mode", "action", "target", "filters", "client")


class AuditError(RuntimeError):
    """The audit log cannot be written or read; the message is one line naming the file."""


@dataclass(frozen=True)
class AuditEvent:
    """One row: who did what, when, with which filters."""

    viewer: str
    mode: str
    action: str
    target: str
    filters: dict[str, Any] = field(default_factory=dict)
    role: str | None = None
    client: str | None = None
    at: str = ""

    def stamped(self) -> "AuditEvent":
        """The event with its time set (now, UTC) unless it has one."""
        if self.at:
            return self
        return replace(self, at=datetime.now(timezone.utc).replace(tzinfo=None).isoformat(timespec="microseconds"))

    def values(self) -> tuple:
        return (self.at, self.viewer, self.role, self.mode, self.action, self.target,
                json.dumps(self.filters, sort_keys=True, default=str), self.client)


def audit_path_for(ledger: str | os.PathLike | LakeTarget, configured: str | os.PathLike | None = None) -> Path:
    """Where the audit of a ledger goes: the configured file, else <ledger>.audit.sqlite3 beside it.
    A lake has no file to sit beside (its catalog is in PostgreSQL, its data maybe in object storage,
    where SQLite cannot append): its log goes to this account's data folder, named by a digest of the
    lake's catalog and schema (never the connection string, which may hold a password)."""
    if configured:
        return Path(configured).expanduser()
    lake = lake_target(ledger) if is_lake_spec(ledger) else None
    if lake is not None:
        digest = hashlib.blake2b(lake.key.encode(), digest_size=8).hexdigest()
        return Path(platformdirs.user_data_dir("agentledger")) / f"lake-{digest}{SUFFIX}"
    return Path(os.fspath(ledger) + SUFFIX)


def chain_hash(prev_hash: str, values: tuple) -> str:
    """SHA-256 over the previous row's hash and this row's fields (canonical JSON)."""
    return hashlib.sha256((prev_hash + "\n" + json.dumps(list(values), ensure_ascii=False)).encode()).hexdigest()


def _create_private(path: Path) -> None:
    # Created 0600 before SQLite opens it: SQLite gives its -wal and -shm files the same mode.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)


def _connect(path: Path, create: bool) -> sqlite3.Connection:
    if create and not path.exists():
        try:
            _create_private(path)
        except OSError as error:
            raise AuditError(f"cannot create the audit log {path}: {error.strerror}") from error
    if not path.exists():
        raise AuditError(f"no audit log at {path}")
    try:
        con = sqlite3.connect(path, timeout=BUSY_MS / 1000, isolation_level=None)
        con.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
        if create:
            con.execute("PRAGMA journal_mode = WAL")
            con.executescript(_SCHEMA)
        return con
    except sqlite3.Error as error:
        raise AuditError(f"cannot open the audit log {path}: {error}") from error


def append(path: str | os.PathLike, event: AuditEvent) -> int:
    """Append one event (chained to the last row) and return its sequence number; AuditError if it cannot."""
    if event.action not in ACTIONS:
        raise ValueError(f"unknown audit action {event.action!r}")
    event = event.stamped()
    with closing(_connect(Path(path), create=True)) as con:
        try:
            # IMMEDIATE takes the write lock before reading the last hash: two appenders cannot chain
            # onto the same row.
            con.execute("BEGIN IMMEDIATE")
            row = con.execute("SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1").fetchone()
            prev = row[0] if row else GENESIS
            values = event.values()
            cursor = con.execute(
                f"INSERT INTO audit_events ({', '.join(_FIELDS)}, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*values, prev, chain_hash(prev, values)),
            )
            con.execute("COMMIT")
            return int(cursor.lastrowid)
        except sqlite3.Error as error:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise AuditError(f"cannot write the audit log {path}: {error}") from error


def read(path: str | os.PathLike, limit: int | None = None) -> pl.DataFrame:
    """The events, newest first (all of them, or the last `limit`); an empty frame when there is no log yet."""
    target = Path(path)
    columns = ["seq", *_FIELDS]
    if not target.exists():
        return pl.DataFrame(schema={c: (pl.Int64 if c == "seq" else pl.Utf8) for c in columns})
    with closing(_connect(target, create=False)) as con:
        sql = f"SELECT {', '.join(columns)} FROM audit_events ORDER BY seq DESC" + (" LIMIT ?" if limit else "")
        try:
            rows = con.execute(sql, (limit,) if limit else ()).fetchall()
        except sqlite3.Error as error:
            raise AuditError(f"cannot read the audit log {path}: {error}") from error
    frame = pl.DataFrame(rows, schema={c: (pl.Int64 if c == "seq" else pl.Utf8) for c in columns}, orient="row")
    return frame.with_columns(pl.col("at").str.to_datetime("%Y-%m-%dT%H:%M:%S%.f"))


@dataclass(frozen=True)
class Verification:
    """How many rows were checked and the first one whose chain does not hold (None: intact)."""

    rows: int
    first_broken: int | None

    @property
    def intact(self) -> bool:
        return self.first_broken is None


def verify(path: str | os.PathLike) -> Verification:
    """Recompute the chain: a row changed, removed or inserted out of band breaks it there."""
    target = Path(path)
    if not target.exists():
        return Verification(0, None)
    with closing(_connect(target, create=False)) as con:
        rows = con.execute(f"SELECT seq, {', '.join(_FIELDS)}, prev_hash, hash FROM audit_events ORDER BY seq").fetchall()
    prev = GENESIS
    for seq, *rest in rows:
        values, (stored_prev, stored_hash) = tuple(rest[:len(_FIELDS)]), rest[len(_FIELDS):]
        if stored_prev != prev or stored_hash != chain_hash(prev, values):
            return Verification(len(rows), seq)
        prev = stored_hash
    return Verification(len(rows), None)
