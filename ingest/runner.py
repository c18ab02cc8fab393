"""One ingest run: discover files, read what is new in each, write batches, record the run.

The ledger is held only in short write windows (store/ledger.py): the run's start, each batch,
its end. Parsing happens outside them, so readers get in between.
"""

from __future__ import annotations

import getpass
import os
import socket
import sys
from collections import deque
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import timedelta
from functools import cached_property, partial
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

import duckdb

from ingest.discovery import Discovered, absolute_paths, discover, ledger_key, walking_ahead
from ingest.manifest import (FileState, Known, load_known, load_states, read_record, record, record_key,
                             state_to_read_on)
from ingest.reread import RereadPlan, reset_known_files
from ingest.secrets import scrub
from ingest.sources import SOURCES, AfterWrite
from ingest.timestamps import utc_now
from store.db import within_memory_limit
from store.ledger import HeldLedger, Ledger
from store.migrations import one_thread
from store.sql import run_sql, transaction

if TYPE_CHECKING:
    from ingest.batch import RecordBatch
    from ingest.file_reader import FileJob, ReadSettings
    from ingest.records import FileRead
    from ingest.settings import IngestSettings
    from ingest.writer import RunKeys

class IngestError(RuntimeError):
    """The run could not start; the message is one line for the user."""


@dataclass
class IngestOptions:
    paths: list[Path]
    user: str | None = None
    user_from_dir: bool = False
    source: str = "auto"
    store_prompts: bool = False
    follow_symlinks: bool = False      # read links that lead out of the folder being ingested
    reread: bool = False               # read known files again from the start (ingest/reread.py)
    batch_bytes: int | None = None     # None: settings().batch_bytes
    progress: bool | None = None       # None: a bar only when stderr is a terminal
    settings: IngestSettings | None = None  # None: from the environment (ingest/settings.py)
    # More steps in each batch's transaction, after the sources' own (a lake derives what it loaded).
    after_write: tuple[AfterWrite, ...] = ()
    # (k, n): this worker reads shard k of n, the users (with user_from_dir; else the files) whose
    # hash is k modulo n. Workers on other shards, or on none, may write the same ledger at once.
    shard: tuple[int, int] | None = None
    # A ship destination (a folder or s3://…) to load batches from instead of `paths` (ingest/shipped.py).
    shipped_from: str | None = None


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
    # The PATHs given under which no file was an agent log (not stored with the run).
    empty_roots: list[str] = field(default_factory=list)
    # --reread: what it reset (said in the summary line; the run's command records the option).
    reread: RereadPlan | None = None

    def one_line(self) -> str:
        """The line cron mails: enough to see that the job ran and what it found."""
        return (
            f"ingest run {self.run_id}: {self.files_seen} files ({self.files_new} new, {self.files_changed} changed, "
            f"{self.files_unchanged} unchanged, {self.files_missing} missing, {self.files_failed} failed, "
            f"{self.files_skipped} not logs), "
            f"{self.lines} lines, {self.requests_new} new requests ({self.requests_updated} updated), "
            f"{self.tool_calls_new} tool calls, {self.api_errors} API errors, {self.rejects} rejects, "
            f"{self.unknown_types} unknown record types, {self.unknown_fields} unknown fields"
            + (f"; re-read {self.reread.files} known files: facts of {self.reread.sessions} sessions read afresh, "
               f"{self.reread.sessions_kept} kept as ingested (a file holding their requests is gone or "
               f"outside PATH)" if self.reread else "")
        )

    def recorded(self) -> dict:
        """The counters stored in ingest_runs."""
        fields = asdict(self)
        for name in ("run_id", "empty_roots", "reread"):
            fields.pop(name)
        return fields


def user_for(path: str, root: Path, options: IngestOptions) -> str:
    """--user, or the first folder below the root (--user-from-dir), or the OS login name."""
    if options.user:
        return options.user
    if options.user_from_dir:
        parts = Path(path).relative_to(root).parts
        if len(parts) < 2:
            raise ValueError(f"--user-from-dir: {ledger_key(path)} is not inside a ROOT/<user>/ folder")
        return parts[0]
    return getpass.getuser()


