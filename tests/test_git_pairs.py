"""Real agent logs and the repositories they worked in (../shared/corpus/pairs): links and line
counts equal the figures worked out by hand with git in each pair's truth.json.

Exact, not within a tolerance: truth.json counts lines with the rules docs/metrics.md states
(multiset match against the session's carried-forward pool, first copies in file order, plain
blame at the head), and these figures are computed with the same rules, so any difference is a bug.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from agentledger.pipeline import scan_git
from store.db import connect_writer
from tests.helpers import ingest, shared_dir

PAIRS = shared_dir() / "corpus" / "pairs"
SPOTTER, TOKENIZER = PAIRS / "marot__spotter", PAIRS / "daaain__online-llm-tokenizer"
MISSING_BLOB = "1dc7f09d5b59d51f9ae09db899b6be4f671f0aa2"

pytestmark = pytest.mark.skipif(not PAIRS.is_dir(), reason="../shared/corpus/pairs is not beside the checkout")


def _git(*args: str, cwd: Path | None = None, stdin: str | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True, text=True, check=True).stdout


def restore_spotter(target: Path) -> Path:
    """As the pairs README says: a filtered v3 bundle is unbundled into a bare repository, and a
    placeholder stands in (refs/replace, no commit or tree sha changes) for the blob it lacks."""
    repo = target / "spotter.git"
    _git("init", "-q", "--bare", str(repo))
    for line in _git("--git-dir", str(repo), "bundle", "unbundle", str(SPOTTER / "marot__spotter.bundle")).splitlines():
        sha, ref = line.split()
        if ref != "HEAD":
            _git("--git-dir", str(repo), "update-ref", ref, sha)
    _git("--git-dir", str(repo), "symbolic-ref", "HEAD", "refs/heads/master")
    placeholder = _git("--git-dir", str(repo), "hash-object", "-w", "--stdin", stdin="placeholder\n").strip()
    _git("--git-dir", str(repo), "update-ref", f"refs/replace/{MISSING_BLOB}", placeholder)
    return repo


def restore_tokenizer(target: Path) -> Path:
    repo = target / "online-llm-tokenizer.git"
    _git("clone", "-q", "--mirror", str(TOKENIZER / "daaain__online-llm-tokenizer.bundle"), str(repo))
    return repo


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    root = tmp_path_factory.mktemp("pairs")
    repos = [restore_spotter(root), restore_tokenizer(root)]
    con = connect_writer(root / "ledger.duckdb")
    ingest(con, SPOTTER / "test", user="marot")
    ingest(con, TOKENIZER / "test", user="dain")
    first = scan_git(con, repos)
    second = scan_git(con, repos)
    yield con, first, second, repos
    con.close()


def _truth(pair: Path) -> dict:
    return json.loads((pair / "truth.json").read_text())


def _truth_commits():
    for pair in (SPOTTER, TOKENIZER):
        for session in _truth(pair)["sessions"]:
            for commit in session["commits"]:
                yield session["session_ids"][0], commit


def test_links_are_the_landed_commits_of_truth(pairs):
    con = pairs[0]
    links = {(sid, sha): printed for sid, sha, printed in
             con.execute("SELECT session_id, sha, printed_sha FROM git_links").fetchall()}
    expected = {(sid, c["landed_sha"]): c for sid, c in _truth_commits()}
    assert set(links) == set(expected)
    for key, commit in expected.items():
        printed = [commit["printed"]["sha"]] + ([commit["amends_printed"]["sha"]] if commit["amends_printed"] else [])
        assert set(links[key].split()) == set(printed), key


def test_link_signals(pairs):
    con = pairs[0]
    signals = dict(con.execute("SELECT sha, signal FROM git_links").fetchall())
    for _, commit in _truth_commits():
        # A printed sha on the default branch is signal 1; a rebased or amended copy is signal 2.
        on_branch = commit["printed_sha_in_repo"] and "measured branch" in commit["link_signal"] \
            and "off-branch" not in commit["link_signal"]
        assert signals[commit["landed_sha"]] == (1 if on_branch else 2), commit["landed_sha"]


def test_committed_and_surviving_agent_lines_per_commit(pairs):
    con = pairs[0]
    got = {sha: (committed, alive) for sha, committed, alive in con.execute(
        "SELECT sha, count(*), count(*) FILTER (WHERE alive_head) FROM commit_agent_lines GROUP BY sha").fetchall()}
    for _, commit in _truth_commits():
        expected = (commit["agent_lines_committed_nonblank"], commit["survival"]["plain"]["agent_lines_surviving"])
        assert got.get(commit["landed_sha"], (0, 0)) == expected, commit["landed_sha"]


@pytest.mark.parametrize("pair", [SPOTTER, TOKENIZER], ids=["spotter", "tokenizer"])
def test_session_totals(pairs, pair):
    con = pairs[0]
    for session in _truth(pair)["sessions"]:
        sid, totals = session["session_ids"][0], session["totals"]
        written, committed, alive = con.execute(
            "SELECT sum(lines_written), sum(lines_committed), sum(lines_alive_head) FROM edit_outcomes"
            " WHERE session_id = ?", [sid]).fetchone()
        # Written lines inside the repository root: truth counts those before the last commit and
        # those after it separately.
        assert written == totals["agent_lines_written_nonblank_before_last_commit"] \
            + session["agent_lines_written_after_last_commit_nonblank"], sid
        assert committed == totals["agent_lines_committed_nonblank"], sid
        assert alive == totals["agent_lines_surviving_plain"], sid


def test_pair_totals(pairs):
    con = pairs[0]
    truth = _truth(SPOTTER)["totals"]
    committed, alive = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE alive_head) FROM commit_agent_lines a"
        " JOIN git_repos r USING (repo_id) WHERE r.name = 'spotter'").fetchone()
    assert (committed, alive) == (truth["agent_lines_committed_nonblank"], truth["agent_lines_surviving_at_head"]["plain"])


def test_laptop_roots_come_from_the_evidence(pairs):
    con = pairs[0]
    roots = dict(con.execute("SELECT session_id, root FROM session_repos").fetchall())
    assert roots["8463c716-a2ea-4c14-9efa-87158ebd9f20"] == "/home/USER/projects/spotter-worktrees/spotter-fum"
    # The cd prefix beats the message's cwd (which was the other repository).
    assert roots["9e953218-585f-4692-89df-9e0747a31c68"] == "/Users/dain/workspace/online-llm-tokenizer"


def test_numstat_of_landed_commits(pairs):
    con = pairs[0]
    got = {sha: (a, r) for sha, a, r in con.execute("SELECT sha, lines_added, lines_removed FROM git_commits").fetchall()}
    for _, commit in _truth_commits():
        assert got[commit["landed_sha"]] == (commit["lines_added"], commit["lines_removed"])


def test_coverage_counts_printed_commits_of_unscanned_repositories(pairs):
    from analytics.git_outcomes import coverage_line

    # The tokenizer session also committed twice in danieldemmel.me-next, which is not scanned.
    assert "printed commits found in no scanned repository: 2;" in coverage_line(pairs[0])


def test_rescan_reads_nothing_and_changes_nothing(pairs):
    con, first, second, _ = pairs
    assert all(scan.new_commits > 0 for scan in first.repos)
    assert all(scan.unchanged and scan.new_commits == 0 for scan in second.repos)
    assert second.derived.links == first.derived.links == 24
    assert second.blamed == {}


def test_any_order_of_logs_and_scans_derives_what_a_full_refresh_does(pairs, tmp_path):
    from tests.test_git_outcomes import assert_same_as_full, derived

    con, _, _, repos = pairs
    other = connect_writer(tmp_path / "other.duckdb")
    try:
        # Repositories first, then one pair's logs at a time: each ingest's refresh derives only its sessions.
        scan_git(other, repos)
        ingest(other, SPOTTER / "test", user="marot")
        ingest(other, TOKENIZER / "test", user="dain")
        scan_git(other, repos)        # blame for the links the ingests made
        assert derived(other) == derived(con)
        assert_same_as_full(other)
    finally:
        other.close()
