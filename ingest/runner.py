"""One ingest run: discover files, read what is new in each, write batches, record the run."""

from __future__ import annotations

import fnmatch
import getpass
import os
import sys
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Iterator

import duckdb
from loky import ProcessPoolExecutor
from tqdm import tqdm

from ingest.batch import RecordBatch, Row
from ingest.file_reader import ChunkResult, FileJob, FileResult, chunked, read_chunk
from ingest.manifest import FileState, is_unchanged, load_manifest
from ingest.sources import SOURCES
from ingest.timestamps import utc_now
from store.sql import run_sql

# Metadata files read alongside the logs they describe, never as logs of their own.
SIDECAR_SUFFIXES = (".meta.json",)
# Below this much to read, worker processes cost more than they save.
PARALLEL_MIN_BYTES = int(os.environ.get("AGENTLEDGER_PARALLEL_MIN_BYTES", 16 * 1024 * 1024))
MAX_WORKERS = 4
# Bytes of logs per unit of work handed to a worker.
CHUNK_BYTES = 4 * 1024 * 1024
# WAL size that triggers a checkpoint while a run loads (one checkpoint at the end instead).
CHECKPOINT_EVERY = "4GB"
# Bytes of log read per transaction; small values (tests) give many short batches.
BATCH_BYTES = int(os.environ.get("AGENTLEDGER_BATCH_BYTES", 64 * 1024 * 1024))


class IngestError(RuntimeError):
    """The run could not start; the message is one line for the user."""


@dataclass
class IngestOptions:
    paths: list[Path]
    user: str | None = None
    user_from_dir: bool = False
    source: str = "auto"
    store_prompts: bool = False
    batch_bytes: int = BATCH_BYTES
    progress: bool | None = None       # None: a bar only when stderr is a terminal


@dataclass
class RunSummary:
    run_id: int = 0
    files_seen: int = 0
    files_new: int = 0
    files_changed: int = 0
    files_unchanged: int = 0
    files_missing: int = 0
    files_failed: int = 0
    files_skipped: int = 0
    bytes_read: int = 0
    lines: int = 0
    requests_new: int = 0
    requests_updated: int = 0
    tool_calls_new: int = 0
    events_new: int = 0
    api_errors: int = 0
    rejects: int = 0
    unknown_types: int = 0
    unknown_fields: int = 0

    def one_line(self) -> str:
        """The line cron mails: enough to see that the job ran and what it found."""
        return (
            f"ingest run {self.run_id}: {self.files_seen} files ({self.files_new} new, {self.files_changed} changed, "
            f"{self.files_unchanged} unchanged, {self.files_missing} missing, {self.files_failed} failed, "
            f"{self.files_skipped} not logs), "
            f"{self.lines} lines, {self.requests_new} new requests ({self.requests_updated} updated), "
            f"{self.tool_calls_new} tool calls, {self.api_errors} API errors, {self.rejects} rejects, "
            f"{self.unknown_types} unknown record types, {self.unknown_fields} unknown fields"
        )


@dataclass
class _Candidate:
    path: Path
    root: Path


@dataclass
class _Chunk:
    jobs: list[FileJob]
    result: ChunkResult

    @property
    def results(self) -> list[FileResult]:
        return self.result.results

    @property
    def batch(self) -> RecordBatch:
        return self.result.batch


@dataclass
class _Pending:
    batch: RecordBatch = field(default_factory=RecordBatch)
    manifest: list[Row] = field(default_factory=list)


def discover(paths: list[Path], wanted: str) -> Iterator[_Candidate]:
    """Files under each path that some source's name patterns match, in a stable order.
    One walk per root whatever the number of patterns (rglob per pattern walked it once each)."""
    patterns = sorted({p for s in SOURCES.values() if wanted in ("auto", s.name) for p in s.patterns})
    for root in paths:
        if root.is_file():
            yield _Candidate(root, root.parent)
            continue
        found = []
        for folder, _, names in os.walk(root):
            for name in names:
                if not name.endswith(SIDECAR_SUFFIXES) and any(fnmatch.fnmatchcase(name, p) for p in patterns):
                    found.append(os.path.join(folder, name))
        for path in sorted(found):
            yield _Candidate(Path(path), root)


def user_for(candidate: _Candidate, options: IngestOptions) -> str:
    """--user, or the first folder below the root (--user-from-dir), or the OS login name."""
    if options.user:
        return options.user
    if options.user_from_dir:
        parts = candidate.path.relative_to(candidate.root).parts
        if len(parts) < 2:
            raise ValueError(f"--user-from-dir: {candidate.path} is not inside a ROOT/<user>/ folder")
        return parts[0]
    return getpass.getuser()


