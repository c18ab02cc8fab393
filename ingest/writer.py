"""Write a parsed batch and its manifest entries to the ledger in one transaction."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterable

import duckdb
import polars as pl

from store.sql import run_sql
from ingest.batch import FROZEN_TABLES, RecordBatch, RequestMerger, Row
from ingest.otel.reconcile import reconcile
from ingest.session_git import NATURAL_KEYS

_POLARS_TYPES = {
    "VARCHAR": pl.String,
    "BIGINT": pl.Int64,
    "INTEGER": pl.Int32,
    "BOOLEAN": pl.Boolean,
    "DOUBLE": pl.Float64,
    "TIMESTAMP": pl.Datetime("us"),
    "DATE": pl.Date,
}


@dataclass
class WriteCounts:
    requests_new: int = 0
    requests_updated: int = 0
    tool_calls_new: int = 0
    events_new: int = 0
    rejects: int = 0


@dataclass(frozen=True)
class TableShape:
    """A ledger table's columns (as Polars types) and the defaults of its columns that have one."""

    columns: dict[str, Any]
    defaults: dict[str, Any]


def table_shape(con: duckdb.DuckDBPyConnection, table: str) -> TableShape:
    """Read from the database itself, so the writer and the migrations cannot drift apart."""
    rows = con.execute(
        "SELECT column_name, data_type, column_default FROM information_schema.columns"
        " WHERE table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    columns = {name: _POLARS_TYPES[dtype] for name, dtype, _ in rows}
    # Defaults are SQL expressions from our own migrations: evaluate each once.
    defaults = {name: con.execute(f"SELECT {default}").fetchall()[0][0] for name, _, default in rows if default is not None}
    return TableShape(columns, defaults)


def to_frame(shape: TableShape, rows: Iterable[Row], run_id: int) -> pl.DataFrame:
    """Rows as a frame of all the table's columns; a key a row lacks takes the column's default (or NULL)."""
    rows = rows if isinstance(rows, list) else list(rows)
    columns = {name: dtype for name, dtype in shape.columns.items() if name != "run_id"}
    # Polars builds the columns from the dicts in Rust: several times faster than Python lists.
    frame = pl.DataFrame(rows, schema=columns, strict=False) if rows else pl.DataFrame(schema=columns)
    fills = [pl.col(name).fill_null(value) for name, value in shape.defaults.items() if name in columns]
    if fills:
        frame = frame.with_columns(fills)
    if "run_id" in shape.columns:
        frame = frame.with_columns(pl.lit(run_id, dtype=shape.columns["run_id"]).alias("run_id"))
    return frame


def insert_new(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, key: tuple[str, ...]) -> int:
    """Insert the rows whose natural key is not in `table` yet (no PRIMARY KEY needed): an
    anti-join, which every backend runs, where ON CONFLICT needs a declared constraint."""
    if not frame.height:
        return 0
    frame = frame.unique(subset=list(key), keep="last", maintain_order=True)
    match = " AND ".join(f"t.{column} IS NOT DISTINCT FROM i.{column}" for column in key)
    with registered(con, "_incoming_new", frame):
        return run_sql(con, f"INSERT INTO {table} BY NAME SELECT * FROM _incoming_new i"
                            f" WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {match})")[0][0]


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame):
    """Expose a frame to SQL under `name` for the duration of a block."""
    con.register(name, frame)
    try:
        yield
    finally:
        try:
            con.unregister(name)
        except duckdb.Error:
            pass  # an aborted transaction refuses even this; the original error matters more


