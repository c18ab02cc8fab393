"""Shipped batches: a laptop parses its own logs and sends only normalised metadata (agentledger ship).

`ship` runs the ordinary incremental ingest (same manifest, parsers, secret scrubbing, plausibility
bounds, deduplication) into a small local state ledger on the laptop, then writes the rows each
local run added as one Parquet file to the destination (a folder or s3://…):

    DEST/<YYYY-MM-DD>/<host id>-<state id>-<run number>.parquet

A run is marked shipped in the local state only after its file is written, so a failed upload is
sent again by the next run under the same name: a replay overwrites the same file, and the central
side loads a name once (its manifest) and deduplicates rows by their keys anyway. A batch holds one
row per record, `record` naming its ledger table, and the columns of SHIPPED_COLUMNS; the file's
metadata says who and which machine shipped it (BATCH_METADATA). What is shipped, field by field,
is listed in docs/shipping.md (a test keeps the list in step with SHIPPED_COLUMNS).
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import socket
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from ingest.hashing import short_hash
from ingest.records import TABLES, frame_schema
from ingest.runner import IngestOptions, RunSummary, run_ingest
from ingest.timestamps import utc_now
from store.sql import run_sql

FORMAT_VERSION = "1"
RECORD = "record"          # the column naming the ledger table a row belongs to
SHIPPED_SOURCE = "shipped"  # the manifest's source for a loaded batch file

# Tables whose new rows a laptop ships. Not shipped: its manifest (source_files: local paths and
# cursors, meaningless elsewhere) and schema_drift (counters that would add up twice).
SHIPPED_TABLES = (
    "requests", "tool_calls", "tool_results", "session_events", "agents", "rejects",
    "otel_requests", "tool_decisions", "otel_metric_points", "admin_usage_daily", "admin_usage_models",
)
# Never shipped, even from a laptop whose local state opted in to keeping them.
WITHHELD = {"session_events": ("prompt_text",), "rejects": ("head",)}

SHIPPED_COLUMNS: dict[str, tuple[str, ...]] = {
    table: tuple(name for name in TABLES[table].record.__struct_fields__ if name not in WITHHELD.get(table, ()))
    for table in SHIPPED_TABLES
}

# The batch file's Parquet key-value metadata: what the central side checks before reading a row.
BATCH_METADATA = ("agentledger_format", "host_id", "user_name", "run_id", "shipped_at", "rows")

HOST_ID = re.compile(r"^[0-9a-f]{16}$")
HOST_ID_ENV = "AGENTLEDGER_HOST_ID"


def batch_schema() -> dict[str, pl.DataType]:
    """The columns of a batch file: `record`, then every shipped column of every table."""
    schema: dict[str, pl.DataType] = {RECORD: pl.String}
    for table, names in SHIPPED_COLUMNS.items():
        types = frame_schema(TABLES[table].record)
        for name in names:
            schema.setdefault(name, types[name])
    return schema


def batch_name(host: str, state: str, run_id: int) -> str:
    """The file one local run ships as: the same run always gets the same name."""
    return f"{host}-{state}-{run_id:06d}.parquet"


def host_id() -> str:
    """A stable id of this machine that does not reveal it: 16 hex digits of a hash of the OS's
    machine id (Linux /etc/machine-id, macOS IOPlatformUUID), else of the host name and MAC.
    $AGENTLEDGER_HOST_ID overrides it (cloned VMs share a machine id); it is hashed the same way."""
    raw = os.environ.get(HOST_ID_ENV) or _machine_id() or f"{socket.gethostname()}:{uuid.getnode():012x}"
    return hashlib.blake2b(f"agentledger-host:{raw}".encode(), digest_size=8).hexdigest()


def _machine_id() -> str | None:
    for path in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            text = Path(path).read_text().strip()
        except OSError:
            continue
        if text:
            return text
    if platform.system() == "Darwin":
        try:
            out = subprocess.run(["ioreg", "-rd1", "-c", "IOPlatformExpertDevice"], capture_output=True,
                                 text=True, timeout=5).stdout
        except (OSError, subprocess.SubprocessError):
            return None
        found = re.search(r'"IOPlatformUUID"\s*=\s*"([^"]+)"', out)
        return found.group(1) if found else None
    return None


def default_paths() -> list[Path]:
    """Where the agents keep their logs on this machine (those that exist)."""
    home = Path.home()
    candidates = [home / ".claude" / "projects", home / ".codex" / "sessions", home / ".codex" / "archived_sessions",
                  home / ".gemini" / "tmp"]
    return [path for path in candidates if path.is_dir()]


# -- the laptop's side --------------------------------------------------------------------------

@dataclass
class ShipOptions:
    dest: str                               # a folder or s3://bucket/prefix
    paths: list[Path]
    user: str
    state: Path                             # the local state ledger (a DuckDB file)
    source: str = "auto"
    follow_symlinks: bool = False
    progress: bool | None = None


@dataclass
class ShipSummary:
    ingest: RunSummary
    shipped: list[str] = field(default_factory=list)   # the batch files written
    rows: int = 0


def ship(options: ShipOptions) -> ShipSummary:
    """Read what is new in the local logs, then ship every local run not shipped yet."""
    from store.db import open_ledger  # the local state is an ordinary single-file ledger

    with open_ledger(options.state, what="ship") as ledger:
        summary = run_ingest(ledger, IngestOptions(
            paths=options.paths, user=options.user, source=options.source, store_prompts=False,
            follow_symlinks=options.follow_symlinks, progress=options.progress,
        ), command="agentledger ship")
        result = ShipSummary(summary)
        host = host_id()
        with ledger.window() as con:
            pending = _unshipped(con)
            state = short_hash(f"{host}:{_first_run_started(con)}")
        for run_id in pending:
            with ledger.window() as con:
                frame = run_rows(con, run_id)
            name = ""
            if frame.height:
                name = write_batch(frame, options.dest, batch_name(host, state, run_id), {
                    "agentledger_format": FORMAT_VERSION, "host_id": host, "user_name": options.user,
                    "run_id": str(run_id), "shipped_at": utc_now().isoformat(), "rows": str(frame.height),
                })
                result.shipped.append(name)
                result.rows += frame.height
            with ledger.window() as con:
                run_sql(con, "UPDATE ingest_runs SET shipped_as = ? WHERE run_id = ?", [name, run_id])
    return result


def _unshipped(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Local runs not shipped yet, oldest first (a run that failed mid-way committed batches too)."""
    return [row[0] for row in run_sql(
        con, "SELECT run_id FROM ingest_runs WHERE shipped_as IS NULL AND status <> 'running' ORDER BY run_id")]


