"""Crashes and concurrency: kill -9 at any step, workers, readers and a second scheduled run never
leave the ledger or the reports inconsistent, and never make a run fail."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import shutil
import threading
import time
from pathlib import Path

import duckdb
import pytest

from tests.claude_lines import assistant, prompt, tool_result, tool_use, usage, write_jsonl
from tests.helpers import REPO, shared_dir

SAMPLE = REPO / "sample_data" / "transcripts"
REAL = shared_dir() / "corpus/iansherr__claude-code-log/test/test_data/real_projects"


def _cli(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "agentledger.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env=env, stdin=subprocess.DEVNULL)


def _reports(db: Path) -> tuple:
    """What the reports are built from: the derived tables' contents in short."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return tuple(con.execute(sql).fetchone() for sql in (
            "SELECT count(*), sum(total_tokens), round(sum(cost_usd), 6) FROM request_facts",
            "SELECT count(*), sum(requests) FROM session_day_facts",
            "SELECT count(*) FROM component_day_facts",
            "SELECT count(*) FROM flags",
        ))
    finally:
        con.close()


# A CLI ingest whose process dies (kill -9) at the Nth statement of the refresh (any of its
# connections: the plan's window, a chunk's read, a chunk's window).
_KILLED_IN_REFRESH = textwrap.dedent("""
    import os, signal, sys
    from contextlib import contextmanager
    import analytics.refresh as refresh

    real = refresh.refresh_ledger
    left = [int(sys.argv[1])]

    class Dying:
        def __init__(self, con):
            self._con = con

        def execute(self, *args, **kwargs):
            left[0] -= 1
            if left[0] <= 0:
                os.kill(os.getpid(), signal.SIGKILL)
            return self._con.execute(*args, **kwargs)

        def __getattr__(self, name):
            return getattr(self._con, name)

    class DyingLedger:
        def __init__(self, ledger):
            self._ledger = ledger

        @contextmanager
        def window(self):
            with self._ledger.window() as con:
                yield Dying(con)

        @contextmanager
        def read(self):
            with self._ledger.read() as con:
                yield Dying(con)

    refresh.refresh_ledger = lambda ledger, **kwargs: real(DyingLedger(ledger), **kwargs)
    from agentledger.cli import main
    sys.exit(main(sys.argv[2:]))
""")