class LedgerWriter:
    """Turns RecordBatch objects into rows, idempotently (natural keys, ON CONFLICT)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, run_id: int) -> None:
        self.con = con
        self.run_id = run_id
        self._shapes: dict[str, TableShape] = {}

    def _schema(self, table: str) -> TableShape:
        if table not in self._shapes:
            self._shapes[table] = table_shape(self.con, table)
        return self._shapes[table]

    def shapes(self) -> dict[str, TableShape]:
        """Shapes of the tables workers may build frames for (see RecordBatch.freeze)."""
        return {table: self._schema(table) for table in FROZEN_TABLES.values()}

    def _insert_ignore(self, table: str, rows: list[Row], frames: list[pl.DataFrame] = ()) -> int:
        parts = list(frames) + ([to_frame(self._schema(table), rows, self.run_id)] if rows else [])
        if not parts:
            return 0
        frame = pl.concat(parts, how="vertical_relaxed") if len(parts) > 1 else parts[0]
        frame = frame.with_columns(pl.lit(self.run_id, dtype=pl.Int64).alias("run_id"))
        with registered(self.con, "_incoming", frame):
            inserted = run_sql(self.con, f"INSERT OR IGNORE INTO {table} BY NAME SELECT * FROM _incoming")
        return inserted[0][0]

    def write(self, batch: RecordBatch, manifest_rows: list[Row]) -> WriteCounts:
        """Everything in `batch` plus the files' new cursors, committed together or not at all."""
        counts = WriteCounts()
        run_sql(self.con, "BEGIN TRANSACTION")
        try:
            counts.requests_new, counts.requests_updated = self._merge_requests(batch.requests)
            frames = batch.frames
            counts.tool_calls_new = self._insert_ignore("tool_calls", batch.tool_calls, frames.get("tool_calls", ()))
            self._insert_ignore("tool_results", batch.tool_results, frames.get("tool_results", ()))
            counts.events_new = self._insert_ignore("session_events", batch.events, frames.get("session_events", ()))
            self._merge_agents(batch.agents)
            counts.rejects = self._insert_ignore("rejects", batch.rejects, frames.get("rejects", ()))
            self._write_extra(batch)
            # Order-independent cross-source merge (OTel vs transcripts); see docs/sources.md.
            counts.requests_new += reconcile(self.con, self.run_id)
            self._merge_drift(batch)
            self._upsert_manifest(manifest_rows)
            run_sql(self.con, "COMMIT")
        except BaseException:
            run_sql(self.con, "ROLLBACK")
            raise
        return counts

    def _merge_requests(self, incoming: RequestMerger) -> tuple[int, int]:
        """Apply the dedup rule across runs: rows already in the ledger compete with new copies."""
        rows = incoming.rows()
        if not rows:
            return 0, 0
        keys = pl.DataFrame(
            {"request_key": [r["request_key"] for r in rows], "message_id": [r.get("message_id") for r in rows]},
            schema={"request_key": pl.String, "message_id": pl.String},
        )
        with registered(self.con, "_keys", keys):
            cursor = self.con.execute(
                "SELECT * FROM requests WHERE request_key IN (SELECT request_key FROM _keys)"
                " OR message_id IN (SELECT message_id FROM _keys WHERE message_id IS NOT NULL)"
            )
            names = [d[0] for d in cursor.description]
            existing = [dict(zip(names, row)) for row in cursor.fetchall()]
        if existing:
            merger = RequestMerger()
            for row in existing:
                row["_from_db"] = True
                merger.add(row)
            for row in rows:
                merger.add(row)
            final = merger.rows()
        else:
            final = rows  # nothing to compete with (the usual case): the batch is already deduplicated
        unchanged = {r["request_key"] for r in final if r.get("_from_db") and not r.get("_dirty")}
        stale = [r["request_key"] for r in existing if r["request_key"] not in unchanged]
        to_write = [r for r in final if r["request_key"] not in unchanged]
        if stale:
            run_sql(self.con, "DELETE FROM requests WHERE request_key IN (SELECT unnest(?::VARCHAR[]))", [stale])
        if to_write:
            for row in to_write:
                # Sources that never fall back omit the flag; a mixed batch must not write NULL.
                row.setdefault("model_is_fallback", False)
            frame = to_frame(self._schema("requests"), to_write, self.run_id)
            with registered(self.con, "_incoming", frame):
                run_sql(self.con, "INSERT INTO requests BY NAME SELECT * FROM _incoming")
        existing_keys = {r["request_key"] for r in existing}
        new = sum(1 for r in to_write if r["request_key"] not in existing_keys)
        return new, len(to_write) - new

    def _write_extra(self, batch: RecordBatch) -> None:
        """Rows for the source-specific tables: natural keys, a newer copy replaces an older one
        unless the table keeps what it has (batch.keep_existing)."""
        for table, rows in batch.extra.items():
            if not rows:
                continue
            frame = to_frame(self._schema(table), rows.values(), self.run_id)
            if table in NATURAL_KEYS:
                insert_new(self.con, table, frame, NATURAL_KEYS[table])
                continue
            verb = "INSERT OR IGNORE" if table in batch.keep_existing else "INSERT OR REPLACE"
            with registered(self.con, "_incoming", frame):
                run_sql(self.con, f"{verb} INTO {table} BY NAME SELECT * FROM _incoming")

    def _merge_agents(self, agents: list[Row]) -> None:
        if not agents:
            return
        merged: dict[str, Row] = {}
        for row in agents:
            seen = merged.setdefault(row["agent_id"], dict(row))
            seen["subagent_type"] = seen.get("subagent_type") or row.get("subagent_type")
            seen["is_warmup"] = bool(seen.get("is_warmup")) or bool(row.get("is_warmup"))
        frame = to_frame(self._schema("agents"), merged.values(), self.run_id)
        with registered(self.con, "_incoming", frame):
            run_sql(
                self.con, "INSERT INTO agents BY NAME SELECT * FROM _incoming ON CONFLICT (agent_id) DO UPDATE SET"
                " subagent_type = coalesce(agents.subagent_type, excluded.subagent_type),"
                " session_id = coalesce(agents.session_id, excluded.session_id),"
                " is_warmup = agents.is_warmup OR excluded.is_warmup"
            )

    def _merge_drift(self, batch: RecordBatch) -> None:
        for (source, kind, name), n in batch.drift.counts.items():
            run_sql(
                self.con, "INSERT INTO schema_drift VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, kind, name)"
                " DO UPDATE SET occurrences = schema_drift.occurrences + excluded.occurrences,"
                " last_run_id = excluded.last_run_id",
                [source, kind, name, n, batch.drift.first_path[(source, kind, name)], self.run_id, self.run_id],
            )

    def _upsert_manifest(self, manifest_rows: list[Row]) -> None:
        if not manifest_rows:
            return
        rows = [{"first_run_id": None, "parser_state": None, **row} for row in manifest_rows]
        frame = to_frame(self._schema("source_files"), rows, self.run_id)
        frame = frame.with_columns(
            pl.when(pl.col("first_run_id").is_null()).then(self.run_id).otherwise(pl.col("first_run_id")).alias("first_run_id"),
            pl.lit(self.run_id, pl.Int64).alias("last_run_id"),
        )
        with registered(self.con, "_incoming", frame):
            run_sql(
                self.con, "INSERT INTO source_files BY NAME SELECT * FROM _incoming ON CONFLICT (path) DO UPDATE SET"
                " source = excluded.source, user_name = excluded.user_name, size = excluded.size,"
                " mtime_ns = excluded.mtime_ns, head_hash = excluded.head_hash,"
                " offset_loaded = excluded.offset_loaded, lines_loaded = excluded.lines_loaded,"
                " parser_state = excluded.parser_state, last_run_id = excluded.last_run_id,"
                " last_seen_at = excluded.last_seen_at, missing = FALSE"
            )
