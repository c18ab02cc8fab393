"""Load shipped batches (agentledger ingest DEST --shipped): hostile input, checked before any row counts.

A batch file comes from a machine nobody here controls: it may be broken, forged, huge, or a link to
somewhere else. Whatever it is, the load goes on. A file that cannot be a batch (its name, a link,
its size, its metadata, unreadable Parquet, a column of the wrong type) is quarantined whole: one
`rejects` row (line 0) naming the file and why, and a manifest entry so it is not read again until
it changes. A row that breaks a bound (the same bounds ingest applies to log lines, ingest/plausible.py;
the ledger's column types; text sizes; a row naming another person than the batch's) is quarantined
alone, with its row number; the rest of the batch loads. Free text is scrubbed again: the laptop
did, but a forged batch need not have. Rows then merge by their keys exactly like parsed records,
so a batch loaded twice, or a laptop whose raw logs were collected as well, never counts twice.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import PurePosixPath

import duckdb
import msgspec
import polars as pl

from ingest import plausible
from ingest.batch import RecordBatch
from ingest.hashing import short_hash
from ingest.manifest import load_states
from ingest.records import TABLES, FileRead, ManifestEntry, Request, ToolCallLink, frame_schema
from ingest.runner import Discovered, IngestRun, IngestOptions, RunSummary, ledger_key
from ingest.secrets import scrub_frame
from ingest.ship_layout import BATCH_NAME, DAY_FOLDER
from ingest.shipping import (FORMAT_VERSION, HOST_ID, RECORD, SHIPPED_COLUMNS, SHIPPED_TABLES,
                             SHIPPED_SOURCE, batch_schema)
from ingest.timestamps import utc_now
from store.ledger import Ledger
from store.sql import run_sql

# A batch is one laptop's run: minutes to a day of one person's work, a few MB of Parquet.
MAX_BATCH_BYTES = 256 * 1024 * 1024
MAX_BATCH_ROWS = 5_000_000
# One text cell: a command line or an error text; a megabyte is already far beyond any real one.
MAX_TEXT_BYTES = 1024 * 1024
MAX_USER_CHARS = 256
# Counts that are not token counts (line numbers, byte sizes, durations): below 2^53.
MAX_OTHER_COUNT = 2**53
# Admin API rows count a person-day, not a request.
CUMULATIVE_TABLES = ("admin_usage_daily", "admin_usage_models")
# Transcript sources, whose rows belong to the person who ran the agent (OTel rows name their own).
PERSONAL_SOURCES = ("claude", "codex", "gemini")


class ShippedError(ValueError):
    """Why a whole batch file is quarantined; one line."""


@dataclass(frozen=True, order=True)
class BatchFile:
    url: str        # where it is (a path, or s3://…)
    size: int
    mtime_ns: int

    @property
    def name(self) -> str:
        return PurePosixPath(self.url).name


def list_batches(con: duckdb.DuckDBPyConnection, dest: str) -> list[BatchFile]:
    """Every *.parquet one level below DEST (its day folders), with size and modification time."""
    pattern = f"{dest.rstrip('/')}/*/*.parquet"
    rows = run_sql(con, "SELECT filename, size, epoch_us(last_modified) FROM read_blob(?)", [pattern]) \
        if _any(con, pattern) else []
    return sorted(BatchFile(url, int(size), int(mtime) * 1000) for url, size, mtime in rows)


def _any(con: duckdb.DuckDBPyConnection, pattern: str) -> bool:
    return bool(run_sql(con, "SELECT count(*) FROM glob(?)", [pattern])[0][0])


# -- checking one file --------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _integer_columns() -> frozenset[tuple[str, str]]:
    """(table, column) pairs the ledger stores as 32-bit INTEGER: from the migrations themselves."""
    from store.migrations import apply_migrations

    con = duckdb.connect()
    try:
        apply_migrations(con)
        rows = run_sql(con, "SELECT table_name, column_name FROM information_schema.columns WHERE data_type = 'INTEGER'")
    finally:
        con.close()
    return frozenset((t, c) for t, c in rows)


def _metadata(con: duckdb.DuckDBPyConnection, batch: BatchFile) -> dict[str, str]:
    rows = run_sql(con, "SELECT key::VARCHAR, value::VARCHAR FROM parquet_kv_metadata(?)", [batch.url])
    return {key: value for key, value in rows}


def check_file(con: duckdb.DuckDBPyConnection, batch: BatchFile) -> tuple[str, str]:
    """(host id, user) of a batch whose name, place, size and metadata are what `ship` writes;
    ShippedError otherwise."""
    parent = PurePosixPath(batch.url).parent.name
    found = BATCH_NAME.match(batch.name)
    if not found or not DAY_FOLDER.match(parent):
        raise ShippedError(f"not a batch file name: {batch.name!r} in {parent!r} (ship writes <day>/<host>-<state>-<run>.parquet)")
    if "://" not in batch.url:
        info = os.lstat(batch.url)
        if stat.S_ISLNK(info.st_mode) or not stat.S_ISREG(info.st_mode):
            raise ShippedError("not a regular file (a link or a device): not read")
    if batch.size > MAX_BATCH_BYTES:
        raise ShippedError(f"{batch.size:,} bytes, more than the {MAX_BATCH_BYTES:,} a batch may have")
    try:
        meta = _metadata(con, batch)
    except duckdb.Error as error:
        raise ShippedError(f"not a readable Parquet file: {_first_line(error)}") from None
    missing = [key for key in ("agentledger_format", "host_id", "user_name") if not meta.get(key)]
    if missing:
        raise ShippedError(f"batch metadata lacks {', '.join(missing)}")
    if meta["agentledger_format"] != FORMAT_VERSION:
        raise ShippedError(f"batch format {meta['agentledger_format']!r} is not {FORMAT_VERSION!r}: upgrade agentledger here")
    host, user = meta["host_id"], meta["user_name"]
    if not HOST_ID.match(host) or host != found.group("host"):
        raise ShippedError(f"host id {host!r} does not match the file name")
    if len(user) > MAX_USER_CHARS or not user.strip() or any(ord(ch) < 32 for ch in user):
        raise ShippedError(f"user name {user[:40]!r} is not a plausible user name")
    return host, user


def read_rows(con: duckdb.DuckDBPyConnection, batch: BatchFile) -> pl.DataFrame:
    """The batch's rows with every known column cast to its type; ShippedError when a column holds
    values of another type or the file does not read."""
    try:
        count = run_sql(con, "SELECT count(*) FROM read_parquet(?)", [batch.url])[0][0]
        if count > MAX_BATCH_ROWS:
            raise ShippedError(f"{count:,} rows, more than the {MAX_BATCH_ROWS:,} a batch may have")
        raw = pl.from_arrow(con.sql("SELECT * FROM read_parquet($p)", params={"p": batch.url}).to_arrow_table())
    except duckdb.Error as error:
        raise ShippedError(f"not a readable Parquet file: {_first_line(error)}") from None
    if RECORD not in raw.columns:
        raise ShippedError(f"no {RECORD!r} column: not a batch")
    columns = []
    for name, dtype in batch_schema().items():
        if name not in raw.columns:
            columns.append(pl.lit(None, dtype).alias(name))
            continue
        try:
            raw.select(pl.col(name).cast(dtype, strict=True))
        except (pl.exceptions.InvalidOperationError, pl.exceptions.ComputeError, pl.exceptions.SchemaError):
            raise ShippedError(f"column {name!r} holds {raw[name].dtype}, not {dtype}") from None
        columns.append(pl.col(name).cast(dtype))
    return raw.select(columns)


def _problems(table: str, frame: pl.DataFrame, user: str, latest: datetime) -> pl.Series:
    """Per row of one table's rows: why it is quarantined, or null."""
    record = TABLES[table].record
    types = frame_schema(record)
    integers = _integer_columns()
    checks: list[pl.Expr] = []
    required = [f.name for f in msgspec.structs.fields(record) if f.required]
    for name in required:
        checks.append(pl.when(pl.col(name).is_null()).then(pl.lit(f"{name} is missing")))
    for name in SHIPPED_COLUMNS[table]:
        dtype = types[name]
        col = pl.col(name)
        if dtype == pl.String:
            checks.append(pl.when(col.str.len_bytes() > MAX_TEXT_BYTES)
                          .then(pl.lit(f"{name} longer than {MAX_TEXT_BYTES:,} bytes")))
        elif dtype == pl.Int64:
            limit = _limit(table, name, integers)
            checks.append(pl.when(col < 0).then(pl.lit(f"negative {name}")))
            checks.append(pl.when(col > limit).then(pl.format(f"implausible {name}: {{}} (more than {limit:,})", col)))
        elif dtype == pl.Float64:
            bad = ~col.is_finite()
            if name.endswith("cost_usd"):
                bad = bad | (col < 0) | (col > plausible.MAX_COST_USD)
            checks.append(pl.when(bad).then(pl.format(f"implausible {name}: {{}}", col)))
        elif dtype == pl.Datetime("us"):
            checks.append(pl.when((col < plausible.EARLIEST) | (col > latest))
                          .then(pl.format(f"{name} {{}} outside {plausible.EARLIEST.date()} .. now + tolerance", col)))
        elif dtype == pl.Date:
            checks.append(pl.when((col < plausible.EARLIEST.date()) | (col > latest.date()))
                          .then(pl.format(f"{name} {{}} outside {plausible.EARLIEST.date()} .. today", col)))
    if table in ("requests", "tool_calls", "session_events"):
        checks.append(pl.when(pl.col("source").is_in(PERSONAL_SOURCES) & (pl.col("user_name") != user))
                      .then(pl.format("names user {} but the batch was shipped by " + user.replace("{", "{{").replace("}", "}}"),
                                      pl.col("user_name"))))
    if not checks:
        return pl.Series([None] * frame.height, dtype=pl.String)
    return frame.select(pl.coalesce(checks).alias("problem"))["problem"]


