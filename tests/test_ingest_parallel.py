"""The worker-process path gives exactly what the in-process path gives."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures.process import BrokenProcessPool

import loky
import polars as pl
import pytest

from ingest.settings import IngestSettings
from store.db import connect_writer
from tests.claude_lines import assistant, prompt, tool_result, tool_use, usage, write_jsonl
from tests.helpers import ingest

TABLES = ("requests", "tool_calls", "tool_results", "session_events", "rejects", "source_files")


def _corpus(root):
    for s in range(12):
        lines = []
        for i in range(10):
            ts = f"2026-03-0{1 + s % 9}T10:{i:02d}:00.000Z"
            lines.append(prompt(ts, f"step {i}", session=f"s{s}"))
            lines.append(assistant(ts, f"msg_{s}_{i}", f"req_{s}_{i}", usage(1, i, 5, 50),
                                   [tool_use(f"t_{s}_{i}", "Edit", {"file_path": "/a.py", "old_string": "a", "new_string": "b\nc"})],
                                   session=f"s{s}"))
            lines.append(tool_result(ts, f"t_{s}_{i}", "ok", session=f"s{s}"))
        lines.append("{not json")
        write_jsonl(root / f"u{s % 3}" / "p" / f"s{s}.jsonl", lines)


def _snapshot(con) -> dict:
    snap = {}
    for table in TABLES:
        columns = [c for c in con.execute(f"SELECT * FROM {table} LIMIT 0").description]
        names = [c[0] for c in columns if c[0] not in ("run_id", "last_seen_at", "first_run_id", "last_run_id")]
        snap[table] = sorted(con.execute(f"SELECT {', '.join(names)} FROM {table}").fetchall(), key=repr)
    return snap


def _serial(tmp_path):
    serial = connect_writer(tmp_path / "serial.duckdb")
    ingest(serial, tmp_path / "logs", user=None, user_from_dir=True)
    return serial


def test_worker_processes_load_the_same_ledger(tmp_path):
    _corpus(tmp_path / "logs")
    pl.DataFrame({"warm": [1, 2]}).sum()  # Polars' thread pool is running, as in any real caller
    serial = _serial(tmp_path)
    # A fresh process, as cron runs it: spawned workers re-import its __main__ (the CLI).
    env = dict(os.environ, AGENTLEDGER_PARALLEL_MIN_BYTES="0")
    db = tmp_path / "parallel.duckdb"
    result = subprocess.run(
        [sys.executable, "-m", "agentledger.cli", "ingest", str(tmp_path / "logs"), "--user-from-dir", "--db", str(db)],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "reading in-process" not in result.stderr
    assert "12 rejects" in result.stdout
    parallel = connect_writer(db)
    assert _snapshot(parallel) == _snapshot(serial)


class _BrokenPool:
    def __init__(self, *args, **kwargs):
        """Takes the pool's arguments: every chunk is parsed at once, in this process."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def map(self, *args, **kwargs):
        raise BrokenProcessPool("a worker died")

    def submit(self, *args, **kwargs):
        raise BrokenProcessPool("a worker died")

    def shutdown(self, wait=True):
        pass


def test_broken_worker_pool_falls_back_to_reading_in_process(tmp_path, monkeypatch, capsys):
    _corpus(tmp_path / "logs")
    serial = _serial(tmp_path)
    monkeypatch.setattr(loky, "ProcessPoolExecutor", _BrokenPool)
    fallback = connect_writer(tmp_path / "fallback.duckdb")
    summary = ingest(fallback, tmp_path / "logs", user=None, user_from_dir=True,
                     settings=IngestSettings(parallel_min_bytes=0))
    assert summary.files_new == 12
    assert "reading in-process" in capsys.readouterr().err
    assert _snapshot(fallback) == _snapshot(serial)


