"""The worker-process path gives exactly what the in-process path gives."""

from __future__ import annotations

import polars as pl

import ingest.runner as runner
from store.db import connect_writer
from tests.claude_lines import assistant, prompt, text, tool_result, tool_use, usage, write_jsonl
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


def test_worker_processes_load_the_same_ledger(tmp_path, monkeypatch):
    _corpus(tmp_path / "logs")
    pl.DataFrame({"warm": [1, 2]}).sum()  # Polars' thread pool is running, as in any real caller
    serial = connect_writer(tmp_path / "serial.duckdb")
    ingest(serial, tmp_path / "logs", user=None, user_from_dir=True)
    monkeypatch.setattr(runner, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(runner, "CHUNK_BYTES", 2_000)
    parallel = connect_writer(tmp_path / "parallel.duckdb")
    summary = ingest(parallel, tmp_path / "logs", user=None, user_from_dir=True)
    assert summary.files_new == 12 and summary.rejects == 12
    assert _snapshot(parallel) == _snapshot(serial)
