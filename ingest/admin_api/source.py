"""Recognising a saved Admin API Claude Code usage report."""

from __future__ import annotations

from pathlib import Path

from ingest.admin_api.parser import parse_file
from ingest.context import FileContext

NAME = "admin_api"
_RECORD_KEYS = (b'"core_metrics"', b'"model_breakdown"', b'"tool_actions"')


def sniff(path: Path, head: bytes) -> bool:
    """A JSON page `{"data": [...]}` whose records carry the report's metric blocks."""
    if path.suffix not in (".json", ".jsonl"):
        return False
    start = head.lstrip()
    if not start.startswith(b"{") or b'"data"' not in start[:200]:
        return False
    return b'"actor"' in head and any(key in head for key in _RECORD_KEYS)


def file_context(path: Path, ctx: FileContext) -> FileContext:
    """The actor is in every record: drop the runner's user guess."""
    ctx.user_name = None
    return ctx


parse = parse_file
