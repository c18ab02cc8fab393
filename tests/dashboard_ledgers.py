"""Ledgers the dashboard tests share: the demo built from the shipped sample, or a generated org."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentledger.demo import DemoOptions, build_demo_db, shipped_sample
from agentledger.pipeline import ingest_and_refresh
from ingest.org import load_org, read_org_csv
from ingest.runner import IngestOptions
from store.db import reader, writer
from tests.helpers import shared_dir

# Real transcripts an ingest can load while the dashboard reads (test_dashboard_concurrency).
CORPUS = Path("corpus/iansherr__claude-code-log/test/test_data/real_projects")
# Real pairs of agent logs and the repository they worked in: their transcripts are real sessions too.
PAIRS = Path("corpus/pairs")


def build_ledger(path: Path) -> Path:
    """The demo ledger from the shipped sample: several people in teams, every source, planted waste.
    A missing sample fails the tests loudly (DemoError) rather than switching to other data."""
    build_demo_db(path)
    return path


def build_unscanned_ledger(path: Path) -> Path:
    """The shipped sample's sessions and org with no git repository scanned: what a team has before
    it runs `agentledger git scan`."""
    transcripts, org = shipped_sample()
    with writer(path) as con:
        ingest_and_refresh(con, IngestOptions(paths=[transcripts], user_from_dir=True, progress=False))
        load_org(con, read_org_csv(org))
    return path


def build_generated_ledger(path: Path, users: int = 12, days: int = 21, seed: int = 11) -> Path:
    """A generated org (planted loops, reverts, idle burn)."""
    build_demo_db(path, DemoOptions(generate=True, users=users, days=days, seed=seed), source_dir=path.parent / "org")
    return path


def build_real_corpus_ledger(path: Path) -> Path:
    """Every real transcript of the shared corpus, one person per folder (as a collector's
    ROOT/<user>/... layout gives): the real projects folder by folder, and each pair's logs under its
    pair's name. No org directory: real logs come without one."""
    with writer(path) as con:
        for root in (CORPUS, PAIRS):
            ingest_and_refresh(con, IngestOptions(paths=[shared_dir() / root], user_from_dir=True, progress=False))
    return path


def empty_ledger(path: Path) -> Path:
    """A migrated ledger with no requests: what a fresh install looks like."""
    with writer(path):
        pass
    return path


def some_session(path: Path, flagged: bool = False) -> str:
    """A session id with the most requests (its timeline has something to draw), flagged if asked and any is."""
    with reader(path) as con:
        if flagged:
            row = con.execute(
                "SELECT session_id FROM flags GROUP BY 1 ORDER BY count(DISTINCT flag) DESC, 1 LIMIT 1"
            ).fetchone()
            if row:
                return row[0]
        return con.execute(
            "SELECT session_id FROM requests GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()[0]


def some_team_and_user(path: Path) -> tuple[str, str]:
    """A (team, user) pair present in both the org directory and the requests."""
    with reader(path) as con:
        return con.execute(
            "SELECT o.team, o.user_name FROM org_users o JOIN requests r USING (user_name)"
            " WHERE o.team IS NOT NULL GROUP BY ALL ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()


@pytest.fixture(scope="session")
def dashboard_db(tmp_path_factory) -> Path:
    """One ledger with data for every dashboard test in the run (read-only use)."""
    return build_ledger(tmp_path_factory.mktemp("dashboard") / "ledger.duckdb")
