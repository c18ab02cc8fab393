"""`git blame --porcelain` of (snapshot, path) pairs into git_blame ranges.

Which pairs to blame is the caller's business (analytics decides which files linked commits
touched); this module only runs blame, two processes at a time (`run_blame`, with the ledger
closed), and stores what it says (`store_blame`, in a write window). A snapshot's blame never
changes, so every pair is recorded in git_blamed, failures included, and never run twice.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import duckdb
import polars as pl

from ingest.git.cli import GitError, git, git_ok
from ingest.writer import registered
from store.sql import run_sql

WORKERS = 2
_HEADER = re.compile(r"^([0-9a-f]{40}) (\d+) (\d+)(?: (\d+))?$")


@dataclass(frozen=True)
class BlameRange:
    """Lines final_start.. final_start+lines-1 of the file came from orig_sha:orig_path at orig_start."""

    orig_sha: str
    orig_path: str
    orig_start: int
    final_start: int
    lines: int


def parse_porcelain(text: str) -> list[BlameRange]:
    """Ranges of a porcelain blame, merged where consecutive lines share an origin and stay consecutive."""
    ranges: list[BlameRange] = []
    filenames: dict[str, str] = {}
    pending: list[int] | None = None  # [orig_line, final_line] of the line whose header we read
    sha = ""
    for line in text.split("\n"):
        if line.startswith("\t"):
            if pending is not None:
                _extend(ranges, sha, filenames.get(sha, ""), pending[0], pending[1])
                pending = None
            continue
        match = _HEADER.match(line)
        if match:
            sha, pending = match.group(1), [int(match.group(2)), int(match.group(3))]
        elif line.startswith("filename "):
            # Printed with a commit's details the first time, and again only if its path differs.
            filenames[sha] = line[9:]
    return ranges


def _extend(ranges: list[BlameRange], sha: str, path: str, orig: int, final: int) -> None:
    last = ranges[-1] if ranges else None
    if last and last.orig_sha == sha and last.orig_path == path and last.orig_start + last.lines == orig \
            and last.final_start + last.lines == final:
        ranges[-1] = BlameRange(sha, path, last.orig_start, last.final_start, last.lines + 1)
    else:
        ranges.append(BlameRange(sha, path, orig, final, 1))


def _blame(git_dir: str, snapshot: str, path: str) -> tuple[str, list[BlameRange]]:
    try:
        return "ok", parse_porcelain(git(git_dir, "blame", "--porcelain", snapshot, "--", path))
    except GitError as error:
        text = str(error)
        if "no such path" in text:
            return "absent", []
        return f"failed: {text}", []


@dataclass(frozen=True)
class Blamed:
    """What blame said about one (snapshot, path): ok with its ranges, absent, or failed: <reason>."""

    snapshot: str
    path: str
    status: str
    ranges: list[BlameRange]


def run_blame(git_dir: str, pairs: list[tuple[str, str]]) -> list[Blamed]:
    """Blame each (snapshot, path), two git processes at a time (no ledger needed)."""
    with ThreadPoolExecutor(WORKERS) as pool:
        results = list(pool.map(lambda pair: _blame(git_dir, *pair), pairs))
    return [Blamed(snapshot, path, status, found) for (snapshot, path), (status, found) in zip(pairs, results)]


# Already-blamed snapshots tried, newest first, as the source of a pending pair's blame.
CARRY_CANDIDATES = 2


def carry_over(git_dir: str, pairs: list[tuple[str, str]], blamed: dict[str, list[str]]
               ) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """Split pending (snapshot, path) pairs into those whose blame is one already stored, and those
    still to blame. A file no commit touched between an ancestor snapshot blamed before and this one
    has the same blame there (a new head leaves most files alone): ([(snapshot, path, source)], [(snapshot, path)])."""
    carried, todo = [], []
    touched: dict[tuple[str, str], set[str] | None] = {}
    for snapshot, path in pairs:
        source = None
        for candidate in blamed.get(path, ())[:CARRY_CANDIDATES]:
            if candidate == snapshot:
                continue
            key = (candidate, snapshot)
            if key not in touched:
                touched[key] = _touched_between(git_dir, candidate, snapshot)
            if touched[key] is not None and path not in touched[key]:
                source = candidate
                break
        if source:
            carried.append((snapshot, path, source))
        else:
            todo.append((snapshot, path))
    return carried, todo


def _touched_between(git_dir: str, old: str, new: str) -> set[str] | None:
    """Paths some commit in old..new changed (every parent: blame follows them all); None when old
    is not an ancestor of new."""
    if not git_ok(git_dir, "merge-base", "--is-ancestor", old, new):
        return None
    out = git(git_dir, "log", "--format=", "--name-only", "--no-renames", "-m", f"{old}..{new}")
    return {line for line in out.splitlines() if line}


def copy_blame(con: duckdb.DuckDBPyConnection, repo_id: str, carried: list[tuple[str, str, str]], run_id: int) -> int:
    """Store carried-over blame: the source snapshot's ranges and status under the new snapshot."""
    if not carried:
        return 0
    frame = pl.DataFrame({"snapshot": [c[0] for c in carried], "path": [c[1] for c in carried],
                          "source": [c[2] for c in carried]}, schema={"snapshot": pl.String, "path": pl.String, "source": pl.String})
    with registered(con, "_carried", frame):
        run_sql(con, "INSERT INTO git_blame BY NAME SELECT b.* REPLACE (c.snapshot AS snapshot, ? AS run_id)"
                     " FROM git_blame b JOIN _carried c ON b.snapshot = c.source AND b.path = c.path WHERE b.repo_id = ?",
                [run_id, repo_id])
        run_sql(con, "INSERT INTO git_blamed BY NAME SELECT b.* REPLACE (c.snapshot AS snapshot, ? AS run_id)"
                     " FROM git_blamed b JOIN _carried c ON b.snapshot = c.source AND b.path = c.path WHERE b.repo_id = ?",
                [run_id, repo_id])
    return len(carried)


def store_blame(con: duckdb.DuckDBPyConnection, repo_id: str, blamed: list[Blamed], run_id: int) -> dict[str, int]:
    """Record blame results (git_blame ranges, git_blamed status); returns counts by status."""
    counts: dict[str, int] = {}
    ranges, done = [], []
    for item in blamed:
        key = item.status.split(":", 1)[0]
        counts[key] = counts.get(key, 0) + 1
        done.append({"repo_id": repo_id, "snapshot": item.snapshot, "path": item.path, "status": item.status,
                     "run_id": run_id})
        ranges += [{"repo_id": repo_id, "snapshot": item.snapshot, "path": item.path, "orig_sha": r.orig_sha,
                    "orig_path": r.orig_path, "orig_start": r.orig_start, "final_start": r.final_start,
                    "lines": r.lines, "run_id": run_id} for r in item.ranges]
    for table, rows in (("git_blame", ranges), ("git_blamed", done)):
        if rows:
            with registered(con, "_blamed", pl.DataFrame(rows)):
                run_sql(con, f"INSERT INTO {table} BY NAME SELECT * FROM _blamed")
    return counts


def forget_snapshots(con: duckdb.DuckDBPyConnection, repo_id: str, keep: list[str]) -> None:
    """Drop blame of snapshots no plan needs any more (an old head), keeping the table small."""
    frame = pl.DataFrame({"snapshot": keep}, schema={"snapshot": pl.String})
    with registered(con, "_keep", frame):
        for table in ("git_blame", "git_blamed"):
            run_sql(con, f"DELETE FROM {table} WHERE repo_id = ? AND snapshot NOT IN (SELECT snapshot FROM _keep)",
                    [repo_id])
