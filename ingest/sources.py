"""The registry of built-in log sources: the CLI and the runner read this one table.

Each source's reading code is imported the first time it is needed (sniffing a file to read), not
with the table: a scheduled run that finds nothing new never loads a parser (a tenth of its start-up)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import import_module
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    import duckdb

    from ingest.batch import RecordBatch
    from ingest.context import FileContext

Parse = Callable[[bytes, int, int, "FileContext", "RecordBatch"], None]
# After a batch is written, in its transaction: (connection, run_id, batch) -> requests it added.
AfterWrite = Callable[["duckdb.DuckDBPyConnection", int, "RecordBatch"], int]
# Lines of a file's head tried for a recognisable record when the first line is not one.
SNIFF_LINES = 8


def _no_layout(path: Path) -> bool:
    return False


@cache
def _imported(reader: str) -> ModuleType:
    """A source's module, imported once. import_module() finds a module already imported in ~1 us
    of Python calls: sniffing a file asks a source's module once a line and candidate (up to 40
    times), every sniff and parse goes through it, and tens of thousands of files are sniffed. Kept
    here, not on the Source, which stays a plain record of its table row."""
    return import_module(reader)


@dataclass(frozen=True)
class Source:
    """A log source: what the table says of it, and its module (`reader`, imported on first use),
    which defines NAME, sniff, file_context and parse, and may define layout and after_write."""

    name: str
    description: str
    patterns: tuple[str, ...]                      # file name globs searched under a directory
    reader: str                                    # the module that recognises and parses its files
    whole_file: bool = False                       # rewritten in place: always re-read whole
    users_from_records: bool = False               # records name their user: no --user needed

    @property
    def module(self) -> ModuleType:
        return _imported(self.reader)

    @property
    def sniff(self) -> Callable[[Path, bytes], bool]:
        """Does the record at the start of these bytes look like ours?"""
        return self.module.sniff

    @property
    def file_context(self) -> Callable[[Path, "FileContext"], "FileContext"]:
        return self.module.file_context

    @property
    def parse(self) -> Parse:
        """Complete lines -> records."""
        return self.module.parse

    @property
    def layout(self) -> Callable[[Path], bool]:
        """Whether the path alone says the file is ours."""
        return getattr(self.module, "layout", _no_layout)

    @property
    def after_write(self) -> AfterWrite | None:
        """A cross-source step on each written batch (OTel reconcile), or None."""
        return getattr(self.module, "after_write", None)


SOURCES: dict[str, Source] = {
    "claude": Source(
        name="claude",
        description="Claude Code transcripts (~/.claude/projects/**/*.jsonl)",
        patterns=("*.jsonl",),
        reader="ingest.claude.source",
    ),
    "codex": Source(
        name="codex",
        description="Codex CLI rollouts (~/.codex/sessions/**/rollout-*.jsonl, archived_sessions/)",
        patterns=("*.jsonl",),
        reader="ingest.codex.source",
    ),
    "otel": Source(
        name="otel",
        description="Claude Code OpenTelemetry, Collector file exporter (OTLP JSON lines)",
        patterns=("*.json", "*.jsonl"),
        reader="ingest.otel.source",
        users_from_records=True,
    ),
    "admin_api": Source(
        name="admin_api",
        description="Anthropic Admin API Claude Code usage report, saved JSON pages",
        patterns=("*.json", "*.jsonl"),
        reader="ingest.admin_api.source",
        whole_file=True,
        users_from_records=True,
    ),
    "gemini": Source(
        name="gemini",
        description="Gemini CLI chat sessions (~/.gemini/tmp/<hash>/chats/session-*.json)",
        patterns=("session-*.json",),
        reader="ingest.gemini.source",
        whole_file=True,
    ),
}


def source_choices() -> list[str]:
    """Values accepted by --source."""
    return ["auto", *SOURCES]


def detect(path: Path, head: bytes, wanted: str = "auto") -> Source | None:
    """The source that reads this file, or None when no source recognises it.

    The first line decides; when no source knows it (a corrupt or unknown first record), the next
    lines of the head are asked, then the file's place in a source's folder layout: a transcript
    with a bad first line is still a transcript, and its bad line goes to rejects like any other."""
    candidates = list(SOURCES.values()) if wanted == "auto" else [SOURCES[wanted]]
    start = 0
    for _ in range(SNIFF_LINES):
        rest = head[start:]
        for source in candidates:
            if source.sniff(path, rest):
                return source
        newline = head.find(b"\n", start)
        if newline < 0 or newline + 1 >= len(head):
            break
        start = newline + 1
    for source in candidates:
        if source.layout(path):
            return source
    return None
