"""Outcomes planted in a generated org's repositories (sample_data/git_repos.py) are what AgentLedger
finds: every session's link (commit and signal), its lines written, committed, landed and alive at
7 and 30 days and at the head, and the coverage figures. The generator works these out from what it
did to each repository, not with AgentLedger's code. Then the same on the shipped sample through
`agentledger demo`, and the outcomes and commits reports on it."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter

import polars as pl
import pytest

from agentledger.cli import main as cli_main
from agentledger.demo import build_demo_db
from agentledger.pipeline import scan_git
from analytics import queries
from analytics.filters import Filters
from analytics.reports import run_report
from ingest.git.scan import read_path_map
from ingest.org import load_org, read_org_csv
from sample_data.generator import generate
from sample_data.ground_truth import load
from sample_data.paths import committed_ground_truth
from store.db import connect_writer
from tests.helpers import ingest

OUTCOMES = {"main", "rebased", "squashed", "abandoned", "person", "uncommitted", "discarded", "none"}


@pytest.fixture(scope="module")
def org(tmp_path_factory):
    root = tmp_path_factory.mktemp("org")
    generate(root, users=6, days=12, seed=3, profile="compact")
    con = connect_writer(root / "ledger.duckdb")
    ingest(con, root, user=None, user_from_dir=True)
    load_org(con, read_org_csv(root / "org.csv"))
    git = root / "git"
    scan_git(con, sorted(git.glob("*.git")), read_path_map(git / "paths.csv"))
    yield con, load(root / "ground_truth.json")["git"]
    con.close()


def _sessions(truth: dict) -> dict[str, dict]:
    return {s["session_id"]: s for s in truth["sessions"]}


def test_the_org_plants_every_kind_of_outcome(org):
    _, truth = org
    kinds = Counter(s["outcome"] for s in truth["sessions"])
    assert set(kinds) == OUTCOMES
    assert any(s["lines_deleted"] for s in truth["sessions"]) and truth["agent_commits_without_logs"] > 0


def test_each_session_is_linked_to_its_planted_commit_by_its_signal(org):
    con, truth = org
    links: dict[str, list[tuple]] = {}
    for sid, sha, signal, landed in con.execute("SELECT session_id, sha, signal, landed FROM git_links").fetchall():
        links.setdefault(sid, []).append((sha, signal, landed))
    expected = {}
    for s in truth["sessions"]:
        if s["signal"] is None:
            continue
        if s["outcome"] == "abandoned":      # the printed commit, on a branch that never landed
            expected[s["session_id"]] = [(con.execute("SELECT sha FROM git_commits WHERE starts_with(sha, ?)",
                                                      [s["printed_sha"]]).fetchone()[0], 1, False)]
        else:
            expected[s["session_id"]] = [(s["landed_sha"], s["signal"], True)]
    assert links == expected


def test_each_sessions_lines_written_committed_landed_and_alive(org):
    con, truth = org
    got = {sid: rest for sid, *rest in con.execute(
        "SELECT session_id, sum(lines_written), sum(lines_committed), sum(lines_landed), sum(lines_alive_head),"
        " CASE WHEN sum(lines_due_7d) > 0 THEN sum(lines_alive_7d) END,"
        " CASE WHEN sum(lines_due_30d) > 0 THEN sum(lines_alive_30d) END"
        " FROM edit_outcomes GROUP BY session_id").fetchall()}
    for sid, s in _sessions(truth).items():
        written, committed, landed, alive, alive_7d, alive_30d = got.get(sid, (0, 0, 0, 0, None, None))
        assert (written, committed, landed, alive) == (s["lines_written"], s["lines_committed"], s["lines_landed"],
                                                        s["lines_alive_head"]), (sid, s["outcome"])
        if s["lines_landed"]:
            assert (alive_7d, alive_30d) == (s["lines_alive_7d"], s["lines_alive_30d"]), (sid, s["outcome"])


def test_coverage_counts_agent_commits_without_logs_and_maps_every_session(org):
    con, truth = org
    row = queries.git_coverage(con).row(0, named=True)
    assert row["repositories"] == len(truth["repos"])
    assert row["agent_commits_without_logs"] == truth["agent_commits_without_logs"]
    assert row["printed_not_found"] == truth["printed_not_found"]
    assert row["unmapped_sessions"] == 0            # the mapping file names every checkout


def test_the_outcomes_report_adds_up_to_the_planted_lines(org):
    con, truth = org
    teams = run_report(con, "outcomes", Filters()).filter(pl.col("level") == "team")
    sessions = truth["sessions"]
    assert int(teams["lines_landed"].sum()) == sum(s["lines_landed"] for s in sessions)
    # Every landed commit counts once (a squash's printed branch commit is not one).
    assert int(teams["landed_commits"].sum()) == len({s["landed_sha"] for s in sessions if s["landed_sha"]})


# -- the shipped sample through `agentledger demo` ---------------------------------------------------

@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    db = tmp_path_factory.mktemp("demo") / "sample.duckdb"
    build_demo_db(db)
    return db


def test_the_demo_scans_the_samples_repositories_and_recovers_its_outcomes(demo):
    truth = json.loads(committed_ground_truth().read_text())["git"]
    con = connect_writer(demo)
    try:
        links = dict(con.execute("SELECT session_id, sha FROM git_links").fetchall())
        landed = dict(con.execute("SELECT session_id, sum(lines_landed) FROM edit_outcomes GROUP BY 1").fetchall())
    finally:
        con.close()
    planted = {s["session_id"]: s for s in truth["sessions"] if s["landed_sha"]}
    assert planted and links == {sid: s["landed_sha"] for sid, s in planted.items()}
    assert {sid: landed[sid] for sid in planted} == {sid: s["lines_landed"] for sid, s in planted.items()}


def test_report_outcomes_and_commits_on_the_sample(demo, capsys):
    truth = json.loads(committed_ground_truth().read_text())["git"]
    assert cli_main(["report", "commits", "--db", str(demo), "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    linked = [r for r in rows if r["session_ids"]]
    assert sorted(r["sha"] for r in linked) == sorted(s["landed_sha"] for s in truth["sessions"] if s["landed_sha"])
    assert len(rows) - len(linked) == truth["agent_commits_without_logs"]
    assert all(r["agent"] == "claude" for r in rows if not r["session_ids"])
    assert cli_main(["report", "outcomes", "--db", str(demo), "--format", "csv"]) == 0
    people = [r for r in csv.DictReader(io.StringIO(capsys.readouterr().out)) if r["level"] == "person"]
    assert sum(int(r["lines_landed"]) for r in people) == sum(s["lines_landed"] for s in truth["sessions"])
