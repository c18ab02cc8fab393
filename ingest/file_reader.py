"""Read what is new in files and parse it: pure work, no database, so it can run in a worker process.

A file is read from its stored cursor in blocks of at most `block_bytes` (extended to the end of a
line that crosses the boundary): a large file is a series of reads, each one ending in a cursor
and the parser state to go on from, exactly as if the file had grown between runs. Memory holds one
block, never the whole file. Sources whose files are one JSON document (`whole_file`) are the
exception: a document cannot be parsed in parts.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import msgspec

from ingest.batch import RecordBatch
from ingest.context import FileContext
from ingest.manifest import HEAD_BYTES, FileState, head_hash, resume_offset
from ingest.records import FileRead, ManifestEntry
from ingest.sources import Source, detect
from ingest.timestamps import utc_now

# Per worker process: how many lines of each shape were checked for unknown fields.
_PROCESS_DRIFT_SAMPLES: dict[tuple, int] = {}


@dataclass(frozen=True)
class ReadSettings:
    """What every file of one run is read with."""

    wanted_source: str
    store_prompts: bool
    latest_ts: datetime                # records dated later are quarantined
    block_bytes: int                   # the most read from one file in one go (line-oriented sources)


@dataclass
class FileJob:
    path: Path                         # where the file is, to open it
    key: str                           # how the ledger names it (printable even when the name is not UTF-8)
    user: str | None                   # None only when user_problem says why
    size: int
    mtime_ns: int
    state: FileState | None
    user_problem: str | None = None    # why no user could be assigned (reported only for real logs)

    def to_read(self) -> int:
        return self.size - (self.state.offset_loaded if self.state else 0)


def read_file(job: FileJob, settings: ReadSettings, drift_samples: dict[tuple, int] | None = None,
              batch: RecordBatch | None = None) -> RecordBatch:
    """Read the file from where the last read stopped (or whole if rewritten), at most one block,
    and parse its complete lines into `batch` (a new one when None), which gains one FileRead
    saying how it went and where it ended."""
    if batch is None:
        batch = RecordBatch(store_prompts=settings.store_prompts)
    try:
        # Only regular files are opened: opening a FIFO named like a log would wait for a writer forever.
        if not stat.S_ISREG(os.stat(job.path).st_mode):
            return _skipped(batch, job, "not a regular file (a FIFO, socket or device): skipped")
        with job.path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
            source = detect(job.path, head, settings.wanted_source)
            if source is None:
                return _unrecognised(batch, job, settings)
            if job.user_problem and not source.users_from_records:
                return _failed(batch, job, job.user_problem)
            start, start_line = (0, 0) if source.whole_file else resume_offset(job.state, job.size, head)
            data, more = _read_block(handle, start, None if source.whole_file else settings.block_bytes)
    except OSError as error:
        return _failed(batch, job, f"unreadable: {error.strerror or error}")
    _parse(job, settings, source, head, start, start_line, data, more, batch, drift_samples)
    return batch


def _read_block(handle, start: int, block_bytes: int | None) -> tuple[bytes, bool]:
    """Bytes from `start` up to `block_bytes` (the rest of the file when None), ending at a line end
    when the block stops early; and whether the file goes on after them."""
    handle.seek(start)
    if block_bytes is None:
        return handle.read(), False
    data = _read_at_most(handle, block_bytes)
    if len(data) < block_bytes:
        return data, False
    # A line crossing the block boundary is read to its end, however long.
    parts = [data]
    while b"\n" not in parts[-1]:
        more = handle.read(block_bytes)
        if not more:
            return b"".join(parts), False
        parts.append(more)
    data = b"".join(parts)
    end = data.rfind(b"\n") + 1
    return data[:end], True


def _read_at_most(handle, n: int) -> bytes:
    """`handle.read(n)`, with a buffer the size of what the file holds: most logs are far smaller than
    a block, and allocating a block-sized buffer for each of them cost more CPU than reading them."""
    remaining = max(0, os.fstat(handle.fileno()).st_size - handle.tell())
    if remaining >= n:
        return handle.read(n)
    data = handle.read(remaining + 1)  # one byte more tells whether the file grew since fstat
    if len(data) > remaining:
        data += handle.read(n - len(data))
    return data


def _parse(job: FileJob, settings: ReadSettings, source: Source, head: bytes, start: int, start_line: int,
           data: bytes, more: bool, batch: RecordBatch, drift_samples: dict[tuple, int] | None) -> None:
    complete_end = len(data) if source.whole_file else data.rfind(b"\n") + 1
    complete = data[:complete_end]
    lines_before = batch.lines
    # Only a read that resumes at the stored cursor takes the state: it describes the lines before that
    # cursor (a running total, calls waiting for tokens). A file read from its start again (it shrank,
    # its head changed, it was rewritten to its old size) starts afresh.
    ctx = source.file_context(
        job.path,
        FileContext(
            path=job.key, user_name=job.user, latest_ts=settings.latest_ts, store_prompts=settings.store_prompts,
            state=_load_state(job.state) if start else {}, file=job.path,
            drift_samples=_PROCESS_DRIFT_SAMPLES if drift_samples is None else drift_samples,
        ),
    )
    # Lines go to the parser with the newline that ends the last one (ingest.lines.each_line): cutting
    # it off copied every block read.
    whole = complete[:-1] if source.whole_file and complete.endswith(b"\n") else complete
    source.parse(whole, start, start_line, ctx, batch)
    batch.bytes_read += len(complete)
    offset_loaded = start + complete_end
    batch.files.append(FileRead(
        path=job.key,
        status="changed" if job.state else "new",
        more=more,
        manifest=ManifestEntry(
            path=job.key,
            source=source.name,
            user_name=job.user,
            size=job.size,
            mtime_ns=job.mtime_ns,
            head_hash=head_hash(complete[:HEAD_BYTES] if start == 0 else head, offset_loaded),
            offset_loaded=offset_loaded,
            lines_loaded=batch.lines - lines_before if source.whole_file else _lines_loaded(ctx, start_line, complete),
            parser_state=msgspec.json.encode(ctx.state).decode() if any(ctx.state.values()) else None,
            first_run_id=job.state.first_run_id if job.state else None,
            last_seen_at=utc_now(),
        ),
    ))


def read_chunk(jobs: list[FileJob], settings: ReadSettings, drift_samples: dict[tuple, int] | None = None) -> RecordBatch:
    """Read a group of files into one batch, frozen into frames (in the worker, when one reads it).
    Every file is parsed straight into it: a batch per file, absorbed after, offered each request to
    a merger twice (the merge's result does not depend on the order requests arrive in)."""
    batch = RecordBatch(store_prompts=settings.store_prompts)
    for job in jobs:
        read_file(job, settings, drift_samples, batch)
    batch.freeze()
    return batch


def chunked(jobs: list[FileJob], chunk_bytes: int) -> list[list[FileJob]]:
    """Consecutive groups of jobs of about `chunk_bytes` to read each: fewer, larger hand-offs."""
    chunks, current, size = [], [], 0
    for job in jobs:
        current.append(job)
        size += job.to_read()
        if size >= chunk_bytes:
            chunks.append(current)
            current, size = [], 0
    if current:
        chunks.append(current)
    return chunks


def next_block(job: FileJob, read: FileRead) -> FileJob:
    """The job that reads on from where `read` (a block of `job`'s file) stopped."""
    entry = read.manifest
    state = FileState(entry.path, entry.size, entry.mtime_ns, entry.head_hash, entry.offset_loaded,
                      entry.lines_loaded, entry.parser_state, entry.first_run_id)
    return FileJob(job.path, job.key, job.user, job.size, job.mtime_ns, state, job.user_problem)


def _lines_loaded(ctx: FileContext, start_line: int, complete: bytes) -> int:
    """The file's line count after this read: from the line loop when it ran, else by counting."""
    return ctx.last_line_no if ctx.last_line_no is not None else start_line + complete.count(b"\n")


def _failed(batch: RecordBatch, job: FileJob, reason: str) -> RecordBatch:
    """A log we could not read: one reject row (line 0) says why; the next run tries again."""
    batch.files.append(FileRead(path=job.key, status="failed", reason=reason))
    batch.reject(job.key, -1, 0, reason, None)
    return batch


def _skipped(batch: RecordBatch, job: FileJob, reason: str) -> RecordBatch:
    """Not something to read at all (a FIFO): said once in rejects, never opened again for reading."""
    batch.files.append(FileRead(path=job.key, status="skipped", reason=reason))
    batch.reject(job.key, -1, 0, reason, None)
    return batch


def _unrecognised(batch: RecordBatch, job: FileJob, settings: ReadSettings) -> RecordBatch:
    # Not a failure (collector roots hold org.csv, ~/.claude holds settings.json): counted as
    # skipped and remembered in the manifest, so an unchanged stranger costs a stat next time.
    batch.files.append(FileRead(
        path=job.key, status="unrecognised", reason=f"not a recognised log format ({settings.wanted_source}): skipped",
        manifest=ManifestEntry(
            path=job.key, source="unrecognised", size=job.size, mtime_ns=job.mtime_ns, head_hash="",
            offset_loaded=0, lines_loaded=0, last_seen_at=utc_now(),
        ),
    ))
    return batch


def _load_state(state: FileState | None) -> dict:
    if state is None or not state.parser_state:
        return {}
    return msgspec.json.decode(state.parser_state)
