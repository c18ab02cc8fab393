"""Finding Codex CLI rollouts and telling them apart from other JSONL logs."""

from __future__ import annotations

from pathlib import Path

from ingest.codex.parser import parse_lines
from ingest.context import FileContext

NAME = "codex"
_LINE_TYPES = (b'"type":"session_meta"', b'"type":"turn_context"', b'"type":"response_item"',
               b'"type":"event_msg"', b'"type":"compacted"')


def sniff(path: Path, head: bytes) -> bool:
    """A .jsonl whose first line is a `{timestamp, type, payload}` rollout line."""
    if path.suffix != ".jsonl":
        return False
    first = head.split(b"\n", 1)[0].replace(b'": ', b'":')
    return b'"payload"' in first and any(marker in first for marker in _LINE_TYPES)


def layout(path: Path) -> bool:
    """sessions/YYYY/MM/DD/rollout-<time>-<id>.jsonl, or the same name under archived_sessions/."""
    return path.name.startswith("rollout-") and path.suffix == ".jsonl"


def file_context(path: Path, ctx: FileContext) -> FileContext:
    """Nothing to learn from the path: the session id and sub-agent kind are in session_meta."""
    return ctx


parse = parse_lines
