"""A run killed at any moment (kill -9) leaves the ledger as before or after a batch; the next run completes it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import duckdb
import pytest

from store.db import connect_writer
from tests.claude_lines import assistant, prompt, tool_result, tool_use, usage, write_jsonl
from tests.helpers import ingest, totals


@pytest.fixture(scope="module")
def many_sessions(tmp_path_factory):
    root = tmp_path_factory.mktemp("logs")
    for s in range(120):
        lines = []
        for i in range(40):
            ts = f"2026-03-{1 + s % 28:02d}T10:{i:02d}:00.000Z"
            lines.append(prompt(ts, f"step {i}", session=f"s{s}"))
            lines.append(assistant(ts, f"msg_{s}_{i}", f"req_{s}_{i}", usage(1, i + 1, 10, 100 + s),
                                   [tool_use(f"toolu_{s}_{i}", "Read", {"file_path": f"/f{i}.py"})], session=f"s{s}"))
            lines.append(tool_result(ts, f"toolu_{s}_{i}", "x" * 2000, session=f"s{s}"))
        write_jsonl(root / f"p{s % 7}" / f"s{s}.jsonl", lines)
    return root


def _start_ingest(logs, db, batch_bytes: int) -> subprocess.Popen:
    env = dict(os.environ, AGENTLEDGER_BATCH_BYTES=str(batch_bytes))
    return subprocess.Popen(
        [sys.executable, "-m", "agentledger.cli", "ingest", str(logs), "--db", str(db), "--user", "al"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def _consistent(con) -> None:
    # Facts and the manifest commit together: no request from a file the manifest does not know.
    orphans = con.execute(
        "SELECT count(*) FROM requests WHERE file_path NOT IN (SELECT path FROM source_files)"
    ).fetchone()[0]
    assert orphans == 0
    # A file's cursor never points past what was loaded: every file known is loaded whole.
    partial = con.execute(
        "SELECT count(*) FROM source_files f WHERE (SELECT count(*) FROM requests r WHERE r.file_path = f.path) <> 40"
    ).fetchone()[0]
    assert partial == 0


@pytest.mark.parametrize("kill_after", [0.4, 0.8, 1.3, 2.0])
def test_kill_9_mid_run_then_rerun_gives_the_full_ledger(many_sessions, tmp_path, kill_after):
    reference = tmp_path / "reference.duckdb"
    con = connect_writer(reference)
    ingest(con, many_sessions)
    expected = totals(con)
    con.close()

    db = tmp_path / "killed.duckdb"
    process = _start_ingest(many_sessions, db, batch_bytes=200_000)
    time.sleep(kill_after)
    process.send_signal(signal.SIGKILL)
    process.wait()

    if db.exists():
        try:
            con = connect_writer(db)
        except duckdb.Error as error:  # pragma: no cover - would be the bug this test exists for
            pytest.fail(f"ledger unreadable after kill -9: {error}")
        _consistent(con)
        con.close()

    rerun = subprocess.run(
        [sys.executable, "-m", "agentledger.cli", "ingest", str(many_sessions), "--db", str(db), "--user", "al"],
        capture_output=True, text=True,
    )
    assert rerun.returncode == 0, rerun.stderr
    con = connect_writer(db)
    assert totals(con) == expected
    assert con.execute("SELECT count(*) FROM requests").fetchone()[0] == 120 * 40
    _consistent(con)
    con.close()
