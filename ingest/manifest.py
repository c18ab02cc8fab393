"""The manifest: what each source file looked like when we last loaded it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import chain
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


# A file's record: its size, mtime and ledger key in one string (the key last: it may hold spaces).
# Two records are equal exactly when the file's (path, size, mtime_ns) are, so a run finds the
# unchanged files of tens of thousands by one set intersection in C, with no tuple or lookup per file.
RECORD_SQL = "size || ' ' || mtime_ns || ' ' || path"


def record(key: str, size: int, mtime_ns: int) -> str:
    """A file's record as the walk makes it (RECORD_SQL makes the manifest's)."""
    return f"{size} {mtime_ns} {key}"


def read_record(record: str) -> tuple[str, int, int]:
    """(ledger key, size, mtime_ns) of a record."""
    size, mtime_ns, key = record.split(" ", 2)
    return key, int(size), int(mtime_ns)


def record_key(record: str) -> str:
    return record.split(" ", 2)[2]


@dataclass
class Known:
    """The manifest as a run's start compares it: the record of every file in it, and, apart, those
    of the few files it marks missing or holding no log (an org.csv, a README)."""

    records: set[str]
    missing: dict[str, str]        # path -> record of the files marked missing (deleted at the source)
    unrecognised: set[str]         # records of the files no source recognised

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self):
        """The paths of the files in the manifest."""
        return map(record_key, self.records)


def load_known(con: duckdb.DuckDBPyConnection) -> Known:
    """Every file the manifest knows, as records (all a run loads about the files that did not change,
    tens of thousands of them at an org's collector): one string object per file, made by DuckDB's
    fetch in C++ and gathered into the set in C. The few files marked missing or holding no log come
    from a query of their own, so that only the rows they are in are turned into records twice.
    (One string_agg of every record, split in Python, cost ~60 ms of CPU at 42k files in a fresh
    process, and held the 8 MB string and its pieces at once; rows cost ~35 ms.)"""
    every = con.execute(f"SELECT {RECORD_SQL} FROM source_files").fetchall()
    odd = con.execute(
        f"SELECT {RECORD_SQL}, missing, source = 'unrecognised' FROM source_files"
        " WHERE missing OR source = 'unrecognised'"
    ).fetchall()
    return Known(set(chain.from_iterable(every)),
                 {record_key(text): text for text, missing, _ in odd if missing},
                 {text for text, _, unrecognised in odd if unrecognised})


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


def state_to_read_on(state: FileState | None, size: int, mtime_ns: int) -> FileState | None:
    """The state a new or changed file is read on from: the stored one, or its copy with the cursor at
    the start when the file changed without growing (its size as loaded, another mtime). No append
    leaves a size as it was, so such a file was rewritten; cut back and written on to its old size, it
    keeps its first bytes (all the head hash covers) and its stored offset would skip what is new.
    Read whole, as a shrunk file is: keys dedupe what it still holds. (A touch reads it whole too.)"""
    if state is None or size != state.size or mtime_ns == state.mtime_ns:
        return state
    return replace(state, offset_loaded=0, lines_loaded=0)