def _limit(table: str, name: str, integers: frozenset[tuple[str, str]]) -> int:
    if name.endswith("_tokens"):
        return plausible.MAX_CUMULATIVE_TOKENS if table in CUMULATIVE_TABLES else plausible.MAX_TOKENS
    if name in ("web_search_requests", "web_fetch_requests"):
        return plausible.MAX_TOOL_USES
    if (table, name) in integers:
        return plausible.MAX_INT32
    return MAX_OTHER_COUNT


def read_batch(con: duckdb.DuckDBPyConnection, batch: BatchFile, state_known: bool, latest: datetime) -> RecordBatch:
    """One batch file as records, its bad rows (or the whole file) quarantined."""
    out = RecordBatch()
    key = ledger_key(batch.url)
    try:
        host, user = check_file(con, batch)
        rows = read_rows(con, batch)
    except ShippedError as error:
        return _quarantined(out, batch, key, str(error))
    except OSError as error:
        return _quarantined(out, batch, key, f"unreadable: {error.strerror or error}")
    rows = rows.with_row_index("_row")
    unknown = rows.filter(~pl.col(RECORD).is_in(SHIPPED_TABLES) | pl.col(RECORD).is_null())
    for row, record in unknown.select("_row", RECORD).iter_rows():
        out.reject(key, row, row + 1, f"shipped row of unknown record type {str(record)[:40]!r}", None)
    for table in SHIPPED_TABLES:
        part = rows.filter(pl.col(RECORD) == table)
        if not part.height:
            continue
        problems = _problems(table, part, user, latest)
        bad = part.with_columns(problems.alias("_problem")).filter(pl.col("_problem").is_not_null())
        for row, problem in bad.select("_row", "_problem").iter_rows():
            out.reject(key, row, row + 1, f"shipped {table} row: {problem}", None)
        good = part.filter(problems.is_null())
        if good.height:
            _add(out, table, good)
    out.lines = rows.height
    out.bytes_read = batch.size
    out.files.append(FileRead(path=key, status="changed" if state_known else "new", manifest=ManifestEntry(
        path=key, source=SHIPPED_SOURCE, size=batch.size, mtime_ns=batch.mtime_ns, head_hash=short_hash(batch.name),
        offset_loaded=batch.size, lines_loaded=rows.height, user_name=user, host_id=host, last_seen_at=utc_now(),
    )))
    return out