@pytest.mark.parametrize("statement", [1, 12, 30])
def test_kill_9_during_the_refresh_is_repaired_by_the_next_run(tmp_path, statement):
    reference = tmp_path / "reference.duckdb"
    assert _cli("ingest", str(SAMPLE), "--user-from-dir", "--db", str(reference)).returncode == 0
    db = tmp_path / "killed.duckdb"
    script = tmp_path / "killed.py"
    script.write_text(_KILLED_IN_REFRESH)
    killed = subprocess.run([sys.executable, str(script), str(statement), "ingest", str(SAMPLE), "--user-from-dir",
                             "--db", str(db)], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert killed.returncode == -signal.SIGKILL, killed.stderr  # it did die inside the refresh
    rerun = _cli("ingest", str(SAMPLE), "--user-from-dir", "--db", str(db))
    assert rerun.returncode == 0, rerun.stderr
    assert " 0 new requests" in rerun.stdout  # nothing new to load: only the refresh was missing
    assert _reports(db) == _reports(reference)


# Chunks of a few hundred rows, each large enough for a read connection, derived two at once.
_TWO_AT_ONCE = {"AGENTLEDGER_DERIVE_CHUNKS_AT_ONCE": "2", "AGENTLEDGER_DERIVE_CHUNK_ROWS": "600",
                "AGENTLEDGER_HELD_CHUNK_ROWS": "0"}


@pytest.mark.parametrize("statement", [20, 45, 70, 80], ids=["computing", "writing the first", "the first written",
                                                             "both written"])
def test_kill_9_between_chunks_derived_at_once_is_repaired_by_the_next_run(tmp_path, statement):
    """Two chunks computed at once are written one transaction each: killed while they are computed,
    in the first's transaction, in the second's (the first committed) or after both, the next run
    derives what is still queued and the figures are whole. (On the sample with these settings the
    read connection runs statements 18-27, the first chunk's transaction 33-50, the second's 57-74.)"""
    reference = tmp_path / "reference.duckdb"
    assert _cli("ingest", str(SAMPLE), "--user-from-dir", "--db", str(reference)).returncode == 0
    db = tmp_path / "killed.duckdb"
    script = tmp_path / "killed.py"
    script.write_text(_KILLED_IN_REFRESH)
    env = {**os.environ, **_TWO_AT_ONCE}
    killed = subprocess.run([sys.executable, str(script), str(statement), "ingest", str(SAMPLE), "--user-from-dir",
                             "--db", str(db)], capture_output=True, text=True, timeout=300, cwd=REPO, env=env)
    assert killed.returncode == -signal.SIGKILL, killed.stderr  # it did die inside the refresh
    rerun = _cli("ingest", str(SAMPLE), "--user-from-dir", "--db", str(db), env=env)
    assert rerun.returncode == 0, rerun.stderr
    assert " 0 new requests" in rerun.stdout
    assert _reports(db) == _reports(reference)


def _descendants(pid: int) -> set[int]:
    """Live processes below `pid` (children, their children...), from /proc."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                parents[int(entry)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_worker_processes_die_with_their_parent(tmp_path):
    logs = tmp_path / "logs"
    for s in range(60):
        lines = []
        for i in range(300):
            ts = f"2026-03-{1 + s % 28:02d}T10:{i % 60:02d}:00.000Z"
            lines.append(assistant(ts, f"msg_{s}_{i}", f"req_{s}_{i}", usage(1, 2, 3, 4),
                                   [tool_use(f"t_{s}_{i}", "Read", {"file_path": f"/f{i}.py"})], session=f"s{s}"))
            lines.append(tool_result(ts, f"t_{s}_{i}", "x" * 3000, session=f"s{s}"))
        write_jsonl(logs / f"u{s % 4}" / f"s{s}.jsonl", lines)
    env = dict(os.environ, AGENTLEDGER_PARALLEL_MIN_BYTES="0", AGENTLEDGER_CHUNK_BYTES="200000")
    process = subprocess.Popen(
        [sys.executable, "-m", "agentledger.cli", "ingest", str(logs), "--user-from-dir", "--db", str(tmp_path / "l.duckdb")],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    deadline = time.monotonic() + 60
    workers: set[int] = set()
    while time.monotonic() < deadline and len(workers) < 2:
        workers = _descendants(process.pid)
        time.sleep(0.05)
    assert len(workers) >= 2, "the run never started its worker processes"
    time.sleep(0.3)
    workers = _descendants(process.pid)
    process.send_signal(signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.1)
    survivors = [pid for pid in workers if _alive(pid)]
    for pid in survivors:  # do not leave them behind for the rest of the suite
        os.kill(pid, signal.SIGKILL)
    assert survivors == []


def test_readers_never_starve_a_scheduled_ingest_and_never_fail(tmp_path):
    from store.db import reader

    db = tmp_path / "l.duckdb"
    assert _cli("ingest", str(SAMPLE), "--user-from-dir", "--db", str(db)).returncode == 0
    incoming = tmp_path / "incoming"
    for n in range(3):
        shutil.copytree(REAL, incoming / f"newcomer{n}" / "projects")
    env = dict(os.environ, AGENTLEDGER_BATCH_BYTES="300000")
    stop = threading.Event()
    seen: list[list[int]] = [[] for _ in range(4)]
    errors: list[str] = []

    def read(n: int) -> None:
        while not stop.is_set():
            try:
                # The way a dashboard page reads: a short read-only connection, a few queries with
                # the page's own work between them, then the next page at once.
                with reader(db) as con:
                    count = con.execute("SELECT count(*) FROM requests").fetchone()[0]
                    time.sleep(0.1)
                    con.execute("SELECT user_name, sum(cost_usd) FROM request_facts GROUP BY ALL").fetchall()
                    time.sleep(0.1)
                seen[n].append(count)
            except Exception as error:  # noqa: BLE001 - any failure of a reader is what this test looks for
                errors.append(f"{type(error).__name__}: {error}")

    threads = [threading.Thread(target=read, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    try:
        started = time.monotonic()
        result = _cli("ingest", str(incoming), "--user-from-dir", "--db", str(db), env=env, timeout=600)
        took = time.monotonic() - started
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert result.returncode == 0, result.stderr
    assert errors == []
    assert all(len(counts) >= 3 for counts in seen), [len(c) for c in seen]
    # Every read saw a committed state, and never an older one than a read before it.
    assert all(counts == sorted(counts) for counts in seen)
    print(f"ingest took {took:.1f} s under {sum(map(len, seen))} reads")


def test_a_second_ingest_waits_then_exits_75_with_one_line(tmp_path):
    from store.ledger import run_lock

    logs = tmp_path / "logs"
    write_jsonl(logs / "p" / "s.jsonl", [prompt("2026-03-01T10:00:00.000Z", "hi"),
                                         assistant("2026-03-01T10:00:01.000Z", "m", "r", usage(1, 1), [])])
    db = tmp_path / "l.duckdb"
    with run_lock(db, 1, "ingest"):
        started = time.monotonic()
        busy = _cli("ingest", str(logs), "--db", str(db), "--user", "al", "--wait", "1")
        waited = time.monotonic() - started
    assert busy.returncode == 75
    assert busy.stderr.count("\n") == 1 and "busy" in busy.stderr and f"pid {os.getpid()}" in busy.stderr
    assert 1 <= waited < 30
    # A run that waits long enough goes ahead once the first one is done.
    holder = threading.Thread(target=lambda: _hold(db, 1.0))
    holder.start()
    time.sleep(0.2)
    patient = _cli("ingest", str(logs), "--db", str(db), "--user", "al", "--wait", "60")
    holder.join()
    assert patient.returncode == 0, patient.stderr


def _hold(db: Path, seconds: float) -> None:
    from store.ledger import run_lock

    with run_lock(db, 5, "ingest"):
        time.sleep(seconds)