def _first_run_started(con: duckdb.DuckDBPyConnection) -> str:
    return str(run_sql(con, "SELECT min(started_at) FROM ingest_runs")[0][0])


def run_rows(con: duckdb.DuckDBPyConnection, run_id: int) -> pl.DataFrame:
    """Every row one local run wrote, in the batch layout (one `record` column plus the union of columns)."""
    schema = batch_schema()
    parts = []
    for table, names in SHIPPED_COLUMNS.items():
        columns = ", ".join(names)
        relation = con.sql(f"SELECT {columns} FROM {table} WHERE run_id = $run", params={"run": run_id})
        part = pl.from_arrow(relation.to_arrow_table())
        if part.height:
            parts.append(part.with_columns(pl.lit(table).alias(RECORD)))
    if not parts:
        return pl.DataFrame(schema=schema)
    frame = pl.concat(parts, how="diagonal_relaxed")
    return frame.select(pl.col(name).cast(dtype) if name in frame.columns else pl.lit(None, dtype).alias(name)
                        for name, dtype in schema.items())


def write_batch(frame: pl.DataFrame, dest: str, name: str, metadata: dict[str, str]) -> str:
    """Write one batch file under DEST/<UTC day>/; returns where. A folder gets it whole or not at
    all (written beside, then renamed); an object store's PUT is atomic already."""
    from store.lake import scratch  # httpfs only when the destination is object storage

    folder = f"{dest.rstrip('/')}/{utc_now().date().isoformat()}"
    target = f"{folder}/{name}"
    local = "://" not in dest
    if local:
        Path(folder).mkdir(parents=True, exist_ok=True)
    written = f"{folder}/.{name}.partial" if local else target
    keys = list(metadata)
    con = scratch(dest)
    try:
        con.register("_batch", frame)
        run_sql(con, "COPY (SELECT * FROM _batch) TO $path (FORMAT parquet, COMPRESSION zstd, KV_METADATA {"
                + ", ".join(f"{key}: ${key}" for key in keys) + "})", {"path": written, **metadata})
    finally:
        con.close()
    if local:
        os.replace(written, target)
    return target
