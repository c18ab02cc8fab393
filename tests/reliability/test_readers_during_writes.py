"""Readers are never locked out: while an ingest and a chunked re-derive write the ledger in many
windows, readers hammering it all get their answer from a committed state, each within the one
window it arrived in, and the writer finishes. (Behaviour, not timing: what is checked is the order
of events, which no machine load changes.)"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from tests.helpers import REPO, shared_dir

SAMPLE = REPO / "sample_data" / "transcripts"
REAL = shared_dir() / "corpus/iansherr__claude-code-log/test/test_data/real_projects"

# The CLI, with every write window of the ledger logged (when it opened and closed, on the clock all
# processes share): the test's only addition to the real command.
_LOGGED_WRITER = textwrap.dedent("""
    import sys, time
    from contextlib import contextmanager
    import store.db as db

    log = open(sys.argv[1], "a", buffering=1)
    window = db.FileLedger.window

    @contextmanager
    def logged(self):
        with window(self) as con:
            opened = time.monotonic()
            yield con
        log.write(f"{opened} {time.monotonic()}\\n")

    db.FileLedger.window = logged
    from agentledger.cli import main
    sys.exit(main(sys.argv[2:]))
""")

# What a dashboard page or `report` does, and invariants every committed state keeps: a chunk's
# rows and rollups are replaced in one transaction, so request_facts and session_day_facts always
# agree, and a session is never both derived and missing its rollup.
_READ = """
SELECT (SELECT count(*) FROM requests),
       (SELECT count(*) FROM request_facts),
       (SELECT coalesce(sum(requests), 0) FROM session_day_facts),
       (SELECT count(*) FROM (SELECT DISTINCT session_id FROM request_facts
                              EXCEPT SELECT DISTINCT session_id FROM session_day_facts))
