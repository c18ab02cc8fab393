"""Ledgers the dashboard tests share: the demo's own sample when shipped, else the real corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.demo_data import DemoError, DemoOptions, build_demo_db
from ingest.org import OrgMember, load_org
from ingest.runner import IngestOptions, run_ingest
from store.db import reader, writer
from tests.helpers import shared_dir

CORPUS = Path("corpus/iansherr__claude-code-log/test/test_data/real_projects")


def build_ledger(path: Path) -> Path:
    """A ledger with real sessions from several people in two teams."""
    try:
        build_demo_db(path)
        return path
    except DemoError:
        pass
    corpus = shared_dir() / CORPUS
    if not corpus.is_dir():
        pytest.skip(f"neither sample_data/transcripts nor {corpus} is available")
    with writer(path) as con:
        run_ingest(con, IngestOptions(paths=[corpus], user_from_dir=True, progress=False), command="test")
        users = [r[0] for r in con.execute("SELECT DISTINCT user_name FROM requests ORDER BY 1").fetchall()]
        members = [OrgMember(user=u, display_name=u.strip("-").split("-")[-1].title(), team=("web", "platform")[i % 2])
                   for i, u in enumerate(users)]
        load_org(con, members)
    return path


def build_generated_ledger(path: Path, users: int = 12, days: int = 21) -> Path:
    """A generated org (planted loops, reverts, idle burn) when the generator exists, else build_ledger."""
    options = DemoOptions(generate=True, users=users, days=days, seed=11)
    try:
        build_demo_db(path, options, source_dir=path.parent / "org")
    except DemoError:
        return build_ledger(path)
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
