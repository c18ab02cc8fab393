"""The manifest: what each source file looked like when we last loaded it."""

from __future__ import annotations

import os
from dataclasses import dataclass

import duckdb

from ingest.hashing import short_hash

HEAD_BYTES = 4096


@dataclass(frozen=True)
class FileState:
    path: str
    size: int
    mtime_ns: int
    head_hash: str
    offset_loaded: int
    lines_loaded: int
    parser_state: str | None
    first_run_id: int | None
    source: str = ""


def load_manifest(con: duckdb.DuckDBPyConnection) -> dict[str, FileState]:
    """Every known file, by path."""
    rows = con.execute(
        "SELECT path, size, mtime_ns, head_hash, offset_loaded, lines_loaded, parser_state, first_run_id, source"
        " FROM source_files"
    ).fetchall()
    return {row[0]: FileState(*row) for row in rows}


def head_hash(data: bytes, offset_loaded: int) -> str:
    """Hash of the first bytes we loaded: if these change, the file was rewritten, not appended."""
    return short_hash(data[: min(offset_loaded, HEAD_BYTES)])


def is_unchanged(state: FileState | None, stat: os.stat_result) -> bool:
    """Same size and mtime as last time: skip without opening the file."""
    return state is not None and state.size == stat.st_size and state.mtime_ns == stat.st_mtime_ns


def resume_offset(state: FileState | None, size: int, head: bytes) -> tuple[int, int]:
    """(byte offset, line number) to read from: the stored cursor if the file only grew,
    else 0 (a file that shrank or whose head changed is read whole; keys dedupe the overlap)."""
    if state is None or size < state.offset_loaded:
        return 0, 0
    if head_hash(head, state.offset_loaded) != state.head_hash:
        return 0, 0
    return state.offset_loaded, state.lines_loaded
