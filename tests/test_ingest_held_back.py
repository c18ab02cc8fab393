"""A load into a ledger with no request nor OTel event holds its OTel-only requests ('otel:' rows) and its
OTel files' cursors and drift back to its end (ingest/writer.py HeldBack): no such row is written and then
deleted again when its transcript twin comes in a later batch. A run killed before the end leaves the OTel
files to be read again, and the next run completes the ledger without counting anything twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from store.db import connect_writer
from tests.claude_lines import assistant, text, usage, write_jsonl
from tests.helpers import ingest
from tests.test_source_otel import ONE_FILE_A_BATCH, api_request, event, logs, write_otel

# What the ledger holds, run by run stamps aside.
REQUESTS = "SELECT request_key, source, user_name, output_tokens, source_cost_usd FROM requests ORDER BY 1"
DRIFT = "SELECT source, kind, name, occurrences, first_path FROM schema_drift ORDER BY 1, 2, 3"
OTEL_FILES = "SELECT path, offset_loaded FROM source_files WHERE source = 'otel'"


def _org(root: Path) -> Path:
    """The OTel file first (its own batch): req_9's transcript comes in the next batch, req_aux has none;
    an event of a kind nobody knows yet is schema drift."""
    write_otel(root / "a-otel/l.json", [logs([api_request("req_9", output=321), api_request("req_aux", output=30),
                                              event("brand_new_event", 2)])])
    write_jsonl(root / "b-claude/p/s1.jsonl", [
        assistant("2026-01-16T09:56:55.000Z", "msg_1", "req_9", usage(12, 3, 50, 1000), [text()], stop_reason=None)])
    return root


def _otel_rows_per_batch(con, run_id, batch) -> int:
    """An after_write hook: how many 'otel:' rows each batch's transaction sees."""
    _otel_rows_per_batch.seen.append(con.execute("SELECT count(*) FROM requests WHERE source = 'otel'").fetchone()[0])
    return 0


def test_a_first_load_writes_its_otel_rows_at_its_end(ledger, tmp_path):
    _otel_rows_per_batch.seen = []
    summary = ingest(ledger, _org(tmp_path), after_write=(_otel_rows_per_batch,), **ONE_FILE_A_BATCH)
    assert _otel_rows_per_batch.seen == [0, 0]
    assert ledger.execute(REQUESTS).fetchall() == [("msg_1:req_9", "claude", "alice", 321, 0.0123),
                                                   ("otel:req_aux", "otel", "alice", 30, 0.0123)]
    assert summary.requests_new == 2
    otel_file = tmp_path / "a-otel/l.json"
    assert ledger.execute(OTEL_FILES).fetchall() == [(str(otel_file), otel_file.stat().st_size)]
    assert ledger.execute(DRIFT).fetchall() == [("otel", "record_type", "event.brand_new_event", 1,
                                                 str(tmp_path / "a-otel/l.json"))]


def test_a_later_load_writes_its_otel_rows_with_their_batch(ledger, tmp_path):
    _org(tmp_path)
    ingest(ledger, tmp_path / "b-claude")
    _otel_rows_per_batch.seen = []
    summary = ingest(ledger, tmp_path / "a-otel", after_write=(_otel_rows_per_batch,), **ONE_FILE_A_BATCH)
    assert _otel_rows_per_batch.seen == [1]
    assert summary.requests_new == 1
    assert [row[0] for row in ledger.execute(REQUESTS).fetchall()] == ["msg_1:req_9", "otel:req_aux"]


def _cli(root: Path, db: Path, killed_at_the_end: bool) -> subprocess.CompletedProcess:
    """The CLI ingest, a file a batch; `killed_at_the_end`: killed (SIGKILL) where the held-back rows
    would be written."""
    kill = ("import ingest.writer as w\n"
            "w.LedgerWriter.write_held_back = lambda self: os.kill(os.getpid(), signal.SIGKILL)"
            if killed_at_the_end else "")
    argv = ["agentledger", "ingest", str(root), "--db", str(db), "--user", "alice", "--no-progress"]
    code = f"import os, signal, sys\n{kill}\nfrom agentledger.cli import run\nsys.argv = {argv!r}\nsys.exit(run())"
    env = dict(os.environ, AGENTLEDGER_BATCH_BYTES="1")
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)


def _state(db: Path) -> tuple:
    con = connect_writer(db)
    try:
        return (con.execute(REQUESTS).fetchall(), con.execute(DRIFT).fetchall(), con.execute(OTEL_FILES).fetchall(),
                con.execute("SELECT count(*) FROM otel_requests").fetchone()[0])
    finally:
        con.close()


def test_killed_before_the_end_the_next_run_completes_the_ledger(tmp_path):
    root = _org(tmp_path / "logs")
    reference = tmp_path / "reference.duckdb"
    assert _cli(root, reference, killed_at_the_end=False).returncode == 0
    expected = _state(reference)
    assert len(expected[0]) == 2 and expected[1] and expected[2] and expected[3] == 2

    db = tmp_path / "killed.duckdb"
    killed = _cli(root, db, killed_at_the_end=True)
    assert killed.returncode == -signal.SIGKILL
    requests, drift, otel_files, events = _state(db)
    # Every batch is committed, the end is not: no 'otel:' row, and neither the OTel file's cursor nor its drift.
    assert [row[1] for row in requests] == ["claude"] and events == 2
    assert drift == [] and otel_files == []

    rerun = _cli(root, db, killed_at_the_end=False)
    assert rerun.returncode == 0, rerun.stderr
    assert _state(db) == expected
    assert _cli(root, db, killed_at_the_end=False).returncode == 0
    assert _state(db) == expected
