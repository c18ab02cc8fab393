"""The registry of built-in log sources: the CLI and the runner read this one table."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ingest.batch import RecordBatch
from ingest.claude import source as claude
from ingest.context import FileContext

Parse = Callable[[bytes, int, int, FileContext, RecordBatch], None]


@dataclass(frozen=True)
class Source:
    name: str
    description: str
    patterns: tuple[str, ...]                      # file name globs searched under a directory
    sniff: Callable[[Path, bytes], bool]           # does this file's head look like ours?
    file_context: Callable[[Path, FileContext], FileContext]
    parse: Parse                                   # complete lines -> records
    whole_file: bool = False                       # rewritten in place: always re-read whole


SOURCES: dict[str, Source] = {
    claude.NAME: Source(
        name=claude.NAME,
        description="Claude Code transcripts (~/.claude/projects/**/*.jsonl)",
        patterns=("*.jsonl",),
        sniff=claude.sniff,
        file_context=claude.file_context,
        parse=claude.parse,
    ),
}


def source_choices() -> list[str]:
    """Values accepted by --source."""
    return ["auto", *SOURCES]


def detect(path: Path, head: bytes, wanted: str = "auto") -> Source | None:
    """The source that reads this file, or None when no source recognises it."""
    candidates = SOURCES.values() if wanted == "auto" else [SOURCES[wanted]]
    for source in candidates:
        if source.sniff(path, head):
            return source
    return None
