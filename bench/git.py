"""Cost of outcomes in git.

1. `agentledger git scan` on a repository of 10,000 commits: the first scan, a re-scan with nothing
   new (the scheduled case: well under a second), 100 new commits, a force-push rewriting the last
   20, blaming the most-changed files into the ledger, and, after 20 more commits, a later scan's
   blame of the files they changed: back to the blame stored, against whole.
2. The generated org (default 40 people x 40 days, with its projects' repositories): ingest, then the
   first `git scan` (scan, link, blame, survival), a re-scan with nothing new, and the refresh of the
   links to git: full (every session) against incremental (one new session; one new commit), with
   the time of each derivation step.

    python -m bench.git                  # generated repository (bench/git_repo.py), 10,000 commits
    python -m bench.git --repo PATH      # a real one (copied first: the bench adds commits to it)
    python -m bench.git --users 12 --days 20    # a smaller org;  --no-org: the repository part only
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from agentledger.pipeline import ingest_and_refresh, scan_git
from analytics import queries
from analytics.config import settings
from analytics.refresh import GIT_STEPS, refresh_derived, sql_params
from bench.git_access import most_changed
from bench.git_repo import add_commits, rewrite_tip, synthetic_repo
from ingest.git.blame import carry_over, run_blame, store_blame, stored_blame
from ingest.git.scan import read_path_map, repo_id_of, scan_repo
from ingest.org import load_org, read_org_csv
from ingest.runner import IngestOptions
from sample_data.generator import generate
from store.db import connect_writer
from store.sql import run_sql, transaction


def _timed(label: str, fn):
    started = time.perf_counter()
    value = fn()
    seconds = time.perf_counter() - started
    print(f"  {label:<42} {seconds:8.3f} s")
    return seconds, value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", help="a bare or working repository to copy and scan (default: generate one)")
    parser.add_argument("--commits", type=int, default=10_000, help="commits to generate (default 10,000)")
    parser.add_argument("--files", type=int, default=20, help="files to blame (default 20)")
    parser.add_argument("--users", type=int, default=40, help="people in the generated org (default 40)")
    parser.add_argument("--days", type=int, default=40, help="days of the generated org (default 40)")
    parser.add_argument("--no-org", action="store_true", help="skip the generated org")
    args = parser.parse_args(argv)
    repository(args)
    if not args.no_org:
        org(args.users, args.days)
    return 0


def _blame(con, git_dir: str, pairs: list[tuple[str, str]], run_id: int) -> dict[str, int]:
    blamed = run_blame(git_dir, [p for p in pairs if not con.execute(
        "SELECT 1 FROM git_blamed WHERE repo_id = ? AND snapshot = ? AND path = ?", [repo_id_of(git_dir), *p]).fetchall()])
    with transaction(con):
        return store_blame(con, repo_id_of(git_dir), blamed, run_id)


def repository(args) -> None:
    """Part 1: one repository of --commits commits."""
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        if args.repo:
            git_dir = root / "repo.git"
            subprocess.run(["git", "clone", "-q", "--bare", "--no-local", args.repo, str(git_dir)], check=True)
        else:
            git_dir = synthetic_repo(root / "repo.git", args.commits)
        branch = subprocess.run(["git", "--git-dir", str(git_dir), "symbolic-ref", "--short", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
        total = subprocess.run(["git", "--git-dir", str(git_dir), "rev-list", "--count", "--all"],
                               capture_output=True, text=True, check=True).stdout.strip()
        print(f"{'generated' if not args.repo else args.repo}: {total} commits, default branch {branch}")
        con = connect_writer(root / "ledger.duckdb")
        gd = str(git_dir)
        first, scan = _timed("first scan", lambda: scan_repo(con, gd, 1))
        lines = con.execute("SELECT count(*) FROM git_added_lines").fetchone()[0]
        print(f"    {scan.new_commits} commits, {lines} hashed added lines: "
              f"{scan.new_commits / first:,.0f} commits/s")
        noop, scan = _timed("re-scan, nothing new", lambda: scan_repo(con, gd, 2))
        assert scan.unchanged
        add_commits(git_dir, 100, branch=branch)
        grow, scan = _timed("re-scan after 100 new commits", lambda: scan_repo(con, gd, 3))
        assert scan.new_commits == 100
        rewrite_tip(git_dir, 20, branch=branch)
        rewrite, scan = _timed("re-scan after a force-push of the last 20", lambda: scan_repo(con, gd, 4))
        assert scan.rewritten_refs and scan.new_commits == 20, scan
        head = subprocess.run(["git", "--git-dir", gd, "rev-parse", branch], capture_output=True, text=True,
                              check=True).stdout.strip()
        paths = most_changed(gd, branch, args.files)
        blame, counts = _timed(f"blame {len(paths)} most-changed files at head",
                               lambda: _blame(con, gd, [(head, p) for p in paths], 5))
        again, _ = _timed("the same blame again (stored: skipped)", lambda: _blame(con, gd, [(head, p) for p in paths], 6))
        later, whole = _later_blame(con, gd, branch, head, paths)
        con.close()
        print(f"\n  no-op re-scan = {noop / first:.4f} of the first scan; 100 new commits cost "
              f"{grow / first:.3f} of it (commits are {100 / int(total):.3f} of the history)")
        print(f"  blame: {blame / max(len(paths), 1):.3f} s per file ({counts})")
        print(f"  a later scan's blame of the changed files back to their stored blame = {later / max(whole, 1e-9):.3f}"
              " of blaming them whole")


def _later_blame(con, git_dir: str, branch: str, head: str, paths: list[str]) -> tuple[float, float]:
    """20 new commits, then the blame a later scan does at the new head: the files they changed,
    back to the blame stored at the old head (run_blame's stored bases), against blaming them whole.
    Both give the same ranges (asserted). Returns (seconds back to the stored blame, seconds whole)."""
    add_commits(Path(git_dir), 20, branch=branch, seed=21)
    new_head = subprocess.run(["git", "--git-dir", git_dir, "rev-parse", branch], capture_output=True, text=True,
                              check=True).stdout.strip()
    _, todo, bases = carry_over(git_dir, [(new_head, p) for p in paths], {p: [head] for p in paths})
    stored = stored_blame(con, repo_id_of(git_dir), bases)
    since, from_stored = _timed(f"later: blame {len(todo)} changed files back to the stored",
                                lambda: run_blame(git_dir, todo, stored))
    whole, blamed_whole = _timed(f"later: the same {len(todo)} files blamed whole", lambda: run_blame(git_dir, todo))
    assert from_stored == blamed_whole
    return since, whole


def _git_steps(con) -> list[tuple[str, float]]:
    """Each git derivation step of a full refresh, timed (in a transaction rolled back afterwards)."""
    params = {**sql_params(settings()), "after_run": -1}
    times = []
    queries.prepare(con)
    run_sql(con, "BEGIN TRANSACTION")
    try:
        run_sql(con, "CREATE OR REPLACE TEMP TABLE _touched AS SELECT DISTINCT session_id FROM request_facts")
        for step in GIT_STEPS:
            started = time.perf_counter()
            queries.execute(con, step.name, params)
            times.append((step.name, time.perf_counter() - started))
    finally:
        run_sql(con, "ROLLBACK")
    return times


def _hold_back_one_session(org: Path, extra: Path) -> str:
    """Move the last session that committed on main out of the org (ingested later, as a new session)."""
    truth = json.loads((org / "ground_truth.json").read_text())
    sid = [s["session_id"] for s in truth["git"]["sessions"] if s["outcome"] == "main"][-1]
    record = next(s for s in truth["sessions"] if s["session_id"] == sid)
    for rel in record["files"]:
        target = extra / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(org / rel, target)
    return sid


def org(users: int, days: int) -> None:
    """Part 2: the generated org and its repositories."""
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        started = time.perf_counter()
        summary = generate(root / "org", users=users, days=days)
        print(f"\ngenerated org: {summary.one_line()} ({time.perf_counter() - started:.0f} s)")
        held_back = _hold_back_one_session(root / "org", root / "extra")
        con = connect_writer(root / "ledger.duckdb")
        load_org(con, read_org_csv(root / "org" / "org.csv"))
        _timed("ingest (and its refresh)", lambda: ingest_and_refresh(
            con, IngestOptions(paths=[root / "org"], user_from_dir=True, progress=False)))
        git = root / "org" / "git"
        repos, path_map = sorted(git.glob("*.git")), read_path_map(git / "paths.csv")
        first, result = _timed(f"git scan of {len(repos)} repositories: scan, link, blame", lambda: scan_git(con, repos, path_map))
        commits = con.execute("SELECT count(*) FROM git_commits").fetchone()[0]
        print(f"    {commits} commits, {result.derived.links} links, {result.derived.agent_lines} agent lines, "
              f"{sum(result.blamed.values())} (snapshot, file) pairs blamed")
        noop, _ = _timed("git scan, nothing new", lambda: scan_git(con, repos, path_map))
        full, summary_full = _timed("refresh, full (every session derived again)", lambda: refresh_derived(con, full=True))
        for name, seconds in _git_steps(con):
            print(f"      {name:<38} {seconds:8.3f} s (full)")
        one, result_one = _timed(f"ingest one new session ({held_back[:8]}, and its refresh)", lambda: ingest_and_refresh(
            con, IngestOptions(paths=[root / "extra"], user_from_dir=True, progress=False)))
        print(f"    git sessions derived again: {result_one.refresh.git_sessions} (full: {summary_full.git_sessions})")
        repo = repos[0]
        add_commits(repo, 1, branch="main", seed=99)
        rescan, result_rescan = _timed("git scan after one new commit in one repository", lambda: scan_git(con, repos, path_map))
        print(f"    git sessions derived again: {result_rescan.refresh.git_sessions}")
        con.close()
        print(f"\n  no-op git scan = {noop / first:.3f} of the first; refresh after one new session = "
              f"{one / full:.3f} of a full refresh (ingest included), after one new commit {rescan / full:.3f}")


if __name__ == "__main__":
    sys.exit(main())