"""


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "agentledger.cli", *args], capture_output=True, text=True,
                          timeout=600, env=env, stdin=subprocess.DEVNULL, cwd=REPO)


def test_readers_hammering_a_long_ingest_and_rederive_get_in_within_one_window(tmp_path):
    from store.db import reader

    db = tmp_path / "l.duckdb"
    assert _cli("ingest", str(SAMPLE), "--user-from-dir", "--db", str(db)).returncode == 0
    incoming = tmp_path / "incoming"
    for n in range(2):
        shutil.copytree(REAL, incoming / f"newcomer{n}" / "projects")
    # Small batches and small derive chunks: many windows. A changed threshold: every session of the
    # ledger is derived again, chunk by chunk, in the same scheduled run (no budget limit here).
    env = dict(os.environ, AGENTLEDGER_BATCH_BYTES="200000", AGENTLEDGER_DERIVE_CHUNK_ROWS="150",
               AGENTLEDGER_REDERIVE_SECONDS_PER_RUN="100000", AGENTLEDGER_LOOP_MIN_REPEATS="4")
    windows_log = tmp_path / "windows.log"
    script = tmp_path / "writer.py"
    script.write_text(_LOGGED_WRITER)

    stop = threading.Event()
    reads: list[tuple[float, float, float, tuple]] = []   # (arrived, in, done, what it read)
    errors: list[str] = []

    def hammer() -> None:
        while not stop.is_set():
            arrived = time.monotonic()
            try:
                with reader(db) as con:
                    entered = time.monotonic()
                    row = con.execute(_READ).fetchone()
                reads.append((arrived, entered, time.monotonic(), row))
            except Exception as error:  # noqa: BLE001 - any failure of a reader is what this test looks for
                errors.append(f"{type(error).__name__}: {error}")

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        started = time.monotonic()
        writer = subprocess.run([sys.executable, str(script), str(windows_log), "ingest", str(incoming),
                                 "--user-from-dir", "--db", str(db), "--no-progress"],
                                capture_output=True, text=True, timeout=600, env=env, cwd=REPO)
        ended = time.monotonic()
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert writer.returncode == 0, writer.stderr
    assert errors == []
    windows = sorted(tuple(map(float, line.split())) for line in windows_log.read_text().splitlines())
    # Many windows (batches, then chunks of the re-derive), and readers got in between them: in
    # most of the gaps between one window and the next, some reader read.
    assert len(windows) >= 10, len(windows)
    gaps = list(zip((closed for _, closed in windows), (opened for opened, _ in windows[1:])))
    served = [gap for gap in gaps if any(gap[0] <= entered <= gap[1] for _, entered, _, _ in reads)]
    assert len(served) >= len(gaps) // 2, (len(served), len(gaps))
    assert all(started < w[0] and w[1] < ended for w in windows)
    # Each reader waited for at most the one window it arrived during: no window opened after it
    # arrived and before it was in, except possibly the one closing its gate as it came.
    for arrived, entered, _, _ in reads:
        opened_meanwhile = [w for w in windows if arrived < w[0] < entered]
        assert len(opened_meanwhile) <= 1, (arrived, entered, opened_meanwhile)
    # Every read saw a committed state: rows only ever added, a chunk's rows and rollups together.
    for _, _, _, (requests, facts, rolled_up, unrolled) in reads:
        assert facts == rolled_up and unrolled == 0
    counts = [row[0] for _, _, _, row in sorted(reads, key=lambda r: r[1])]
    assert counts == sorted(counts)
    print(f"{len(windows)} windows, {len(reads)} reads, {len(served)} of {len(gaps)} gaps served")
    # The re-derive ran in this scheduled run, in chunks, and finished: nothing is left queued.
    with reader(db) as con:
        assert con.execute("SELECT count(*) FROM derive_queue").fetchone()[0] == 0


def test_a_reader_arriving_between_windows_gets_in_without_waiting_for_the_next_one(tmp_path):
    """The writer keeps the file open from one window to the next while nobody reads; a reader that
    comes between windows makes it let go then, not at its next window nor at the end of its run."""
    from store.db import open_ledger, reader

    db = tmp_path / "l.duckdb"
    got: list = []

    def read() -> None:
        with reader(db, wait_seconds=30) as con:
            got.append(con.execute("SELECT count(*) FROM ingest_runs").fetchone()[0])

    with open_ledger(db) as ledger:
        with ledger.window() as first:
            first.execute("INSERT INTO ingest_runs (run_id, started_at, status) VALUES (1, now(), 'ok')")
        with ledger.window() as second:
            assert second is first    # nobody waited: the file stayed open, no checkpoint between
        thread = threading.Thread(target=read)
        thread.start()
        thread.join(20)               # no window opens meanwhile: only the writer letting go lets it in
        assert got == [1]
        with ledger.window() as third:
            third.execute("INSERT INTO ingest_runs (run_id, started_at, status) VALUES (2, now(), 'ok')")
    assert not Path(f"{db}.wal").exists()   # the end of the run merged its log into the file
    with reader(db) as con:
        assert con.execute("SELECT count(*) FROM ingest_runs").fetchone()[0] == 2


def test_a_writer_holding_more_than_its_share_of_memory_lets_the_file_go(tmp_path, monkeypatch):
    """A held connection caches every block it touched: past HELD_MEMORY_BYTES the window's end lets
    the file go (its cache with it), below it the next window gets the same connection."""
    import store.db as store_db

    db = tmp_path / "l.duckdb"
    with store_db.open_ledger(db) as ledger:
        with ledger.window() as first:
            first.execute("CREATE TABLE big AS SELECT range AS n, repeat('x', 64) AS pad FROM range(200000)")
        with ledger.window() as second:
            assert second is first          # far below the bound (256 MiB): still held
            held = store_db._memory_bytes(second)
        assert held > 0                     # what the bound is checked against sees the cached blocks
        monkeypatch.setattr(store_db, "HELD_MEMORY_BYTES", held - 1)
        with ledger.window() as third:
            assert third is first
        with ledger.window() as fourth:
            assert fourth is not first      # past the bound: the third window's end let the file go
            assert fourth.execute("SELECT count(*) FROM big").fetchone()[0] == 200000
