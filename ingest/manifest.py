"""The manifest: what each source file looked like when we last loaded it."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class Comparison:
    """The walk compared with the manifest (compare): all a run needs about every file."""

    known: int                      # files in the manifest
    unchanged: int                  # files found with the size and mtime the manifest holds
    roots_with_logs: list[int]      # PATH indexes under which an unchanged file is a recognised log
    changed: list[tuple[int, int, int, int, str]]  # (ordinal, PATH index, size, mtime_ns, key) of the others, in order
    not_found: list[str]            # files known and not marked missing that the walk did not find
    back: list[str]                 # files marked missing that the walk found unchanged


# One pass of DuckDB over the walk's files and the manifest (a full join on the path): at an org's
# collector, tens of thousands of files each run, of which a handful changed. In Python the same
# (loading every manifest row, a lookup per file, set differences) cost ~90 ms of CPU at 42k files.
_COMPARE = """
WITH walk AS (
    SELECT * FROM read_csv($files, delim = ',', quote = '"', escape = '"', header = false, auto_detect = false,
                           new_line = '\\n', columns = $columns)
), joined AS (
    SELECT w.ordinal, w.root, w.size, w.mtime_ns, w.path, k.path AS known_path,
           (k.size = w.size AND k.mtime_ns = w.mtime_ns) IS TRUE AS same,
           k.source = 'unrecognised' AS unrecognised, coalesce(k.missing, FALSE) AS missing
    FROM walk w FULL JOIN source_files k ON k.path = w.path
)
SELECT (SELECT count(*) FROM source_files),
       count(*) FILTER (WHERE same),
       coalesce(list(DISTINCT root) FILTER (WHERE same AND NOT unrecognised), []),
       coalesce(list((ordinal, root, size, mtime_ns, path) ORDER BY ordinal) FILTER (WHERE path IS NOT NULL AND NOT same), []),
       coalesce(list(known_path) FILTER (WHERE path IS NULL AND NOT missing), []),
       coalesce(list(path) FILTER (WHERE same AND missing), [])
FROM joined
"""


def compare(con: duckdb.DuckDBPyConnection, files: list[str], columns: dict[str, str]) -> Comparison:
    """The walk's files (CSV `files` of `columns`: ingest/discovery.py walk_lines) against the manifest."""
    row = con.execute(_COMPARE, {"files": files, "columns": columns}).fetchone()
    return Comparison(*row)


def missing_among(con: duckdb.DuckDBPyConnection, paths: list[str]) -> list[str]:
    """Which of `paths` the manifest marks missing."""
    if not paths:
        return []
    rows = con.execute("SELECT path FROM source_files WHERE missing AND path IN (SELECT unnest(?::VARCHAR[]))",
                       [paths]).fetchall()
    return [row[0] for row in rows]


def load_all_states(con: duckdb.DuckDBPyConnection) -> dict[str, FileState]:
    """The stored state of every file in the manifest."""
    rows = con.execute(f"SELECT {_STATE_COLUMNS} FROM source_files").fetchall()
    return {row[0]: FileState(*row) for row in rows}


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
