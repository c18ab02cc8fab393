"""Recognising an OpenTelemetry Collector file-exporter output (OTLP JSON lines)."""

from __future__ import annotations

from pathlib import Path

from ingest.context import FileContext
from ingest.otel.parser import parse_lines

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
