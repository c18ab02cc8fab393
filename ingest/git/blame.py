"""`git blame --porcelain` of (snapshot, path) pairs into git_blame ranges.

Which pairs to blame is the caller's business (analytics decides which files linked commits
touched); this module only runs blame, two processes at a time (`run_blame`, with the ledger
closed), and stores what it says (`store_blame`, in a write window). A snapshot's blame never
changes, so every pair is recorded in git_blamed, failures included, and never run twice.
"""

from __future__ import annotations

import bisect
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Iterator

import duckdb
import polars as pl

from ingest.git.cli import GitError, git
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
    for sha, path, orig, final, _ in _porcelain_lines(text):
        _extend(ranges, sha, path, orig, final)
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


def run_blame(git_dir: str, pairs: list[tuple[str, str]],
              stored: dict[str, tuple[str, list[BlameRange]]] | None = None) -> list[Blamed]:
    """Blame each (snapshot, path), two git processes at a time (no ledger needed).

    A path's snapshots are blamed oldest first, and each only back to the one before it (`git
    blame older..newer`, `_blame_since`): git passes every line down the same commits either way,
    and a line that reaches the older snapshot takes its blame there, so the result is the whole
    blame's, at the cost of the commits in between (a first scan blames a file at some thirty
    snapshots). The first one goes back to the path's blame already stored (`stored`: path ->
    (snapshot, ranges), from carry_over's bases) where there is one: a later scan blames a changed
    file over the new commits, not its whole history. Where a line stops anywhere else (a merge
    brought it from a branch older than the older snapshot, or the file had another name there),
    the snapshot is blamed whole."""
    order = _newest_first(git_dir, sorted({s for s, _ in pairs}))
    by_path: dict[str, list[int]] = {}
    for i, (snapshot, path) in enumerate(pairs):
        by_path.setdefault(path, []).append(i)
    results: list[tuple[str, list[BlameRange]] | None] = [None] * len(pairs)

    def blame_path(indexes: list[int]) -> None:
        # the last snapshot blamed ok, and its ranges
        base: tuple[str, list[BlameRange]] | None = (stored or {}).get(pairs[indexes[0]][1])
        for i in sorted(indexes, key=lambda i: -order.get(pairs[i][0], -1)):
            snapshot, path = pairs[i]
            found = _blame_since(git_dir, base[0], base[1], snapshot, path) if base else None
            results[i] = ("ok", found) if found is not None else _blame(git_dir, snapshot, path)
            if results[i][0] == "ok":
                base = (snapshot, results[i][1])

    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(blame_path, by_path.values()))
    return [Blamed(snapshot, path, status, found) for (snapshot, path), (status, found) in zip(pairs, results)]


def _newest_first(git_dir: str, snapshots: list[str]) -> dict[str, int]:
    """Position of each snapshot in a listing of their first-parent chains, descendants first
    (0 = newest): the order a path's snapshots are blamed in, oldest first. Any order is exact
    (`_blame_since` checks where lines stop); this one makes each blame a short one."""
    if not snapshots:
        return {}
    wanted = set(snapshots)
    listed = git(git_dir, "rev-list", "--first-parent", "--topo-order", "--stdin", stdin="\n".join(snapshots) + "\n",
                 check=False).split()
    return {sha: i for i, sha in enumerate(s for s in listed if s in wanted)}


def _blame_since(git_dir: str, base: str, base_ranges: list[BlameRange], snapshot: str, path: str
                 ) -> list[BlameRange] | None:
    """The blame of path at snapshot, from a blame back to `base` (an earlier snapshot whose blame
    of the same path is base_ranges) only; None when it cannot stand in for the whole blame: git
    failed, or some line stopped at a commit other than base (git marks where it stopped as a
    boundary), or under another path, or beyond base's lines."""
    try:
        text = git(git_dir, "blame", "--porcelain", f"{base}..{snapshot}", "--", path)
    except GitError:
        return None
    origins: list[tuple[str, str, int]] = []   # per line of base's file: (sha, path, line)
    for r in base_ranges:
        if r.final_start != len(origins) + 1:
            return None
        origins += [(r.orig_sha, r.orig_path, r.orig_start + k) for k in range(r.lines)]
    ranges: list[BlameRange] = []
    for sha, orig_path, orig, final, boundary in _porcelain_lines(text):
        if boundary:
            if sha != base or orig_path != path or not 1 <= orig <= len(origins):
                return None
            sha, orig_path, orig = origins[orig - 1]
        _extend(ranges, sha, orig_path, orig, final)
    return ranges


