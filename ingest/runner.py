"""One ingest run: discover files, read what is new in each, write batches, record the run."""

from __future__ import annotations

import getpass
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator

import duckdb

from store.sql import run_sql
import msgspec
from tqdm import tqdm

from ingest.batch import RecordBatch, Row
from ingest.context import FileContext
from ingest.manifest import HEAD_BYTES, FileState, head_hash, is_unchanged, load_manifest, resume_offset
from ingest.sources import SOURCES, Source, detect
from ingest.timestamps import utc_now
from ingest.writer import LedgerWriter

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
            f"{self.files_unchanged} unchanged, {self.files_missing} missing, {self.files_failed} failed), "
            f"{self.lines} lines, {self.requests_new} new requests ({self.requests_updated} updated), "
            f"{self.tool_calls_new} tool calls, {self.api_errors} API errors, {self.rejects} rejects, "
            f"{self.unknown_types} unknown record types, {self.unknown_fields} unknown fields"
        )


@dataclass
class _Candidate:
    path: Path
    root: Path


@dataclass
class _Pending:
    batch: RecordBatch = field(default_factory=RecordBatch)
    manifest: list[Row] = field(default_factory=list)


def discover(paths: list[Path], wanted: str) -> Iterator[_Candidate]:
    """Files under each path that some source's name patterns match, in a stable order."""
    patterns = sorted({p for s in SOURCES.values() if wanted in ("auto", s.name) for p in s.patterns})
    for root in paths:
        if root.is_file():
            yield _Candidate(root, root.parent)
            continue
        found: set[Path] = set()
        for pattern in patterns:
            found.update(p for p in root.rglob(pattern) if p.is_file())
        for path in sorted(found):
            yield _Candidate(path, root)


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
        self.writer = LedgerWriter(con, self.summary.run_id)
        self.manifest = load_manifest(con)
        self.drift_samples: dict[tuple, int] = {}

    def _close_abandoned_runs(self) -> None:
        # A run killed mid-way left status 'running'; its committed batches stand, the rest is redone.
        run_sql(self.con, 
            "UPDATE ingest_runs SET status = 'aborted' WHERE status = 'running'"
        )

    def _start_run(self, command: str) -> int:
        run_id = self.con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM ingest_runs").fetchone()[0]
        run_sql(self.con, 
            "INSERT INTO ingest_runs (run_id, started_at, status, command) VALUES (?, ?, 'running', ?)",
            [run_id, utc_now(), command],
        )
        return run_id

    def execute(self) -> RunSummary:
        """Load everything new; on any unexpected failure record the run as failed and re-raise."""
        try:
            self._load_all()
        except BaseException as error:
            self._finish("failed", f"{type(error).__name__}: {error}")
            raise
        self._finish("ok", None)
        return self.summary

    def _load_all(self) -> None:
        candidates = list(discover(self.options.paths, self.options.source))
        pending = _Pending()
        seen_paths: set[str] = set()
        bar = tqdm(candidates, unit="file", desc="ingest", disable=self._bar_disabled(), file=sys.stderr)
        for candidate in bar:
            seen_paths.add(str(candidate.path))
            self._load_file(candidate, pending)
            if pending.batch.bytes_read >= self.options.batch_bytes:
                self._flush(pending)
                pending = _Pending()
        self._flush(pending)
        self._mark_missing(seen_paths)

    def _bar_disabled(self) -> bool:
        if self.options.progress is None:
            return not sys.stderr.isatty()
        return not self.options.progress

    def _load_file(self, candidate: _Candidate, pending: _Pending) -> None:
        path = candidate.path
        key = str(path)
        try:
            stat = path.stat()
        except OSError as error:
            self._file_failed(pending, key, f"cannot stat: {error.strerror}")
            return
        state = self.manifest.get(key)
        if is_unchanged(state, stat):
            self.summary.files_unchanged += 1
            self.summary.files_seen += 1
            return
        try:
            with path.open("rb") as handle:
                head = handle.read(HEAD_BYTES)
                source = detect(path, head, self.options.source)
                if source is None:
                    self._unrecognised(pending, key, stat)
                    return
                start, start_line = (0, 0) if source.whole_file else resume_offset(state, stat.st_size, head)
                handle.seek(start)
                data = handle.read()
        except OSError as error:
            self._file_failed(pending, key, f"unreadable: {error.strerror or error}")
            return
        self.summary.files_seen += 1
        try:
            user = user_for(candidate, self.options)
        except ValueError as error:
            self._file_failed(pending, key, str(error))
            return
        if state is None:
            self.summary.files_new += 1
        else:
            self.summary.files_changed += 1
        complete_end = len(data) if source.whole_file else data.rfind(b"\n") + 1
        complete = data[:complete_end]
        ctx = source.file_context(
            path,
            FileContext(
                path=key, user_name=user, store_prompts=self.options.store_prompts,
                state=_load_state(state), drift_samples=self.drift_samples,
            ),
        )
        batch = pending.batch
        lines_before = batch.lines
        source.parse(complete[:-1] if complete.endswith(b"\n") else complete, start, start_line, ctx, batch)
        batch.bytes_read += len(complete)
        offset_loaded = start + complete_end
        lines_loaded = start_line + complete.count(b"\n")
        if start == 0:
            first_bytes = complete[:HEAD_BYTES]
        else:
            first_bytes = head
        pending.manifest.append(
            {
                "path": key,
                "source": source.name,
                "user_name": user,
                "size": stat.st_size,
                "mtime_ns": stat.st_mtime_ns,
                "head_hash": head_hash(first_bytes, offset_loaded),
                "offset_loaded": offset_loaded,
                "lines_loaded": lines_loaded if not source.whole_file else batch.lines - lines_before,
                "parser_state": msgspec.json.encode(ctx.state).decode() if ctx.state else None,
                "first_run_id": state.first_run_id if state else None,
                "last_seen_at": utc_now(),
            }
        )

    def _unrecognised(self, pending: _Pending, path: str, stat: os.stat_result) -> None:
        # Reported once, then remembered in the manifest so an unchanged stranger costs a stat.
        self._file_failed(pending, path, f"not a recognised log format ({self.options.source}): skipped")
        pending.manifest.append(
            {"path": path, "source": "unrecognised", "user_name": None, "size": stat.st_size,
             "mtime_ns": stat.st_mtime_ns, "head_hash": "", "offset_loaded": 0, "lines_loaded": 0,
             "last_seen_at": utc_now()}
        )

    def _file_failed(self, pending: _Pending, path: str, reason: str) -> None:
        self.summary.files_seen += 1
        self.summary.files_failed += 1
        pending.batch.rejects.append(
            {"path": path, "byte_offset": -1, "line_no": 0, "reason": reason, "head": None}
        )

    def _flush(self, pending: _Pending) -> None:
        batch = pending.batch
        if not pending.manifest and not batch.rejects:
            return
        counts = self.writer.write(batch, pending.manifest)
        s = self.summary
        s.bytes_read += batch.bytes_read
        s.lines += batch.lines
        s.requests_new += counts.requests_new
        s.requests_updated += counts.requests_updated
        s.tool_calls_new += counts.tool_calls_new
        s.events_new += counts.events_new
        s.api_errors += batch.api_errors
        s.rejects += len(batch.rejects)
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
            run_sql(self.con, 
                "UPDATE source_files SET missing = TRUE WHERE path IN (SELECT unnest(?::VARCHAR[]))", [gone]
            )
        self.summary.files_missing = len(gone)

    def _finish(self, status: str, error: str | None) -> None:
        fields = asdict(self.summary)
        fields.pop("run_id")
        assignments = ", ".join(f"{name} = ?" for name in fields)
        run_sql(self.con, 
            f"UPDATE ingest_runs SET ended_at = ?, status = ?, error = ?, {assignments} WHERE run_id = ?",
            [utc_now(), status, error, *fields.values(), self.summary.run_id],
        )


def _load_state(state: FileState | None) -> dict:
    if state is None or not state.parser_state:
        return {}
    return msgspec.json.decode(state.parser_state)


def run_ingest(con: duckdb.DuckDBPyConnection, options: IngestOptions, command: str = "ingest") -> RunSummary:
    """Ingest `options.paths` into the ledger behind `con`; returns the run's counters."""
    options.paths = [Path(p).expanduser().absolute() for p in options.paths]
    return IngestRun(con, options, command).execute()