def _add(out: RecordBatch, table: str, rows: pl.DataFrame) -> None:
    policy = TABLES[table]
    schema = frame_schema(policy.record)
    frame = rows.select([pl.col(n).cast(t) if n in SHIPPED_COLUMNS[table] else pl.lit(None, t).alias(n)
                         for n, t in schema.items()])
    frame = scrub_frame(frame, policy.scrubbed)
    if table == "requests":
        for row in frame.iter_rows(named=True):
            out.requests.add(Request(**row))
        return
    if table == "tool_calls":
        # A call shipped with its request may have reached the ledger earlier without it.
        linked = frame.filter(pl.col("request_key").is_not_null()).select("tool_use_id", "request_key")
        out.links.extend(ToolCallLink(tool_use_id=t, request_key=r) for t, r in linked.iter_rows())
    out.frames.setdefault(table, []).append(frame)


def _quarantined(out: RecordBatch, batch: BatchFile, key: str, reason: str) -> RecordBatch:
    out.files.append(FileRead(path=key, status="failed", reason=reason, manifest=ManifestEntry(
        path=key, source=SHIPPED_SOURCE, size=batch.size, mtime_ns=batch.mtime_ns, head_hash="",
        offset_loaded=0, lines_loaded=0, last_seen_at=utc_now(),
    )))
    out.reject(key, -1, 0, f"shipped batch quarantined: {reason}", None)
    return out


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