def in_shard(path: str, root: Path, options: IngestOptions) -> bool:
    """Whether `path` belongs to this worker's shard: by the user folder below the root with
    --user-from-dir (all of a person's files go to one worker), else by the file itself."""
    k, n = options.shard
    key = path
    if options.user_from_dir:
        parts = Path(path).relative_to(root).parts
        key = parts[0] if len(parts) > 1 else path
    from ingest.hashing import short_hash

    return int(short_hash(key), 16) % n == k


def _validate(options: IngestOptions) -> None:
    if options.user and options.user_from_dir:
        raise IngestError("use either --user NAME or --user-from-dir, not both")
    if options.shard and not 0 <= options.shard[0] < options.shard[1]:
        raise IngestError(f"--shard K/N needs 0 <= K < N; got {options.shard[0]}/{options.shard[1]}")
    if options.source != "auto" and options.source not in SOURCES:
        raise IngestError(f"unknown source {options.source!r}: choose one of auto, {', '.join(SOURCES)}")
    for path in options.paths:
        if not os.path.lexists(path):
            raise IngestError(f"no such file or directory: {path}")


def prepare(options: IngestOptions) -> IngestOptions:
    """Check the options before anything is opened (a mistyped PATH must not create a ledger);
    returns a copy with absolute paths, leaving the caller's options as they were."""
    prepared = replace(options, paths=absolute_paths(options.paths))
    _validate(prepared)
    return prepared


# Chunks per worker submitted ahead of the one being taken: enough to keep the workers parsing
# while a batch is written (a 64 MB batch's write takes ~0.5 s, in which two workers parse ~60 MB:
# with 2 each, they ran dry after ~0.1 s and a core stood idle for the rest of every write), few
# enough that memory holds a bounded amount whatever the corpus size (8 x 4 MB of logs a worker).
AHEAD = 8

# In the run's last window, after it is recorded (the pipeline asks there whether to refresh).
LastWindow = Callable[[duckdb.DuckDBPyConnection], None]


