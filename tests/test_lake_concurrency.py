"""Many ingest workers on one lake: disjoint and overlapping shards, one killed with -9 mid-run and
restarted, a dashboard reading throughout; the reports are byte-identical to a single-file ingest."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from analytics import queries
from analytics.export import to_csv
from analytics.reports import REPORTS, run_report
from sample_data.generator import generate
from store.db import reader
from tests import lake_services
from tests.dashboard_app import assert_clean, render

CLI = [sys.executable, "-m", "agentledger.cli"]
# Small batches: each worker commits many times, so commits interleave, conflict and get redone,
# and the worker killed below is killed between two of its commits.
BATCH_BYTES = "200000"


# The worker to be killed commits in still smaller batches: it is certainly mid-run when it dies.
VICTIM_BATCH_BYTES = "40000"


def _worker(env: dict[str, str], org: Path, *extra: str, batch_bytes: str = BATCH_BYTES) -> subprocess.Popen:
    return subprocess.Popen([*CLI, "ingest", str(org), "--user-from-dir", "--no-progress", *extra],
                            env={**env, "AGENTLEDGER_BATCH_BYTES": batch_bytes},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _kill_after_first_batch(target, victim: subprocess.Popen, killed: threading.Event) -> None:
    """Watch closely; kill -9 the moment the victim has committed a batch (and is still running)."""
    while victim.poll() is None:
        if _committed_batches(target, victim.pid) >= 1:
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            killed.set()
            return
        time.sleep(0.05)


def _committed_batches(target, pid: int) -> int:
    """Files the worker `pid` has committed to the lake so far."""
    with reader(target) as con:
        return con.execute("SELECT count(*) FROM source_files WHERE last_run_id IN"
                           " (SELECT run_id FROM ingest_runs WHERE pid = ?)", [pid]).fetchall()[0][0]


def _reports(db) -> dict[str, bytes]:
    with reader(db) as con:
        return {kind: to_csv(run_report(con, kind, None)) for kind in REPORTS}


def _requests_seen(target) -> int:
    with reader(target) as con:
        return int(queries.summary(con)["requests"][0])


@pytest.fixture(scope="module")
def org(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("org")
    generate(out, users=6, days=4, seed=11)
    return out


def test_four_workers_one_killed_give_the_single_files_reports_while_a_dashboard_reads(lake, org, tmp_path, monkeypatch):
    env = lake_services.lake_env(lake)
    # The lake exists before the workers start (so the dashboard has something to open); the
    # workers still race to migrate it, and to create DuckLake's own tables on an empty catalog.
    subprocess.run([*CLI, "org", "load", str(org / "org.csv")], env=env, check=True, capture_output=True)
    monkeypatch.setenv("AGENTLEDGER_DB", lake.spec)

    workers = {
        "shard 0/2": _worker(env, org, "--shard", "0/2"),
        "shard 1/2": _worker(env, org, "--shard", "1/2"),
        "all (killed)": _worker(env, org, batch_bytes=VICTIM_BATCH_BYTES),
        "shard 1/2 again": _worker(env, org, "--shard", "1/2"),
    }
    victim = workers["all (killed)"]
    killed = threading.Event()
    watcher = threading.Thread(target=_kill_after_first_batch, args=(lake, victim, killed), daemon=True)
    watcher.start()
    seen: list[int] = []
    pages = 0
    deadline = time.monotonic() + 600
    restarted = False
    while time.monotonic() < deadline:
        if killed.is_set() and not restarted:
            workers["all (restarted)"] = _worker(env, org)
            restarted = True
        # The dashboard keeps reading: every page render clean (its default page: the overview once
        # there is data; and the data-health page), the totals never going back.
        for page in (None, "views/health.py"):
            assert_clean(render(page))
            pages += 1
        seen.append(_requests_seen(lake))
        if restarted and all(p.poll() is not None for p in workers.values()):
            break
    watcher.join(timeout=60)
    assert killed.is_set() and victim.returncode == -signal.SIGKILL, "the worker to kill finished first"
    for name, process in workers.items():
        out, err = process.communicate(timeout=600)
        if process is not victim:
            assert process.returncode == 0, f"{name}: {err}"
    assert seen == sorted(seen), "a reader saw the totals go back"
    assert pages >= 2

    # The single file, from the same files.
    single = tmp_path / "single.duckdb"
    subprocess.run([*CLI, "ingest", str(org), "--user-from-dir", "--no-progress", "--db", str(single)],
                   check=True, capture_output=True, env={k: v for k, v in os.environ.items() if k != "AGENTLEDGER_DB"})
    subprocess.run([*CLI, "org", "load", str(org / "org.csv"), "--db", str(single)], check=True, capture_output=True)
    lake_reports, file_reports = _reports(lake), _reports(single)
    for kind in REPORTS:
        assert lake_reports[kind] == file_reports[kind], kind
    assert seen[-1] == _requests_seen(lake)

    with reader(lake) as con:
        runs = con.execute("SELECT run_id, status, pid FROM ingest_runs ORDER BY run_id").fetchall()
        writes = con.execute("SELECT writes FROM lake_writes").fetchall()[0][0]
    assert len({run_id for run_id, _, _ in runs}) == len(runs) == 5, "every run got its own id"
    assert [status for _, status, pid in runs if pid == victim.pid] == ["aborted"]
    assert [status for _, status, pid in runs if pid != victim.pid] == ["ok"] * 4
    assert writes > 20, "the workers committed batch by batch"