def test_a_worker_collects_garbage_less_often_than_the_default():
    # In a fresh process, as a pool worker starts: its young-generation threshold is raised, the
    # older generations keep theirs. (Run apart: the test process's own collector is left alone.)
    code = ("import gc, os; from ingest.workers import start_worker, WORKER_GC_THRESHOLD; "
            "before = gc.get_threshold(); start_worker(os.getppid()); after = gc.get_threshold(); "
            "print(before[0], after[0] == WORKER_GC_THRESHOLD, before[1:] == after[1:])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["700", "True", "True"]


def _page_faults_reading_chunks(keep: bool) -> int:
    """In a fresh process: page faults while 20 chunks are read as a worker reads them, each chunk
    three 4 MB blocks of 2 KB lines, read and split, freed together when the chunk is handed over
    (after the worker's malloc setting when `keep`)."""
    code = ("import resource, tempfile; from ingest.workers import keep_freed_memory; "
            f"assert keep_freed_memory() if {keep} else True; "
            "f = tempfile.TemporaryFile(); f.write((b'x' * 2047 + b'\\n') * 2048); "
            "before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
            "for _ in range(20):\n"
            " chunk = []\n"
            " for _ in range(3):\n"
            "  f.seek(0); data = f.read(4 << 20); chunk.append((data, data.split(b'\\n')))\n"
            " del chunk, data\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)")
    return int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc setting (macOS keeps its defaults)")
def test_a_worker_reuses_the_memory_of_the_chunks_it_read():
    # A chunk is 24 MB here (3 blocks and their lines), 6,144 pages. By default glibc hands a freed
    # chunk's memory back to the system and every chunk faults its pages in again (~60k faults in
    # 20 chunks); a worker keeps it and faults about one chunk's pages once.
    chunk_pages = 24 * 1024 * 1024 // 4096
    assert _page_faults_reading_chunks(False) > 5 * chunk_pages
    assert _page_faults_reading_chunks(True) < 2 * chunk_pages


def _parse_and_count_polars_threads(root: str) -> tuple[int, int]:
    """A pool task: parse every file under `root` as one chunk; the requests and Polars' thread count."""
    import datetime as dt
    from pathlib import Path

    import polars

    from ingest.file_reader import FileJob, ReadSettings, read_chunk
    from ingest.timestamps import utc_now

    paths = sorted(p for p in Path(root).rglob("*") if p.is_file())
    jobs = [FileJob(p, str(p), "u", p.stat().st_size, p.stat().st_mtime_ns, None) for p in paths]
    batch = read_chunk(jobs, ReadSettings("auto", False, utc_now() + dt.timedelta(days=1), 1 << 20))
    return len(batch.requests.rows()), polars.thread_pool_size()


def test_a_worker_runs_polars_on_one_thread(tmp_path, monkeypatch):
    # A pool worker as the run starts it, in an environment that asks Polars for three threads: the
    # worker builds its frames on one (the other worker and the writer keep the cores busy).
    from ingest.workers import start_worker

    _corpus(tmp_path / "logs")
    monkeypatch.setenv("POLARS_MAX_THREADS", "3")
    with loky.ProcessPoolExecutor(max_workers=1, initializer=start_worker, initargs=(os.getpid(),)) as pool:
        assert pool.submit(_parse_and_count_polars_threads, str(tmp_path / "logs")).result() == (120, 1)


def test_a_worker_parses_every_source_without_importing_duckdb(tmp_path):
    # What a pool worker runs for a chunk, in a fresh process: sniff, parse and hand over a Claude
    # transcript and an OTel export. DuckDB (~33 MB and ~0.1 s of start-up per worker) belongs to
    # the process that writes.
    from tests.test_source_otel import api_request, logs, write_otel

    _corpus(tmp_path / "logs")
    write_otel(tmp_path / "logs" / "u0" / "otel" / "claude-code.json", [logs([api_request("req_otel")])])
    code = (
        "import pickle, sys, datetime as dt\n"
        "from pathlib import Path\n"
        "from ingest.file_reader import FileJob, ReadSettings, read_chunk\n"
        "from ingest.timestamps import utc_now\n"
        f"paths = sorted(p for p in Path({str(tmp_path / 'logs')!r}).rglob('*') if p.is_file())\n"
        "jobs = [FileJob(p, str(p), 'u', p.stat().st_size, p.stat().st_mtime_ns, None) for p in paths]\n"
        "settings = ReadSettings('auto', False, utc_now() + dt.timedelta(days=1), 1 << 20)\n"
        "batch = pickle.loads(pickle.dumps(read_chunk(jobs, settings)))\n"
        "print(len(batch.request_rows()), batch.frame('otel_requests').height, sorted({f.manifest.source for f in batch.files}), 'duckdb' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["120", "1", "['claude',", "'otel']", "False"]  # 12 transcripts x 10 requests; one OTel request


class _CountingPool:
    """Runs each task at once and counts the chunks handed to it."""

    def __init__(self):
        self.submitted = 0

    def submit(self, task, chunk):
        from concurrent.futures import Future

        self.submitted += 1
        future = Future()
        future.set_result(chunk)
        return future


def test_workers_get_chunks_ahead_to_parse_while_a_batch_is_written_and_no_more():
    # While this process writes a batch, the workers must have more chunks to go on with than they
    # finish in the ~0.1 s two each lasted (a core then idled for the rest of every write); and the
    # chunks in flight stay bounded, whatever the corpus size, so parsed batches never pile up.
    from types import SimpleNamespace

    from ingest.runner import AHEAD, _Readers

    pool = _CountingPool()
    readers = _Readers(SimpleNamespace(settings=None, read_settings=None, drift_samples={}))
    readers.pool = pool
    in_flight = []
    for taken, _ in enumerate(readers._parallel(2, [[n] for n in range(100)]), start=1):
        in_flight.append(pool.submitted - taken)
    assert AHEAD >= 8
    assert in_flight[0] == max(in_flight) == 2 * AHEAD   # the next is submitted before a batch is taken
    assert in_flight[-1] == 0 and pool.submitted == 100


class _InlinePool:
    """Parses each chunk at once in this process and notes when it is shut down."""

    log: list = []

    def __init__(self, *args, **kwargs):
        """Takes the pool's arguments: every chunk is parsed at once, in this process."""

    def submit(self, task, chunk):
        from concurrent.futures import Future

        future = Future()
        future.set_result(task(chunk))
        return future

    def shutdown(self, wait=True):
        self.log.append(("shutdown", wait))


def test_workers_end_while_the_last_batch_is_written_not_before(tmp_path, monkeypatch):
    # A worker's teardown takes ~0.5 s: waiting for it before the last batch's write put it on
    # the path of every cold ingest. The workers are told to end, the last batch is written, and
    # nothing waits for them after (they are parsed out).
    from ingest.runner import IngestRun

    _corpus(tmp_path / "logs")
    log = _InlinePool.log = []
    monkeypatch.setattr(loky, "ProcessPoolExecutor", _InlinePool)
    flush = IngestRun._flush
    monkeypatch.setattr(IngestRun, "_flush", lambda run, pending, *a: (log.append("flush"), flush(run, pending, *a)))
    con = connect_writer(tmp_path / "ledger.duckdb")
    summary = ingest(con, tmp_path / "logs", user=None, user_from_dir=True,
                     settings=IngestSettings(parallel_min_bytes=0, batch_bytes=6000, chunk_bytes=1))
    assert summary.files_new == 12
    assert log.count("flush") > 2 and log[-2:] == [("shutdown", False), "flush"]
    assert _snapshot(con) == _snapshot(_serial(tmp_path))