class IngestRun:
    """State of one run; it touches the ledger only inside execute()."""

    def __init__(self, ledger: Ledger, options: IngestOptions, command: str,
                 last_window: LastWindow | None = None) -> None:
        self.ledger = ledger
        self.options = options
        self.command = command
        self.last_window = last_window
        self.summary = RunSummary()
        self.manifest: dict[str, FileState] = {}     # the known files read this run: their state before it
        self.drift_samples: dict[tuple, int] = {}
        self._seen: set[str] = set()                 # every file found but not unchanged, as the ledger names it
        self._walked: list[set[str]] = []            # the records (manifest.record) of the files found, per PATH
        self._known = Known(set(), {}, set())        # every file the ledger knew at the start (manifest.load_known)
        self._root_of: dict[str, str] = {}           # file read -> the PATH it was found under
        self._roots_with_logs: set[str] = set()
        self._empty_tables: list[str] = []           # the writer's tables that held no row at the start
        self._run_keys: RunKeys | None = None        # the keys written to them since (made when a run reads)

    # What a run that reads needs is imported when it first reads (a scheduled no-op reads nothing):
    # the batch being filled, the settings (pydantic-settings), the file reader, the worker pool.
    @cached_property
    def _pending(self) -> RecordBatch:
        from ingest.batch import RecordBatch

        return RecordBatch(store_prompts=self.options.store_prompts)

    @cached_property
    def settings(self) -> IngestSettings:
        from ingest.settings import settings

        return self.options.settings or settings()

    @cached_property
    def batch_bytes(self) -> int:
        return self.options.batch_bytes or self.settings.batch_bytes

    @cached_property
    def read_settings(self) -> ReadSettings:
        from ingest.file_reader import ReadSettings

        return ReadSettings(
            wanted_source=self.options.source, store_prompts=self.options.store_prompts,
            latest_ts=utc_now() + timedelta(hours=self.settings.future_tolerance_hours),
            block_bytes=self.settings.read_block_bytes,
        )

    def execute(self) -> RunSummary:
        """Load everything new; on any unexpected failure record the run as failed and re-raise."""
        where = (self.options.paths, self.options.source, self.options.follow_symlinks)
        # A walk started ahead (ingest/discovery.py) is taken in the start window, after the manifest
        # is loaded: the start's queries run while the walk ends. Any other walk comes first, outside.
        found = None if walking_ahead(*where) and not self.options.reread else discover(*where)
        if self.options.reread:
            # Only files that can be read now (a reset file's facts are gone until it is read again),
            # and only this worker's shard: another worker reads the rest, and resetting its files
            # here would undo what it has read.
            keys = [ledger_key(path) for path, index, _, _ in found.files if os.access(path, os.R_OK)
                    and (not self.options.shard or in_shard(path, self.options.paths[index], self.options))]
            self.summary.reread = self.ledger.transact(lambda con: reset_known_files(con, keys))

        def start(con: duckdb.DuckDBPyConnection) -> list[FileJob]:
            jobs = self._start(con, found)
            if self._nothing_to_read(jobs):
                self._end(con)  # nothing to read (a scheduled no-op): the run is one window
            return jobs

        # On one DuckDB thread: the window's statements read the manifest, a row per file, and on an
        # 80x180 org (46k files in 3 row groups) a second thread only added hand-offs, ~17 ms of CPU
        # to each run's start (load_known: 50 ms with one, 67 ms with two; medians of 21 interleaved
        # runs), and saved no time.
        jobs = self.ledger.transact(lambda con: _in_transaction(con, lambda c: one_thread(c, start)))
        if self._nothing_to_read(jobs):
            return self._summed_up()
        try:
            self._load_all(jobs)
        except BaseException as error:
            message = scrub(f"{type(error).__name__}: {error}")
            self.ledger.transact(lambda con: _in_transaction(con, lambda c: self._finish(c, "failed", message)))
            raise
        self.ledger.transact(lambda con: _in_transaction(con, self._end))
        return self._summed_up()

    # A run whose _load_all finds its own work (shipped batches) is never a no-op at its start.
    finds_its_own_work = False

    def _nothing_to_read(self, jobs: list[FileJob]) -> bool:
        rejects = "_pending" in vars(self) and self._pending.reject_count
        return not jobs and not rejects and not self.finds_its_own_work

    def _abort_dead_runs(self, con: duckdb.DuckDBPyConnection) -> None:
        """With one writer at a time every run still 'running' is dead. With many (a lake), only
        this host's runs whose process is gone are: other workers may be mid-run."""
        if self.ledger.exclusive:
            run_sql(con, "UPDATE ingest_runs SET status = 'aborted' WHERE status = 'running'")
            return
        running = run_sql(con, "SELECT run_id, pid FROM ingest_runs WHERE status = 'running' AND host = ?",
                          [socket.gethostname()])
        dead = [run_id for run_id, pid in running if not _alive(pid)]
        if dead:
            run_sql(con, "UPDATE ingest_runs SET status = 'aborted' WHERE run_id IN (SELECT unnest(?::BIGINT[]))",
                    [dead])

    def _end(self, con: duckdb.DuckDBPyConnection) -> None:
        self._mark_missing(con)
        self._finish(con, "ok", None)
        if self.last_window:
            self.last_window(con)

    def _summed_up(self) -> RunSummary:
        self.summary.empty_roots = [str(root) for root in self.options.paths if str(root) not in self._roots_with_logs]
        return self.summary

    def _start(self, con: duckdb.DuckDBPyConnection, found: Discovered | None) -> list[FileJob]:
        """Record the run; decide, against the manifest, which files to read (and load their state).
        `found` None: the walk started ahead, taken here."""
        # A run killed mid-way left status 'running'; its committed batches stand, the rest is redone.
        self._abort_dead_runs(con)
        # In one transaction with the insert: on a lake, concurrent starts conflict, so ids stay unique.
        run_id = con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM ingest_runs").fetchall()[0][0]
        run_sql(con, "INSERT INTO ingest_runs (run_id, started_at, status, command, host, pid)"
                     " VALUES (?, ?, 'running', ?, ?, ?)",
                [run_id, utc_now(), scrub(self.command), socket.gethostname(), os.getpid()])
        self.summary.run_id = run_id
        self._known = load_known(con)
        if found is None:
            found = discover(self.options.paths, self.options.source, self.options.follow_symlinks)
        if self.options.shard:
            # Another worker's files: neither read nor seen (nor, when gone, marked missing).
            found = Discovered.of([f for f in found.files if in_shard(f[0], self.options.paths[f[1]], self.options)],
                                  [p for p in found.problems if in_shard(p.path, p.root, self.options)])
        for problem in found.problems:
            key = ledger_key(problem.path)
            self._seen.add(key)
            (self._file_failed if problem.failed else self._skip)(self._pending, key, problem.problem)
        to_read = self._changed(found)
        self.manifest = load_states(con, [key for key, _ in to_read])
        if to_read and not self._known and self.ledger.exclusive and not self.options.shard:
            # A ledger that has read no file yet (a first, cold ingest): a later run's tables hold
            # rows, and the probe would be a cost a small scheduled run pays for nothing.
            self._empty_tables = _empty_tables(con)
        return [self._job_for(key, path) for key, path in sorted(to_read, key=lambda kp: kp[1][0])]

    def _changed(self, found: Discovered) -> list[tuple[str, tuple]]:
        """(ledger key, file) of the files that are new or changed since the last run; the others
        are counted as unchanged. A file is unchanged when its record is one of the manifest's, so
        the files found unchanged are those found less those changed: one set difference per PATH,
        in C (an unchanged file costs no Python of its own, nor a place in a set of its own)."""
        known = self._known.records
        changed = []
        for index, records in found.records.items():
            walked = set(records)  # one PATH's walk names each file once
            new = walked.difference(known)
            self._count_unchanged(index, walked, len(walked) - len(new))
            for text in new:
                key, size, mtime_ns = read_record(text)
                changed.append((key, (key, index, size, mtime_ns)))
        for file in found.odd:
            key = ledger_key(file[0])
            text = record(key, file[2], file[3])
            if text in known:
                self._count_unchanged(file[1], {text}, 1)
            else:
                changed.append((key, file))
        self._seen.update(key for key, _ in changed)
        return changed

    def _count_unchanged(self, index: int, walked: set[str], unchanged: int) -> None:
        """Count the `unchanged` files among the records `walked` under PATH `index` (those also in the
        manifest); `walked` is kept, for the run's end to tell which known files were not found."""
        self._walked.append(walked)
        if not unchanged:
            return
        self.summary.files_unchanged += unchanged
        self.summary.files_seen += unchanged
        # The few files known to hold no log, if found unchanged, are all of them: else some is a log.
        if unchanged > len(walked.intersection(self._known.unrecognised)):
            self._roots_with_logs.add(str(self.options.paths[index]))

    def _load_all(self, jobs: list[FileJob]) -> None:
        from tqdm import tqdm  # imported only by a run that reads something (a no-op's start-up counts)

        from ingest.batch import RecordBatch
        from ingest.file_reader import next_block

        # Each batch is dropped once written: nothing that came from one outlives it (the first
        # batch, kept by the run, held ~64 MB of logs' records to the end of a cold ingest).
        pending = self._pending
        del self._pending
        bar = tqdm(total=len(jobs), unit="file", desc="ingest", disable=self._bar_disabled(), file=sys.stderr)
        first_blocks = True     # every file is read once in the first round; later rounds go on with large ones
        with _fewer_collections(), self._keys_for_the_load():
            with _Readers(self) as readers:
                while jobs:
                    by_key = {job.key: job for job in jobs}
                    follow = []
                    for batch in readers.read(jobs):
                        for read in batch.files:
                            if first_blocks:
                                self._count(read)
                                bar.update(1)
                            if read.more:
                                follow.append(next_block(by_key[read.path], read))
                        pending.absorb(batch)
                        if pending.bytes_read >= self.batch_bytes:
                            self._flush(pending, readers.workers)
                            pending = RecordBatch(store_prompts=self.options.store_prompts)
                    # Large files go on from where their block ended, one block per file per round.
                    jobs, first_blocks = follow, False
                readers.let_go()
            bar.close()
            self._flush(pending)
            self._write_held_back()

    @contextmanager
    def _keys_for_the_load(self) -> Iterator[None]:
        """What the run wrote to tables empty at its start (its later batches need no lookup for
        new keys), kept for the load only: ~8 bytes a row written, let go before the refresh."""
        from ingest.writer import RunKeys

        self._run_keys = RunKeys.of_empty_tables(self._empty_tables)
        try:
            yield
        finally:
            self._run_keys = None

    def _bar_disabled(self) -> bool:
        if self.options.progress is None:
            return not sys.stderr.isatty()
        return not self.options.progress

    def _job_for(self, key: str, file: tuple[str, int, int, int]) -> FileJob:
        """The read job of a new or changed regular file."""
        from ingest.file_reader import FileJob

        path, index, size, mtime_ns = file
        root = self.options.paths[index]
        try:
            user, user_problem = user_for(path, root, self.options), None
        except ValueError as error:
            # Decided after sniffing: a stranger at the root (org.csv, a README) is just unrecognised.
            user, user_problem = None, str(error)
        self._root_of[key] = str(root)
        state = state_to_read_on(self.manifest.get(key), size, mtime_ns)
        return FileJob(Path(path), key, user, size, mtime_ns, state, user_problem)

    def _count(self, read: FileRead) -> None:
        """Count one file's outcome (its records and cursor travel in the batch)."""
        if read.status == "failed":
            self.summary.files_seen += 1
            self.summary.files_failed += 1
        elif read.status in ("unrecognised", "skipped"):
            self.summary.files_skipped += 1
        else:
            self.summary.files_seen += 1
            self._roots_with_logs.add(self._root_of.get(read.path, ""))
            if read.status == "new":
                self.summary.files_new += 1
            else:
                self.summary.files_changed += 1

    def _file_failed(self, pending: RecordBatch, key: str, reason: str) -> None:
        self.summary.files_seen += 1
        self.summary.files_failed += 1
        pending.reject(key, -1, 0, reason, None)

    def _skip(self, pending: RecordBatch, key: str, reason: str) -> None:
        self.summary.files_skipped += 1
        pending.reject(key, -1, 0, reason, None)

    def _flush(self, pending: RecordBatch, parsing_workers: int = 0) -> None:
        if not pending.files and not pending.reject_count:
            return
        from ingest.writer import LedgerWriter  # Polars and the writer only when there is something to write

        hooks = [*(source.after_write for source in SOURCES.values() if source.after_write), *self.options.after_write]

        def write(con: duckdb.DuckDBPyConnection):
            with _cores_left_to_duckdb(con, parsing_workers):
                return within_memory_limit(con, lambda c: LedgerWriter(c, self.summary.run_id, hooks,
                                                                  self._run_keys).write(pending))

        counts = self.ledger.transact(write)
        s = self.summary
        s.bytes_read += pending.bytes_read
        s.lines += pending.lines
        s.requests_new += counts.requests_new
        s.requests_updated += counts.requests_updated
        s.tool_calls_new += counts.tool_calls_new
        s.events_new += counts.events_new
        s.api_errors += pending.api_errors
        s.rejects += pending.reject_count
        for (_, kind, _), n in pending.drift.counts.items():
            if kind == "record_type":
                s.unknown_types += n
            else:
                s.unknown_fields += n

    def _write_held_back(self) -> None:
        """What the writer held back to the load's end (ingest/writer.py HeldBack), in a window of its own."""
        if self._run_keys is None or not self._run_keys.held_back:
            return
        from ingest.writer import LedgerWriter

        def write(con: duckdb.DuckDBPyConnection) -> int:
            return within_memory_limit(con, lambda c: LedgerWriter(c, self.summary.run_id, (),
                                                                   self._run_keys).write_held_back())

        self.summary.requests_new += self.ledger.transact(write)

    def _mark_missing(self, con: duckdb.DuckDBPyConnection) -> None:
        # A transcript deleted at the source (30-day cleanup) keeps its facts: only the manifest notes it.
        # A file already marked is not looked for again; one that came back is unmarked.
        # A ledger fed from other folders too (another job's PATHs) knows files this run never looks
        # for: one prefix test each, in C (a generator per file cost a tenth of a second at 40k files).
        roots = [ledger_key(str(p)) for p in self.options.paths if p.is_dir()]
        inside = tuple(root.rstrip("/") + "/" for root in roots)
        known, walked = self._known, self._walked
        # The known files whose record was not found (one C set difference), less those found changed.
        not_found = {record_key(text) for text in known.records.difference(*walked)} - self._seen
        gone = [
            path for path in not_found
            if path not in known.missing and (path.startswith(inside) or path in roots) and not os.path.exists(path)
        ]
        back = [path for path, text in known.missing.items() if path not in self.manifest
                and (path in self._seen or any(text in found for found in walked))]
        if gone:
            run_sql(con, "UPDATE source_files SET missing = TRUE WHERE path IN (SELECT unnest(?::VARCHAR[]))", [gone])
        if back:
            run_sql(con, "UPDATE source_files SET missing = FALSE WHERE path IN (SELECT unnest(?::VARCHAR[]))", [back])
        self.summary.files_missing = len(gone)

    def _finish(self, con: duckdb.DuckDBPyConnection, status: str, error: str | None) -> None:
        fields = self.summary.recorded()
        assignments = ", ".join(f"{name} = ?" for name in fields)
        run_sql(
            con, f"UPDATE ingest_runs SET ended_at = ?, status = ?, error = ?, {assignments} WHERE run_id = ?",
            [utc_now(), status, error, *fields.values(), self.summary.run_id],
        )


