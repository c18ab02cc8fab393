"""Which git access layer reads history fastest: the git CLI, pygit2 (libgit2), dulwich, GitPython, pydriller.

The same work for each: walk the default branch newest first, diff every commit against its first
parent (the empty tree for a root), hash every added non-blank line (normalised as the scanner does),
and `blame` the most-changed files at the tip. Layers that are not installed are reported as such
(only the CLI is a dependency of AgentLedger); install the others in a scratch environment:

    python -m venv /tmp/layers && /tmp/layers/bin/pip install pygit2 dulwich gitpython pydriller
    PYTHONPATH=. /tmp/layers/bin/python -m bench.git_access --repo PATH [--commits 1000] [--files 10]

Without --repo a 10,000-commit repository is generated (bench/git_repo.py). Slow layers are measured
on the newest --commits commits only; the CLI and pygit2 also on the whole branch.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from bench.git_repo import synthetic_repo

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
_HUNK = re.compile(rb"@@ -\S+ \+(\d+)")


def _hash(text: str) -> None:
    normalised = " ".join(text.split())
    if normalised:
        hashlib.blake2b(normalised.encode("utf-8", "surrogateescape"), digest_size=8).hexdigest()


def log_cli(repo: str, branch: str, limit: int | None) -> int:
    """One `git log -p -U0` process, parsed as a stream."""
    args = ["git", "--git-dir", repo, "log", "--format=%x00%H", "-p", "-U0", "--no-renames",
            "--diff-merges=first-parent", "--no-color", "--no-ext-diff", branch]
    if limit:
        args[4:4] = ["-n", str(limit)]
    lines = 0
    with subprocess.Popen(args, stdout=subprocess.PIPE) as process:
        for raw in process.stdout:
            if raw[:1] == b"+" and not raw.startswith(b"+++ "):
                _hash(raw[1:].decode("utf-8", "surrogateescape"))
                lines += 1
    return lines


def log_pygit2(repo: str, branch: str, limit: int | None) -> int:
    import pygit2

    r = pygit2.Repository(repo)
    empty = r[r.TreeBuilder().write()]
    lines = commits = 0
    for commit in r.walk(r.references[f"refs/heads/{branch}"].target, pygit2.enums.SortMode.TOPOLOGICAL):
        base = commit.parents[0].tree if commit.parents else empty
        for patch in r.diff(base, commit.tree, context_lines=0):
            if patch.delta.is_binary:
                continue
            for hunk in patch.hunks:
                for line in hunk.lines:
                    if line.origin == "+":
                        _hash(line.content)
                        lines += 1
        commits += 1
        if limit and commits >= limit:
            break
    return lines


def log_dulwich(repo: str, branch: str, limit: int | None) -> int:
    from dulwich.diff_tree import tree_changes
    from dulwich.repo import Repo

    r = Repo(repo)
    store = r.object_store
    lines = commits = 0
    for entry in r.get_walker(include=[r.refs[f"refs/heads/{branch}".encode()]]):
        commit = entry.commit
        base = store[commit.parents[0]].tree if commit.parents else None
        for change in tree_changes(store, base, commit.tree):
            old = store[change.old.sha].data.splitlines() if change.old and change.old.sha else []
            new = store[change.new.sha].data.splitlines() if change.new and change.new.sha else []
            if any(b"\0" in chunk for chunk in new[:1]):
                continue
            # dulwich has no diff engine of its own beyond difflib: this is what its patch module does.
            matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
            for tag, _, _, j1, j2 in matcher.get_opcodes():
                if tag in ("replace", "insert"):
                    for line in new[j1:j2]:
                        _hash(line.decode("utf-8", "surrogateescape"))
                        lines += 1
        commits += 1
        if limit and commits >= limit:
            break
    return lines


def log_gitpython(repo: str, branch: str, limit: int | None) -> int:
    import git

    r = git.Repo(repo)
    lines = 0
    for commit in r.iter_commits(branch, max_count=limit):
        base = commit.parents[0] if commit.parents else git.NULL_TREE
        for diff in commit.diff(base, create_patch=True, unified=0, R=True):
            text = diff.diff.decode("utf-8", "surrogateescape") if isinstance(diff.diff, bytes) else diff.diff
            for line in text.splitlines():
                if line.startswith("+") and not line.startswith("+++"):
                    _hash(line[1:])
                    lines += 1
    return lines


def log_pydriller(repo: str, branch: str, limit: int | None) -> int:
    from pydriller import Repository

    lines = commits = 0
    for commit in Repository(repo, only_in_branch=branch, order="reverse").traverse_commits():
        for modified in commit.modified_files:
            for _, text in modified.diff_parsed["added"]:
                _hash(text)
                lines += 1
        commits += 1
        if limit and commits >= limit:
            break
    return lines


def blame_cli(repo: str, branch: str, paths: list[str]) -> int:
    total = 0
    for path in paths:
        out = subprocess.run(["git", "--git-dir", repo, "blame", "--porcelain", branch, "--", path],
                             capture_output=True, check=True).stdout
        total += sum(1 for line in out.split(b"\n") if line[:1] == b"\t")
    return total


def blame_pygit2(repo: str, branch: str, paths: list[str]) -> int:
    import pygit2

    r = pygit2.Repository(repo)
    newest = r.references[f"refs/heads/{branch}"].target
    return sum(sum(hunk.lines_in_hunk for hunk in r.blame(path, newest_commit=newest)) for path in paths)


def blame_gitpython(repo: str, branch: str, paths: list[str]) -> int:
    import git

    r = git.Repo(repo)
    return sum(sum(len(lines) for _, lines in r.blame(branch, path)) for path in paths)


def blame_dulwich(repo: str, branch: str, paths: list[str]) -> int:
    from dulwich import porcelain

    return sum(len(porcelain.annotate(repo, path, committish=branch.encode())) for path in paths)


LOG_LAYERS: dict[str, Callable] = {"git CLI": log_cli, "pygit2": log_pygit2, "dulwich": log_dulwich,
                                   "GitPython": log_gitpython, "pydriller": log_pydriller}
BLAME_LAYERS: dict[str, Callable] = {"git CLI": blame_cli, "pygit2": blame_pygit2, "GitPython": blame_gitpython,
                                     "dulwich": blame_dulwich}
FAST = ("git CLI", "pygit2")


def most_changed(repo: str, branch: str, count: int) -> list[str]:
    """The files at the tip that the most commits touched: the expensive ones to blame."""
    out = subprocess.run(["git", "--git-dir", repo, "log", "--format=", "--name-only", "--no-renames", "-n", "3000",
                          branch], capture_output=True, text=True, check=True).stdout
    present = set(subprocess.run(["git", "--git-dir", repo, "ls-tree", "-r", "--name-only", branch],
                                 capture_output=True, text=True, check=True).stdout.splitlines())
    counts: dict[str, int] = {}
    for path in out.splitlines():
        if path in present:
            counts[path] = counts.get(path, 0) + 1
    return sorted(counts, key=lambda p: (-counts[p], p))[:count]


def _timed(fn: Callable, *args) -> tuple[float | None, object]:
    started = time.perf_counter()
    try:
        result = fn(*args)
    except ImportError:
        return None, "not installed"
    return time.perf_counter() - started, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", help="a bare or working repository (default: generate 10,000 commits)")
    parser.add_argument("--branch", default=None, help="branch to walk (default: the repository's HEAD)")
    parser.add_argument("--commits", type=int, default=1000, help="commits for the slow layers (default 1000)")
    parser.add_argument("--files", type=int, default=10, help="files to blame (default 10)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        repo = args.repo or str(synthetic_repo(Path(scratch) / "bench.git", commits=10_000))
        branch = args.branch or subprocess.run(["git", "--git-dir", repo, "symbolic-ref", "--short", "HEAD"],
                                               capture_output=True, text=True, check=True).stdout.strip()
        total = int(subprocess.run(["git", "--git-dir", repo, "rev-list", "--count", branch],
                                   capture_output=True, text=True, check=True).stdout)
        print(f"repository {repo}: {total} commits on {branch}")
        print(f"\nlog + first-parent diff + added-line hashes, newest {args.commits} commits:")
        base = None
        for name, fn in LOG_LAYERS.items():
            seconds, lines = _timed(fn, repo, branch, args.commits)
            if seconds is None:
                print(f"  {name:<10} {lines}")
                continue
            base = base or seconds
            print(f"  {name:<10} {seconds:7.2f} s  {lines:>9} lines  x{seconds / base:.1f} of the CLI")
        print(f"\nthe same over all {total} commits:")
        for name in FAST:
            seconds, lines = _timed(LOG_LAYERS[name], repo, branch, None)
            print(f"  {name:<10} {'not installed' if seconds is None else f'{seconds:7.2f} s  {lines:>9} lines'}")
        paths = most_changed(repo, branch, args.files)
        print(f"\nblame of the {len(paths)} most-changed files at the tip:")
        base = None
        for name, fn in BLAME_LAYERS.items():
            seconds, lines = _timed(fn, repo, branch, paths)
            if seconds is None:
                print(f"  {name:<10} {lines}")
                continue
            base = base or seconds
            print(f"  {name:<10} {seconds:7.2f} s  {lines:>7} lines  x{seconds / base:.1f} of the CLI")
    return 0


if __name__ == "__main__":
    sys.exit(main())