def _porcelain_lines(text: str) -> Iterator[tuple[str, str, int, int, bool]]:
    """(orig_sha, orig_path, orig_line, final_line, boundary) of each line of a porcelain blame."""
    filenames: dict[str, str] = {}
    boundaries: set[str] = set()
    pending: list[int] | None = None
    sha = ""
    for line in text.split("\n"):
        if line.startswith("\t"):
            if pending is not None:
                yield sha, filenames.get(sha, ""), pending[0], pending[1], sha in boundaries
                pending = None
            continue
        match = _HEADER.match(line)
        if match:
            sha, pending = match.group(1), [int(match.group(2)), int(match.group(3))]
        elif line.startswith("filename "):
            # Printed with a commit's details the first time, and again only if its path differs.
            filenames[sha] = line[9:]
        elif line == "boundary":
            boundaries.add(sha)


def carry_over(git_dir: str, pairs: list[tuple[str, str]], blamed: dict[str, list[str]]
               ) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]], dict[str, str]]:
    """Split pending (snapshot, path) pairs into those whose blame is another snapshot's, and those
    still to blame: ([(snapshot, path, source)], [(snapshot, path)], bases); bases: per path still
    to blame, the stored snapshot nearest below its oldest pending one on the chain, which run_blame
    may blame back to (stored_blame reads its ranges).

    Snapshots lie on the default branch's first-parent chain. A file that no commit of the chain
    changed between an earlier snapshot (blamed before, or blamed in this batch) and this one has
    the same blame there, so one `git log` over the chain decides it for every pair: a new head
    re-blames only the files that changed, and a first scan blames each file once per change, not
    once per snapshot. `blamed`: per path, the snapshots whose blame is stored (status ok)."""
    wanted = {s for s, _ in pairs} | {s for snapshots in blamed.values() for s in snapshots}
    chain, changes = _chain(git_dir, sorted({s for s, _ in pairs}), wanted)
    carried, todo, bases = [], [], {}
    by_path: dict[str, list[str]] = {}
    for snapshot, path in pairs:
        by_path.setdefault(path, []).append(snapshot)
    for path, pending in by_path.items():
        sources = sorted((chain[s], s) for s in blamed.get(path, ()) if s in chain)
        changed_at = changes.get(path, [])
        first = True   # until this path's oldest snapshot to blame: sources holds stored snapshots only
        for snapshot in sorted(pending, key=lambda s: chain.get(s, -1)):
            at = chain.get(snapshot)
            root = None
            earlier = [(i, s) for i, s in sources if at is not None and i < at]
            if earlier:
                i, source = earlier[-1]
                if bisect.bisect_right(changed_at, at) == bisect.bisect_right(changed_at, i):
                    root = source
            if root is not None:
                carried.append((snapshot, path, root))
                continue
            if first and earlier:
                bases[path] = earlier[-1][1]
            first = False
            todo.append((snapshot, path))
            if at is not None:
                bisect.insort(sources, (at, snapshot))
    return carried, todo, bases


def stored_blame(con: duckdb.DuckDBPyConnection, repo_id: str, bases: dict[str, str]
                 ) -> dict[str, tuple[str, list[BlameRange]]]:
    """The stored blame of each path at its base snapshot (carry_over's bases): path -> (snapshot,
    ranges in line order), what run_blame blames a changed file back to."""
    if not bases:
        return {}
    frame = pl.DataFrame({"path": list(bases), "snapshot": list(bases.values())},
                         schema={"path": pl.String, "snapshot": pl.String})
    with registered(con, "_bases", frame):
        rows = run_sql(con, "SELECT b.path, b.snapshot, b.orig_sha, b.orig_path, b.orig_start, b.final_start, b.lines"
                            " FROM git_blame b JOIN _bases s ON s.path = b.path AND s.snapshot = b.snapshot"
                            " WHERE b.repo_id = ? ORDER BY b.path, b.final_start", [repo_id])
    stored: dict[str, tuple[str, list[BlameRange]]] = {}
    for path, snapshot, *blame in rows:
        stored.setdefault(path, (snapshot, []))[1].append(BlameRange(*blame))
    return stored


def _chain(git_dir: str, tips: list[str], wanted: set[str]) -> tuple[dict[str, int], dict[str, list[int]]]:
    """Positions (oldest 0) on the first-parent chain below the newest of `tips` of the `wanted`
    snapshots that lie on it, and for each path the positions of the chain's commits that changed it
    (a merge: against its first parent, which is what it brought in)."""
    if not tips:
        return {}, {}
    out = git(git_dir, "log", "--first-parent", "--topo-order", "--diff-merges=first-parent", "--no-renames", "--format=%x00%H",
              "--name-only", *tips)
    commits: list[tuple[str, list[str]]] = []
    for block in out.split("\x00")[1:]:
        sha, *paths = block.split("\n")
        commits.append((sha, [p for p in paths if p]))
    commits.reverse()
    chain = {sha: i for i, (sha, _) in enumerate(commits) if sha in wanted}
    changes: dict[str, list[int]] = {}
    for i, (_, paths) in enumerate(commits):
        for path in paths:
            changes.setdefault(path, []).append(i)
    return chain, changes


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
