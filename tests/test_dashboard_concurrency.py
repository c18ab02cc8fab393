"""Real operation: the dashboard keeps answering while a scheduled ingest writes to the same ledger."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import streamlit as st

from dashboard import auth, data
from analytics.filters import Filters
from store.db import DB_ENV_VAR
from tests.dashboard_ledgers import CORPUS, build_ledger
from tests.helpers import shared_dir


def _dashboard_reads(db: Path) -> list[str]:
    """What a page render does against the file, with the cache cleared so every read hits the file."""
    st.cache_data.clear()
    auth.admit()  # what the router does first: the local viewer (reads without one are refused)
    state = data.db_state(str(db))
    assert state.ok, state
    data.health_facts(str(db))
    choices = data.filter_choices()
    data.report("users", Filters(date_from=choices.first_day, date_to=choices.last_day))
    return ["health", "choices", "users report"]


def test_dashboard_reads_and_an_ingest_run_at_the_same_time(tmp_path, monkeypatch):
    db = build_ledger(tmp_path / "ledger.duckdb")
    monkeypatch.setenv(DB_ENV_VAR, str(db))
    # A second copy of real transcripts under new paths: the ingest has real work to write.
    incoming = tmp_path / "incoming"
    shutil.copytree(shared_dir() / CORPUS, incoming / "newcomer" / "projects")
    ingest = subprocess.Popen(
        [sys.executable, "-m", "agentledger.cli", "ingest", str(incoming), "--user-from-dir", "--db", str(db),
         "--no-progress"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    reads, conflicts_survived = 0, 0
    started = time.monotonic()
    while ingest.poll() is None or reads < 3:
        t0 = time.monotonic()
        _dashboard_reads(db)
        if time.monotonic() - t0 > 0.5:
            conflicts_survived += 1  # this read waited for the writer's lock and still succeeded
        reads += 1
        assert time.monotonic() - started < 120, "dashboard reads or ingest hung"
    out, err = ingest.communicate(timeout=60)
    assert ingest.returncode == 0, err
    assert "ingest run" in out
    assert reads >= 3
    # After the ingest, a fresh read sees the run it just recorded (the copies dedupe to no new requests).
    st.cache_data.clear()
    latest = data.health_facts(str(db))["runs"].row(0, named=True)
    assert latest["status"] == "ok" and latest["files_new"] > 0
    print(f"{reads} dashboard reads during the ingest, {conflicts_survived} waited for the writer's lock")