def _empty_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The tables the writer inserts into that hold no row now (only a single writer may rely on
    this across its batches: no one else writes between them)."""
    from ingest.records import TABLES

    probe = " UNION ALL ".join(f"SELECT '{name}' WHERE NOT EXISTS (SELECT 1 FROM {name})" for name in TABLES)
    return [row[0] for row in con.execute(probe).fetchall()]


def _in_transaction(con: duckdb.DuckDBPyConnection, work):
    with transaction(con):
        return work(con)


# Allocations between two young-generation collections in this process while batches are loaded
# (Python's default is 700). Handed-over batches decode into ~10^5 short-lived records each and make
# no cycles worth collecting early; at the default the collector ran ~490 times on a cold 0.5 GB
# ingest, and each older collection walked every object the imports made.
LOAD_GC_THRESHOLD = 20_000


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """While batches are loaded: what exists before the load (modules, the manifest) is left out
    of collections (gc.freeze), and the young generation is collected less often. Both are put
    back after, so the refresh and a process that goes on (tests, the lake) see the defaults."""
    import gc

    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(LOAD_GC_THRESHOLD, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


@contextmanager
def _cores_left_to_duckdb(con: duckdb.DuckDBPyConnection, parsing_workers: int) -> Iterator[None]:
    """While worker processes parse the next batches, a batch is written with the cores they leave:
    the write's statements are small, and DuckDB's threads only took turns with the workers for
    the same cores (a cold ingest of 0.5 GB spent ~2 s more CPU in the writer with them)."""
    if not parsing_workers:
        yield
        return
    run_sql(con, f"SET threads = {max(1, (os.cpu_count() or 1) - parsing_workers)}")
    try:
        yield
    finally:
        run_sql(con, "RESET threads")


def _alive(pid: int | None) -> bool:
    """Whether process `pid` still runs on this host (this process's own pid is a predecessor's)."""
    if not pid or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _Readers:
    """Parses groups of files in worker processes when there is enough to share (one pool for the
    whole run, started on first need), in-process otherwise; batches come back in job order."""

    def __init__(self, run: IngestRun) -> None:
        self.settings = run.settings
        self.read_settings = run.read_settings
        self.drift_samples = run.drift_samples
        self.pool = None
        self.broken = False
        self.workers = 0    # worker processes parsing now (0: the batches are parsed in this process)

    def __enter__(self) -> "_Readers":
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True)

    def let_go(self) -> None:
        """Everything is parsed: the workers are told to end, and end (~0.5 s of interpreter
        teardown) while this process writes the last batch, not before it starts."""
        if self.pool is not None:
            self.pool.shutdown(wait=False)
            self.pool = None

    def read(self, jobs: list[FileJob]) -> Iterator[RecordBatch]:
        from concurrent.futures.process import BrokenProcessPool

        from ingest.file_reader import chunked, read_chunk

        chunks = chunked(jobs, self.settings.chunk_bytes)
        to_read = sum(min(job.to_read(), self.settings.read_block_bytes) for job in jobs)
        workers = min(os.cpu_count() or 1, self.settings.max_workers)
        self.workers = 0
        if self.broken or workers < 2 or len(jobs) < 2 or to_read < self.settings.parallel_min_bytes:
            for chunk in chunks:
                yield read_chunk(chunk, self.read_settings, self.drift_samples)
            return
        done = 0
        try:
            self.workers = workers
            for result in self._parallel(workers, chunks):
                done += 1
                yield result
        except BrokenProcessPool as error:
            self.workers = 0
            # A worker that cannot start (an odd __main__, no memory) must not fail the run.
            print(f"agentledger ingest: worker processes failed ({error}); reading in-process", file=sys.stderr)
            self.broken = True
            for chunk in chunks[done:]:
                yield read_chunk(chunk, self.read_settings, self.drift_samples)

    def _parallel(self, workers: int, chunks: list[list[FileJob]]) -> Iterator[RecordBatch]:
        """The chunks' batches, in order, parsed by the pool with at most AHEAD chunks per worker
        in flight: Executor.map would submit them all, and when writing is slower than parsing
        the parsed batches of a whole corpus would pile up in this process's memory."""
        from ingest.file_reader import read_chunk

        pool, task = self._pool(workers), partial(read_chunk, settings=self.read_settings)
        queue, upcoming = deque(), iter(chunks)
        for chunk in islice(upcoming, workers * AHEAD):
            queue.append(pool.submit(task, chunk))
        while queue:
            result = queue.popleft().result()
            chunk = next(upcoming, None)
            if chunk is not None:
                queue.append(pool.submit(task, chunk))  # before yielding: workers parse while the batch is written
            yield result

    def _pool(self, workers: int):
        # Never a bare fork: the parent already runs DuckDB's and Polars' thread pools, and a forked
        # child inherits their locks mid-flight (a deadlock seen in practice). Nor multiprocessing's
        # spawn, which re-runs the caller's __main__ in every worker. loky starts clean interpreters
        # that import only what the task needs; each worker ends itself when this process dies.
        from loky import ProcessPoolExecutor

        from ingest.workers import start_worker

        if self.pool is None:
            self.pool = ProcessPoolExecutor(max_workers=workers, initializer=start_worker, initargs=(os.getpid(),))
        return self.pool


def run_ingest(target: Ledger | duckdb.DuckDBPyConnection, options: IngestOptions, command: str = "ingest",
               last_window: LastWindow | None = None) -> RunSummary:
    """Ingest `options.paths` (or the batches shipped to `options.shipped_from`) into the ledger (a
    Ledger, or an open connection); returns the run's counters. `last_window(con)` runs in the
    run's last write window, after the run is recorded (not for shipped batches)."""
    ledger = HeldLedger(target) if isinstance(target, duckdb.DuckDBPyConnection) else target
    if options.shipped_from:
        from ingest.shipped import load_shipped  # batches are read with DuckDB, logs are not

        return load_shipped(ledger, options.shipped_from, prepare(options), command)
    return IngestRun(ledger, prepare(options), command, last_window).execute()
