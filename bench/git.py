"""Cost of `agentledger git scan` on a repository of 10,000 commits: the first scan, a re-scan with
nothing new (the scheduled case: well under a second), 100 new commits, a force-push rewriting the
last 20, and blaming the most-changed files into the ledger.

    python -m bench.git                  # generated repository (bench/git_repo.py), 10,000 commits
    python -m bench.git --repo PATH      # a real one (copied first: the bench adds commits to it)
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.git_access import most_changed
from bench.git_repo import add_commits, rewrite_tip, synthetic_repo
from ingest.git.blame import blame_pairs
from ingest.git.scan import repo_id_of, scan_repo
from store.db import connect_writer


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
    args = parser.parse_args(argv)
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
                               lambda: blame_pairs(con, repo_id_of(gd), gd, [(head, p) for p in paths], 5))
        again, _ = _timed("the same blame again (stored: skipped)",
                          lambda: blame_pairs(con, repo_id_of(gd), gd, [(head, p) for p in paths], 6))
        con.close()
        print(f"\n  no-op re-scan = {noop / first:.4f} of the first scan; 100 new commits cost "
              f"{grow / first:.3f} of it (commits are {100 / int(total):.3f} of the history)")
        print(f"  blame: {blame / max(len(paths), 1):.3f} s per file ({counts})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