# -- the run ------------------------------------------------------------------------------------

class ShippedRun(IngestRun):
    """An ingest run over a ship destination: batches instead of log files, the same bookkeeping."""

    def __init__(self, ledger: Ledger, options: IngestOptions, dest: str, command: str) -> None:
        super().__init__(ledger, options, command)
        self.dest = dest.rstrip("/") if "://" in dest else os.path.abspath(dest)

    # Its work is found by listing the destination, not by discovery: a run with no log files is no no-op.
    finds_its_own_work = True

    def _start(self, con: duckdb.DuckDBPyConnection, found: Discovered) -> list:
        super()._start(con, found)
        # The state of every batch loaded before (a destination holds far fewer batches than a
        # collector holds log files).
        self.manifest = load_states(con, list(self._known))
        return []

    def _load_all(self, jobs: list) -> None:
        from store.lake import scratch  # httpfs only for object storage

        con = scratch(self.dest)
        try:
            pending = RecordBatch()
            for batch in list_batches(con, self.dest):
                key = ledger_key(batch.url)
                self._seen.add(key)
                state = self.manifest.get(key)
                if state is not None and state.size == batch.size and state.mtime_ns == batch.mtime_ns:
                    self.summary.files_unchanged += 1
                    self.summary.files_seen += 1
                    self._roots_with_logs.add(self.dest)
                    continue
                self._root_of[key] = self.dest
                read = read_batch(con, batch, state is not None, self.read_settings.latest_ts)
                for file in read.files:
                    self._count(file)
                pending.absorb(read)
                if pending.bytes_read >= self.batch_bytes:
                    self._flush(pending)
                    pending = RecordBatch()
            self._flush(pending)
        finally:
            con.close()

    def _mark_missing(self, con: duckdb.DuckDBPyConnection) -> None:
        # Loaded batches may be deleted from the destination (retention): their rows stay, nothing to note.
        self.summary.files_missing = 0


def load_shipped(ledger: Ledger, dest: str, options: IngestOptions, command: str = "ingest --shipped") -> RunSummary:
    """Load every batch under `dest` not loaded yet; returns the run's counters (empty_roots names
    `dest` when it held no batch at all)."""
    if options.user or options.user_from_dir:
        raise ValueError("shipped batches name their user: --user and --user-from-dir do not apply")
    summary = ShippedRun(ledger, options, dest, command).execute()
    summary.empty_roots = [] if summary.files_seen else [dest]
    return summary
