"""The manifest: what each source file looked like when we last loaded it."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import compress
from operator import itemgetter
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a parse worker imports this module for its cursors only, never DuckDB
    import duckdb

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


_STATE_COLUMNS = "path, size, mtime_ns, head_hash, offset_loaded, lines_loaded, parser_state, first_run_id, source"


def load_known(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int, bool, bool, str]]:
    """path -> (size, mtime_ns, missing, recognised, path) of every file in the manifest: all a run loads
    about the files that did not change (tens of thousands of them at an org's collector)."""
    rows = con.execute(
        "SELECT size, mtime_ns, coalesce(missing, FALSE), source <> 'unrecognised', path FROM source_files"
    ).fetchall()
    # Each row is its own value (path last, unused there): the dict is built in C, no tuple sliced per file.
    return dict(zip([row[4] for row in rows], rows))


def missing_paths(known: dict[str, tuple]) -> set[str]:
    """The files of `known` the manifest marks missing (deleted at the source)."""
    return set(compress(known, map(itemgetter(2), known.values())))


def load_states(con: duckdb.DuckDBPyConnection, paths: list[str]) -> dict[str, FileState]:
    """The stored state of the files about to be read, looked up by path (not the whole manifest)."""
    if not paths:
        return {}
    rows = con.execute(
        f"SELECT {_STATE_COLUMNS} FROM source_files WHERE path IN (SELECT unnest(?::VARCHAR[]))", [paths]
    ).fetchall()
    return {row[0]: FileState(*row) for row in rows}


def head_hash(data: bytes, offset_loaded: int) -> str:
    """Hash of the first bytes we loaded: if these change, the file was rewritten, not appended."""
    from ingest.hashing import short_hash  # hashlib (OpenSSL) only for a run that reads

    return short_hash(data[: min(offset_loaded, HEAD_BYTES)])


def resume_offset(state: FileState | None, size: int, head: bytes) -> tuple[int, int]:
    """(byte offset, line number) to read from: the stored cursor if the file only grew,
    else 0 (a file that shrank or whose head changed is read whole; keys dedupe the overlap)."""
    if state is None or size < state.offset_loaded:
        return 0, 0
    if head_hash(head, state.offset_loaded) != state.head_hash:
        return 0, 0
    return state.offset_loaded, state.lines_loaded
