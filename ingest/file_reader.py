"""Read what is new in files and parse it: pure work, no database, so it can run in a worker process."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from ingest.batch import RecordBatch, Row
from ingest.context import FileContext
from ingest.manifest import HEAD_BYTES, FileState, head_hash, resume_offset
from ingest.sources import detect
from ingest.timestamps import utc_now

# Per worker process: how many lines of each shape were checked for unknown fields.
_PROCESS_DRIFT_SAMPLES: dict[tuple, int] = {}


@dataclass
class FileJob:
    path: Path
    user: str | None                   # None only when user_problem says why
    size: int
    mtime_ns: int
    state: FileState | None
    wanted_source: str
    store_prompts: bool
    user_problem: str | None = None    # why no user could be assigned (reported only for real logs)


@dataclass
class FileResult:
    status: str                        # new | changed | unrecognised | failed
    reason: str | None = None
    batch: RecordBatch = field(default_factory=RecordBatch)
    manifest_row: Row | None = None


def read_file(job: FileJob, drift_samples: dict[tuple, int] | None = None) -> FileResult:
    """Read the file from where the last run stopped (or whole if rewritten) and parse its complete lines."""
    key = str(job.path)
    try:
        with job.path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
            source = detect(job.path, head, job.wanted_source)
            if source is None:
                return _unrecognised(job)
            if job.user_problem and not source.users_from_records:
                return FileResult("failed", job.user_problem)
            start, start_line = (0, 0) if source.whole_file else resume_offset(job.state, job.size, head)
            handle.seek(start)
            data = handle.read()
    except OSError as error:
        return FileResult("failed", f"unreadable: {error.strerror or error}")
    complete_end = len(data) if source.whole_file else data.rfind(b"\n") + 1
    complete = data[:complete_end]
    ctx = source.file_context(
        job.path,
        FileContext(
            path=key, user_name=job.user, store_prompts=job.store_prompts, state=_load_state(job.state),
            drift_samples=_PROCESS_DRIFT_SAMPLES if drift_samples is None else drift_samples,
        ),
    )
    result = FileResult("changed" if job.state else "new")
    batch = result.batch
    source.parse(complete[:-1] if complete.endswith(b"\n") else complete, start, start_line, ctx, batch)
    batch.bytes_read = len(complete)
    offset_loaded = start + complete_end
    result.manifest_row = {
        "path": key,
        "source": source.name,
        "user_name": job.user,
        "size": job.size,
        "mtime_ns": job.mtime_ns,
        "head_hash": head_hash(complete[:HEAD_BYTES] if start == 0 else head, offset_loaded),
        "offset_loaded": offset_loaded,
        "lines_loaded": batch.lines if source.whole_file else _lines_loaded(ctx, start_line, complete),
        "parser_state": msgspec.json.encode(ctx.state).decode() if ctx.state else None,
        "first_run_id": job.state.first_run_id if job.state else None,
        "last_seen_at": utc_now(),
    }
    return result


@dataclass
class ChunkResult:
    """Several files read together: one status per file, and all their records in one batch."""

    results: list[FileResult]
    batch: RecordBatch


def read_chunk(jobs: list[FileJob], shapes: dict | None = None, drift_samples: dict[tuple, int] | None = None) -> ChunkResult:
    """Read a group of files; with `shapes`, turn the insert-only rows into frames here, in the worker."""
    batch = RecordBatch()
    results = []
    for job in jobs:
        result = read_file(job, drift_samples)
        batch.absorb(result.batch)
        result.batch = RecordBatch()
        results.append(result)
    if shapes:
        from ingest.writer import to_frame

        batch.freeze(to_frame, shapes)
    return ChunkResult(results, batch)


def chunked(jobs: list[FileJob], chunk_bytes: int) -> list[list[FileJob]]:
    """Consecutive groups of jobs of about `chunk_bytes` to read each: fewer, larger hand-offs."""
    chunks, current, size = [], [], 0
    for job in jobs:
        current.append(job)
        size += job.size - (job.state.offset_loaded if job.state else 0)
        if size >= chunk_bytes:
            chunks.append(current)
            current, size = [], 0
    if current:
        chunks.append(current)
    return chunks


def _lines_loaded(ctx: FileContext, start_line: int, complete: bytes) -> int:
    """The file's line count after this read: from the line loop when it ran, else by counting."""
    return ctx.last_line_no if ctx.last_line_no is not None else start_line + complete.count(b"\n")


def _unrecognised(job: FileJob) -> FileResult:
    # Not a failure (collector roots hold org.csv, ~/.claude holds settings.json): counted as
    # skipped and remembered in the manifest, so an unchanged stranger costs a stat next time.
    return FileResult(
        "unrecognised",
        f"not a recognised log format ({job.wanted_source}): skipped",
        manifest_row={
            "path": str(job.path), "source": "unrecognised", "user_name": None, "size": job.size,
            "mtime_ns": job.mtime_ns, "head_hash": "", "offset_loaded": 0, "lines_loaded": 0,
            "last_seen_at": utc_now(),
        },
    )


def _load_state(state: FileState | None) -> dict:
    if state is None or not state.parser_state:
        return {}
    return msgspec.json.decode(state.parser_state)
