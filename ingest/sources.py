"""The registry of built-in log sources: the CLI and the runner read this one table."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import duckdb

from ingest.batch import RecordBatch
from ingest.claude import source as claude
from ingest.codex import source as codex
from ingest.otel import source as otel
from ingest.admin_api import source as admin_api
from ingest.gemini import source as gemini
from ingest.context import FileContext

Parse = Callable[[bytes, int, int, FileContext, RecordBatch], None]
# After a batch is written, in its transaction: (connection, run_id, batch) -> requests it added.
AfterWrite = Callable[[duckdb.DuckDBPyConnection, int, RecordBatch], int]
# Lines of a file's head tried for a recognisable record when the first line is not one.
SNIFF_LINES = 8


@dataclass(frozen=True)
class Source:
    name: str
    description: str
    patterns: tuple[str, ...]                      # file name globs searched under a directory
    sniff: Callable[[Path, bytes], bool]           # does the record at the start of these bytes look like ours?
    file_context: Callable[[Path, FileContext], FileContext]
    parse: Parse                                   # complete lines -> records
    layout: Callable[[Path], bool] = lambda path: False  # the path alone says the file is ours
    whole_file: bool = False                       # rewritten in place: always re-read whole
    users_from_records: bool = False               # records name their user: no --user needed
    after_write: AfterWrite | None = None          # cross-source step on each written batch (OTel reconcile)


SOURCES: dict[str, Source] = {
    claude.NAME: Source(
        name=claude.NAME,
        description="Claude Code transcripts (~/.claude/projects/**/*.jsonl)",
        patterns=("*.jsonl",),
        sniff=claude.sniff,
        file_context=claude.file_context,
        parse=claude.parse,
        layout=claude.layout,
    ),
    codex.NAME: Source(
        name=codex.NAME,
        description="Codex CLI rollouts (~/.codex/sessions/**/rollout-*.jsonl, archived_sessions/)",
        patterns=("*.jsonl",),
        sniff=codex.sniff,
        file_context=codex.file_context,
        parse=codex.parse,
        layout=codex.layout,
    ),
    otel.NAME: Source(
        name=otel.NAME,
        description="Claude Code OpenTelemetry, Collector file exporter (OTLP JSON lines)",
        patterns=("*.json", "*.jsonl"),
        sniff=otel.sniff,
        file_context=otel.file_context,
        parse=otel.parse,
        users_from_records=True,
        after_write=otel.after_write,
    ),
    admin_api.NAME: Source(
        name=admin_api.NAME,
        description="Anthropic Admin API Claude Code usage report, saved JSON pages",
        patterns=("*.json", "*.jsonl"),
        sniff=admin_api.sniff,
        file_context=admin_api.file_context,
        parse=admin_api.parse,
        whole_file=True,
        users_from_records=True,
    ),
    gemini.NAME: Source(
        name=gemini.NAME,
        description="Gemini CLI chat sessions (~/.gemini/tmp/<hash>/chats/session-*.json)",
        patterns=("session-*.json",),
        sniff=gemini.sniff,
        file_context=gemini.file_context,
        parse=gemini.parse,
        layout=gemini.layout,
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
