"""Recognising an OpenTelemetry Collector file-exporter output (OTLP JSON lines)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ingest.batch import RecordBatch
from ingest.context import FileContext
from ingest.otel.parser import parse_lines

if TYPE_CHECKING:  # a parse worker imports this module to sniff and parse, never DuckDB
    import duckdb

NAME = "otel"
_SIGNALS = (b'"resourceLogs"', b'"resourceMetrics"', b'"resourceSpans"')


def sniff(path: Path, head: bytes) -> bool:
    """A .json/.jsonl whose first object opens with an OTLP signal key."""
    if path.suffix not in (".json", ".jsonl"):
        return False
    start = head.lstrip()[:64]
    return start.startswith(b"{") and any(start[1:].lstrip().startswith(signal) for signal in _SIGNALS)


def file_context(path: Path, ctx: FileContext) -> FileContext:
    """The user is in every record, never in the path: drop the runner's guess."""
    ctx.user_name = None
    return ctx


parse = parse_lines


def after_write(con: duckdb.DuckDBPyConnection, run_id: int, batch: RecordBatch) -> int:
    """Reconcile OTel events with transcripts (ingest/otel/reconcile.py) when this batch can change
    the outcome; returns the OTel-only requests added. A ledger without OTel data never pays for it,
    and one with it pays for the batch's keys only."""
    from ingest.otel.reconcile import reconcile  # the writer's process only

    return reconcile(con, run_id, batch) if _may_change(con, batch) else 0


def _may_change(con: duckdb.DuckDBPyConnection, batch: RecordBatch) -> bool:
    """The batch holds OTel rows, or it holds transcript rows and the ledger already holds OTel rows."""
    frames = batch.frames
    if frames.get("otel_requests") or any(f["source"].eq(NAME).any() for f in frames.get("tool_calls", ())):
        return True
    if not (batch.has_requests() or frames.get("tool_calls") or frames.get("tool_results")):
        return False
    return con.execute(
        "SELECT EXISTS (SELECT 1 FROM otel_requests) OR EXISTS (SELECT 1 FROM tool_calls WHERE source = 'otel')"
    ).fetchall()[0][0]