def _validate(options: IngestOptions) -> None:
    if options.user and options.user_from_dir:
        raise IngestError("use either --user NAME or --user-from-dir, not both")
    if options.source != "auto" and options.source not in SOURCES:
        raise IngestError(f"unknown source {options.source!r}: choose one of auto, {', '.join(SOURCES)}")
    for path in options.paths:
        if not path.exists():
            raise IngestError(f"no such file or directory: {path}")


class IngestRun:
    """State of one run against one open writer connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection, options: IngestOptions, command: str) -> None:
        _validate(options)
        self.con = con
        self.options = options
        self.summary = RunSummary()
        self._close_abandoned_runs()
        self.summary.run_id = self._start_run(command)
        self._writer = None
        self.manifest = load_manifest(con)
        self.drift_samples: dict[tuple, int] = {}

    def _close_abandoned_runs(self) -> None:
        # A run killed mid-way left status 'running'; its committed batches stand, the rest is redone.
        run_sql(
            self.con, "UPDATE ingest_runs SET status = 'aborted' WHERE status = 'running'"
        )

    def _start_run(self, command: str) -> int:
        run_id = self.con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM ingest_runs").fetchall()[0][0]
        run_sql(
            self.con, "INSERT INTO ingest_runs (run_id, started_at, status, command) VALUES (?, ?, 'running', ?)",
            [run_id, utc_now(), command],
        )
        return run_id

    def execute(self) -> RunSummary:
        """Load everything new; on any unexpected failure record the run as failed and re-raise."""
        try:
            with _deferred_checkpoints(self.con):
                self._load_all()
        except BaseException as error:
            self._finish("failed", f"{type(error).__name__}: {error}")
            raise
        self._finish("ok", None)
        return self.summary

    def _load_all(self) -> None:
        candidates = list(discover(self.options.paths, self.options.source))
        pending = _Pending()
        jobs = []
        for candidate in candidates:
            job = self._job_for(candidate, pending)
            if job:
                jobs.append(job)
        bar = tqdm(total=len(jobs), unit="file", desc="ingest", disable=self._bar_disabled(), file=sys.stderr)
        for chunk in self._read_all(jobs):
            for job, result in zip(chunk.jobs, chunk.results):
                self._absorb(job, result, pending)
            pending.batch.absorb(chunk.batch)
            bar.update(len(chunk.jobs))
            if pending.batch.bytes_read >= self.options.batch_bytes:
                self._flush(pending)
                pending = _Pending()
        bar.close()
        self._flush(pending)
        self._mark_missing({str(c.path) for c in candidates})

    def _read_all(self, jobs: list[FileJob]) -> Iterator[_Chunk]:
        """Parse groups of files in worker processes when there is enough to share, in order either way."""
        if not jobs:
            return
        chunks = chunked(jobs, CHUNK_BYTES)
        to_read = sum(job.size - (job.state.offset_loaded if job.state else 0) for job in jobs)
        workers = min(os.cpu_count() or 1, MAX_WORKERS)
        if workers < 2 or to_read < PARALLEL_MIN_BYTES:
            for chunk in chunks:
                yield _Chunk(chunk, read_chunk(chunk, drift_samples=self.drift_samples))
            return
        # Never a bare fork: the parent already runs DuckDB's and Polars' thread pools, and a forked
        # child inherits their locks mid-flight (a deadlock seen in practice). Nor multiprocessing's
        # spawn, which re-runs the caller's __main__ in every worker. loky starts clean interpreters
        # that import only what the task needs.
        read = partial(read_chunk, shapes=self.writer().shapes())
        done = 0
        try:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                for chunk, result in zip(chunks, pool.map(read, chunks)):
                    done += 1
                    yield _Chunk(chunk, result)
        except BrokenProcessPool as error:
            # A worker that cannot start (an odd __main__, no memory) must not fail the run.
            print(f"agentledger ingest: worker processes failed ({error}); reading in-process", file=sys.stderr)
            for chunk in chunks[done:]:
                yield _Chunk(chunk, read_chunk(chunk, drift_samples=self.drift_samples))

    def writer(self):
        """The ledger writer, made on first use: a run with nothing new never loads Polars."""
        if self._writer is None:
            from ingest.writer import LedgerWriter

            self._writer = LedgerWriter(self.con, self.summary.run_id)
        return self._writer

    def _bar_disabled(self) -> bool:
        if self.options.progress is None:
            return not sys.stderr.isatty()
        return not self.options.progress

    def _job_for(self, candidate: _Candidate, pending: _Pending) -> FileJob | None:
        """A read job for a new or changed file; unchanged files cost this one stat."""
        key = str(candidate.path)
        try:
            stat = candidate.path.stat()
        except OSError as error:
            self._file_failed(pending, key, f"cannot stat: {error.strerror}")
            return None
        state = self.manifest.get(key)
        if is_unchanged(state, stat):
            self.summary.files_unchanged += 1
            self.summary.files_seen += 1
            return None
        try:
            user, user_problem = user_for(candidate, self.options), None
        except ValueError as error:
            # Decided after sniffing: a stranger at the root (org.csv, a README) is just unrecognised.
            user, user_problem = None, str(error)
        return FileJob(candidate.path, user, stat.st_size, stat.st_mtime_ns, state,
                       self.options.source, self.options.store_prompts, user_problem)

    def _absorb(self, job: FileJob, result: FileResult, pending: _Pending) -> None:
        """Count one file's outcome and queue its manifest entry (its records come with the chunk)."""
        if result.status == "failed":
            self._file_failed(pending, str(job.path), result.reason or result.status)
        elif result.status == "unrecognised":
            self.summary.files_skipped += 1
        else:
            self.summary.files_seen += 1
            if result.status == "new":
                self.summary.files_new += 1
            else:
                self.summary.files_changed += 1
        if result.manifest_row:
            pending.manifest.append(result.manifest_row)

    def _file_failed(self, pending: _Pending, path: str, reason: str) -> None:
        self.summary.files_seen += 1
        self.summary.files_failed += 1
        pending.batch.rejects.append(
            {"path": path, "byte_offset": -1, "line_no": 0, "reason": reason, "head": None}
        )

    def _flush(self, pending: _Pending) -> None:
        batch = pending.batch
        if not pending.manifest and not batch.reject_count:
            return
        counts = self.writer().write(batch, pending.manifest)
        s = self.summary
        s.bytes_read += batch.bytes_read
        s.lines += batch.lines
        s.requests_new += counts.requests_new
        s.requests_updated += counts.requests_updated
        s.tool_calls_new += counts.tool_calls_new
        s.events_new += counts.events_new
        s.api_errors += batch.api_errors
        s.rejects += batch.reject_count
        for (_, kind, _), n in batch.drift.counts.items():
            if kind == "record_type":
                s.unknown_types += n
            else:
                s.unknown_fields += n
        for row in pending.manifest:
            self.manifest[row["path"]] = FileState(
                row["path"], row["size"], row["mtime_ns"], row["head_hash"], row["offset_loaded"],
                row["lines_loaded"], row.get("parser_state"), row.get("first_run_id") or self.summary.run_id,
            )

    def _mark_missing(self, seen: set[str]) -> None:
        # A transcript deleted at the source (30-day cleanup) keeps its facts: only the manifest notes it.
        roots = [str(p) if p.is_dir() else None for p in self.options.paths]
        gone = [
            path for path in self.manifest
            if path not in seen and any(r and path.startswith(r.rstrip("/") + "/") for r in roots)
            and not os.path.exists(path)
        ]
        if gone:
            run_sql(
                self.con, "UPDATE source_files SET missing = TRUE WHERE path IN (SELECT unnest(?::VARCHAR[]))", [gone]
            )
        self.summary.files_missing = len(gone)

    def _finish(self, status: str, error: str | None) -> None:
        fields = asdict(self.summary)
        fields.pop("run_id")
        assignments = ", ".join(f"{name} = ?" for name in fields)
        run_sql(
            self.con, f"UPDATE ingest_runs SET ended_at = ?, status = ?, error = ?, {assignments} WHERE run_id = ?",
            [utc_now(), status, error, *fields.values(), self.summary.run_id],
        )


@contextmanager
def _deferred_checkpoints(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """One checkpoint per run instead of one per batch: DuckDB rewrites the primary-key indexes at
    every checkpoint, which made commits the slowest step of a large load. Each batch is still
    committed (durable in the WAL), so a kill -9 loses nothing that was committed."""
    before = con.execute("SELECT current_setting('checkpoint_threshold')").fetchall()[0][0]
    run_sql(con, f"SET checkpoint_threshold = '{CHECKPOINT_EVERY}'")
    try:
        yield
    finally:
        run_sql(con, f"SET checkpoint_threshold = '{before}'")
        run_sql(con, "CHECKPOINT")


def run_ingest(con: duckdb.DuckDBPyConnection, options: IngestOptions, command: str = "ingest") -> RunSummary:
    """Ingest `options.paths` into the ledger behind `con`; returns the run's counters."""
    options.paths = [Path(p).expanduser().absolute() for p in options.paths]
    return IngestRun(con, options, command).execute()
