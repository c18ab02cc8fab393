"""Write a parsed batch and its files' cursors to the ledger in one transaction.

Idempotency by natural keys is expressed by the statements themselves (anti-join inserts, MERGE
INTO, keyed UPDATE/DELETE), never by a constraint: the single-file ledger keeps its primary keys as
a safety net, but a DuckLake catalog has none (no PRIMARY KEY, UNIQUE, INSERT OR IGNORE or ON
CONFLICT), and the same writer must serve both. Each table's merge policy is declared once in
ingest/records.py and implemented once here.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, Sequence

import duckdb
import polars as pl

from ingest.batch import RecordBatch, RequestMerger
from ingest.records import TABLES, Request, TablePolicy, columns
from ingest.sources import AfterWrite
from store.sql import begin, commit, rollback, run_sql

_REQUEST_FIELDS = Request.__struct_fields__


@dataclass
class WriteCounts:
    requests_new: int = 0
    requests_updated: int = 0
    tool_calls_new: int = 0
    events_new: int = 0
    rejects: int = 0


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> Iterator[None]:
    """Expose a frame to SQL under `name` for the duration of a block."""
    con.register(name, frame)
    try:
        yield
    finally:
        try:
            con.unregister(name)
        except duckdb.Error:
            pass  # an aborted transaction refuses even this; the original error matters more


def _on(policy: TablePolicy, target: str, incoming: str = "i") -> str:
    return " AND ".join(f"{target}.{k} = {incoming}.{k}" for k in policy.key)


class LedgerWriter:
    """Turns RecordBatch objects into ledger rows, idempotently, one transaction per batch."""

    def __init__(self, con: duckdb.DuckDBPyConnection, run_id: int, after_write: Sequence[AfterWrite] = ()) -> None:
        self.con = con
        self.run_id = run_id
        self.after_write = tuple(after_write)

    def write(self, batch: RecordBatch) -> WriteCounts:
        """Everything in `batch` plus the files' new cursors, committed together or not at all."""
        batch.freeze()
        counts = WriteCounts()
        begin(self.con)
        try:
            counts.requests_new, counts.requests_updated = self._merge_requests(batch.requests)
            inserted = {}
            for table, policy in TABLES.items():
                if table in ("requests", "source_files"):
                    continue
                frame = batch.frame(table)
                if frame is not None:
                    inserted[table] = self._apply(policy, frame)
            counts.tool_calls_new = inserted.get("tool_calls", 0)
            counts.events_new = inserted.get("session_events", 0)
            counts.rejects = inserted.get("rejects", 0)
            self._link_tool_calls(batch)
            for hook in self.after_write:
                counts.requests_new += hook(self.con, self.run_id, batch)
            self._merge_drift(batch)
            manifest = batch.manifest()
            if manifest:
                self._apply(TABLES["source_files"], columns(TABLES["source_files"].record, manifest))
            commit(self.con)
        except BaseException:
            rollback(self.con)
            raise
        return counts

    # -- the policies ---------------------------------------------------------------------------
    def _apply(self, policy: TablePolicy, frame: pl.DataFrame) -> int:
        """Write `frame` to its table by the table's policy; returns the rows written (for
        first_wins: the new rows)."""
        if policy.policy == "first_wins":
            return self._first_wins(policy, frame)
        if policy.policy == "last_wins":
            return self._last_wins(policy, frame)
        if policy.policy == "combine":
            return self._combine(policy, frame)
        raise ValueError(f"{policy.table}: no writer for policy {policy.policy!r}")

    def _stamped(self, policy: TablePolicy, frame: pl.DataFrame) -> pl.DataFrame:
        """Every row knows the run that wrote it (the manifest: the first and the last run that read the file)."""
        run = pl.lit(self.run_id, dtype=pl.Int64)
        if policy.table == "source_files":
            return frame.with_columns(pl.col("first_run_id").fill_null(run), run.alias("last_run_id"))
        return frame.with_columns(run.alias("run_id"))

    def _first_wins(self, policy: TablePolicy, frame: pl.DataFrame) -> int:
        frame = self._stamped(policy, frame.unique(subset=list(policy.key), keep="first", maintain_order=True))
        with registered(self.con, "_incoming", frame):
            return run_sql(
                self.con, f"INSERT INTO {policy.table} BY NAME SELECT * FROM _incoming i"
                f" WHERE NOT EXISTS (SELECT 1 FROM {policy.table} t WHERE {_on(policy, 't')})"
            )[0][0]

    def _last_wins(self, policy: TablePolicy, frame: pl.DataFrame) -> int:
        frame = self._stamped(policy, frame.unique(subset=list(policy.key), keep="last", maintain_order=True))
        fixed = set(policy.key) | set(policy.keep)
        updates = ", ".join(f"{name} = i.{name}" for name in frame.columns if name not in fixed)
        with registered(self.con, "_incoming", frame):
            # No RETURNING: DuckLake does not implement it.
            return run_sql(
                self.con, f"MERGE INTO {policy.table} USING _incoming i ON {_on(policy, policy.table)}"
                f" WHEN MATCHED THEN UPDATE SET {updates} WHEN NOT MATCHED THEN INSERT BY NAME"
            )[0][0]

    def _combine(self, policy: TablePolicy, frame: pl.DataFrame) -> int:
        """agents: a thread's type and session are filled in by whichever copy knows them; a
        warm-up stays a warm-up."""
        merged = frame.group_by("agent_id", maintain_order=True).agg(
            pl.col("source").first(),
            pl.col("session_id").drop_nulls().first(),
            pl.col("subagent_type").drop_nulls().first(),
            pl.col("is_warmup").any(),
        )
        with registered(self.con, "_incoming", self._stamped(policy, merged)):
            return run_sql(
                self.con, f"MERGE INTO agents USING _incoming i ON {_on(policy, 'agents')} WHEN MATCHED THEN UPDATE SET"
                " subagent_type = coalesce(agents.subagent_type, i.subagent_type),"
                " session_id = coalesce(agents.session_id, i.session_id),"
                " is_warmup = agents.is_warmup OR i.is_warmup"
                " WHEN NOT MATCHED THEN INSERT BY NAME"
            )[0][0]

    def _merge_requests(self, incoming: RequestMerger) -> tuple[int, int]:
        """The requests policy: rows already in the ledger compete with new copies by the dedup rule."""
        rows = incoming.rows()
        if not rows:
            return 0, 0
        existing = self._existing_requests(rows)
        if existing:
            merger = RequestMerger()
            before = {row.request_key: (row, row.output_estimated) for row in existing}
            for row in existing:
                merger.add(row)
            for row in rows:
                merger.add(row)
            final = merger.rows()
            # A stored row that is still the one kept, unchanged, is left alone.
            unchanged = {r.request_key for r in final
                         if r.request_key in before and before[r.request_key][0] is r
                         and before[r.request_key][1] == r.output_estimated}
            to_write = [r for r in final if r.request_key not in unchanged]
            stale = [key for key in before if key not in unchanged]
            if stale:
                run_sql(self.con, "DELETE FROM requests WHERE request_key IN (SELECT unnest(?::VARCHAR[]))", [stale])
        else:
            to_write = rows  # nothing to compete with (the usual case): the batch is already deduplicated
        if to_write:
            frame = self._stamped(TABLES["requests"], columns(Request, to_write))
            with registered(self.con, "_incoming", frame):
                run_sql(self.con, "INSERT INTO requests BY NAME SELECT * FROM _incoming")
        existing_keys = {r.request_key for r in existing}
        new = sum(1 for r in to_write if r.request_key not in existing_keys)
        return new, len(to_write) - new

    def _existing_requests(self, rows: list[Request]) -> list[Request]:
        """Stored requests that share a key or a message id with `rows`."""
        keys = pl.DataFrame(
            {"request_key": [r.request_key for r in rows], "message_id": [r.message_id for r in rows]},
            schema={"request_key": pl.String, "message_id": pl.String},
        )
        fields = ", ".join(_REQUEST_FIELDS)
        with registered(self.con, "_keys", keys):
            found = self.con.execute(
                f"SELECT {fields} FROM requests WHERE request_key IN (SELECT request_key FROM _keys)"
                " OR message_id IN (SELECT message_id FROM _keys WHERE message_id IS NOT NULL)"
            ).fetchall()
        return [Request(**dict(zip(_REQUEST_FIELDS, values))) for values in found]

    def _link_tool_calls(self, batch: RecordBatch) -> None:
        """Tool calls stored without their request learn it (only a NULL request_key is filled)."""
        if not batch.links:
            return
        links = pl.DataFrame(
            {"tool_use_id": [l.tool_use_id for l in batch.links], "request_key": [l.request_key for l in batch.links]},
            schema={"tool_use_id": pl.String, "request_key": pl.String},
        ).unique(subset=["tool_use_id"], keep="first", maintain_order=True)
        with registered(self.con, "_links", links):
            run_sql(
                self.con, "UPDATE tool_calls SET request_key = l.request_key, run_id = ? FROM _links l"
                " WHERE tool_calls.tool_use_id = l.tool_use_id AND tool_calls.request_key IS NULL", [self.run_id],
            )

    def _merge_drift(self, batch: RecordBatch) -> None:
        """schema_drift: occurrences add up across runs; the first path and run seen stay."""
        if not batch.drift.counts:
            return
        drift = pl.DataFrame(
            [(source, kind, name, n, batch.drift.first_path[(source, kind, name)])
             for (source, kind, name), n in batch.drift.counts.items()],
            schema={"source": pl.String, "kind": pl.String, "name": pl.String, "occurrences": pl.Int64,
                    "first_path": pl.String}, orient="row",
        ).with_columns(pl.lit(self.run_id, dtype=pl.Int64).alias("first_run_id"),
                       pl.lit(self.run_id, dtype=pl.Int64).alias("last_run_id"))
        with registered(self.con, "_drift", drift):
            run_sql(
                self.con, "MERGE INTO schema_drift USING _drift i ON schema_drift.source = i.source"
                " AND schema_drift.kind = i.kind AND schema_drift.name = i.name"
                " WHEN MATCHED THEN UPDATE SET occurrences = schema_drift.occurrences + i.occurrences,"
                " last_run_id = i.last_run_id WHEN NOT MATCHED THEN INSERT BY NAME"
            )
