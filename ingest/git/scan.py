"""Incremental scan of one repository into the git_* tables.

The branch tips of the last scan are the cursor: a scan reads only the commits reachable from the
new tips and not from the old ones (`git log --stdin` with `^old`), so its cost follows the new
commits; equal tips cost two git calls and a query. A tip that does not descend from its old value
is rewritten history (force-push, rebase): the new commits are read like any others, the commits
no branch reaches any more stay (reachable = false: a session may have printed their sha), and
"landed" / the mainline are recomputed from the default branch.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from ingest.git.cli import GitError, git, git_ok
from ingest.git.log import Commit, read_commits
from ingest.hashing import short_hash
from ingest.timestamps import utc_now
from ingest.writer import registered
from store.sql import run_sql

# Commits written per statement batch: bounds memory on a first scan of a large history.
CHUNK_COMMITS = 2000
DEFAULT_CANDIDATES = ("refs/heads/main", "refs/heads/master", "refs/remotes/origin/main", "refs/remotes/origin/master",
                      "refs/heads/trunk", "refs/heads/develop")


COMMIT_SCHEMA = {
    "repo_id": pl.String, "sha": pl.String, "parents": pl.String, "author_name": pl.String, "author_email": pl.String,
    "authored_at": pl.Datetime("us"), "committer_name": pl.String, "committer_email": pl.String,
    "committed_at": pl.Datetime("us"), "subject": pl.String, "trailers": pl.String, "agent": pl.String,
    "files": pl.Int32, "lines_added": pl.Int32, "lines_removed": pl.Int32, "landed": pl.Boolean,
    "mainline": pl.Boolean, "reachable": pl.Boolean, "run_id": pl.Int64,
}


@dataclass
class RepoScan:
    """What one scan of one repository did (the CLI prints it)."""

    path: str
    repo_id: str
    name: str
    default_branch: str | None = None
    new_commits: int = 0
    rewritten_refs: list[str] = field(default_factory=list)
    unreachable: int = 0
    unchanged: bool = False
    seconds: float = 0.0
    error: str | None = None

    def line(self) -> str:
        """One line for the terminal."""
        if self.error:
            return f"{self.name}: failed: {self.error}"
        if self.unchanged:
            return f"{self.name}: unchanged ({self.seconds:.2f} s)"
        rewritten = f", history rewritten on {', '.join(self.rewritten_refs)}" if self.rewritten_refs else ""
        gone = f", {self.unreachable} commit(s) no longer on any branch" if self.unreachable else ""
        return f"{self.name}: {self.new_commits} new commit(s){rewritten}{gone} ({self.seconds:.2f} s)"


def repo_id_of(git_dir: str) -> str:
    """Stable id of a repository: the hash of its git dir's path."""
    return short_hash(str(Path(git_dir).resolve()))


def repo_name(git_dir: str) -> str:
    """`spotter` for /srv/mirrors/spotter.git and for /home/x/spotter/.git."""
    path = Path(git_dir)
    name = path.parent.name if path.name == ".git" else path.name
    return name[:-4] if name.endswith(".git") else name


def list_refs(git_dir: str) -> dict[str, str]:
    """Branch tips: local heads and remote-tracking branches, commits only, symbolic refs skipped."""
    out = git(git_dir, "for-each-ref", "--format=%(objectname) %(objecttype) %(symref) %(refname)", "refs/heads", "refs/remotes")
    refs = {}
    for line in out.splitlines():
        parts = line.split(" ", 3)
        if len(parts) == 4 and parts[1] == "commit" and not parts[2]:
            refs[parts[3]] = parts[0]
    return refs


def default_branch(git_dir: str, refs: dict[str, str]) -> str | None:
    """origin/HEAD's target in a working clone, HEAD's branch in a mirror, else main/master."""
    for symbolic in ("refs/remotes/origin/HEAD", "HEAD"):
        target = git(git_dir, "symbolic-ref", "-q", symbolic, check=False).strip()
        if target in refs:
            return target
    return next((ref for ref in DEFAULT_CANDIDATES if ref in refs), None)


def scan_repo(con: duckdb.DuckDBPyConnection, git_dir: str, run_id: int) -> RepoScan:
    """Bring one repository's rows up to date, in one transaction."""
    started = time.perf_counter()
    scan = RepoScan(git_dir, repo_id_of(git_dir), repo_name(git_dir))
    try:
        refs = list_refs(git_dir)
        scan.default_branch = default_branch(git_dir, refs)
        stored = dict(run_sql(con, "SELECT ref, sha FROM git_refs WHERE repo_id = ?", [scan.repo_id]))
        known = run_sql(con, "SELECT default_branch FROM git_repos WHERE repo_id = ?", [scan.repo_id])
        if known and stored == refs and known[0][0] == scan.default_branch:
            scan.unchanged = True
            return scan
        run_sql(con, "BEGIN TRANSACTION")
        try:
            _update(con, git_dir, scan, refs, stored, known[0][0] if known else None, run_id)
            run_sql(con, "COMMIT")
        except BaseException:
            run_sql(con, "ROLLBACK")
            raise
    except GitError as error:
        scan.error = str(error)
    finally:
        scan.seconds = time.perf_counter() - started
    return scan


def _existing(git_dir: str, shas: set[str]) -> set[str]:
    """The shas whose objects are still in the repository (a gc may have pruned old tips)."""
    if not shas:
        return set()
    out = git(git_dir, "cat-file", "--batch-check=%(objectname) %(objecttype)", stdin="\n".join(sorted(shas)) + "\n")
    return {line.split()[0] for line in out.splitlines() if line.endswith(" commit")}


def _rev_list(git_dir: str, *args: str) -> list[str]:
    return git(git_dir, "rev-list", *args).split()


def _ancestor_check(git_dir: str, old: str, new: str) -> bool:
    return git_ok(git_dir, "merge-base", "--is-ancestor", old, new)


def _update(con, git_dir: str, scan: RepoScan, refs: dict[str, str], stored: dict[str, str],
            old_default: str | None, run_id: int) -> None:
    old_tips = _existing(git_dir, set(stored.values()))
    missing_old = set(stored.values()) - old_tips
    for ref, sha in refs.items():
        old = stored.get(ref)
        if old and old != sha and (old not in old_tips or not _ancestor_check(git_dir, old, sha)):
            scan.rewritten_refs.append(ref.removeprefix("refs/heads/"))
    listed = _write_new_commits(con, git_dir, scan, sorted(set(refs.values())), sorted(old_tips), run_id)
    if listed:
        # Commits a branch reaches again (a restored branch) are reachable whether new or not.
        _set_flag(con, scan.repo_id, "reachable", listed, True)
    _update_reachability(con, git_dir, scan, refs, old_tips, missing_old)
    _update_default(con, git_dir, scan, refs, stored, old_default, run_id)
    run_sql(con, "DELETE FROM git_refs WHERE repo_id = ?", [scan.repo_id])
    if refs:
        frame = pl.DataFrame({"repo_id": scan.repo_id, "ref": list(refs), "sha": list(refs.values()), "run_id": run_id})
        with registered(con, "_refs", frame):
            run_sql(con, "INSERT INTO git_refs BY NAME SELECT * FROM _refs")
    _write_repo_row(con, git_dir, scan, refs, run_id)


def _write_new_commits(con, git_dir: str, scan: RepoScan, tips: list[str], old_tips: list[str], run_id: int) -> list[str]:
    """Read and insert the commits reachable from the new tips and not the old; return their shas."""
    if not tips:
        return []
    listed: list[str] = []
    chunk: list[Commit] = []
    for commit in read_commits(git_dir, tips + [f"^{sha}" for sha in old_tips]):
        chunk.append(commit)
        if len(chunk) >= CHUNK_COMMITS:
            listed += _insert_chunk(con, scan, chunk, run_id)
            chunk = []
    if chunk:
        listed += _insert_chunk(con, scan, chunk, run_id)
    return listed


def _insert_chunk(con, scan: RepoScan, chunk: list[Commit], run_id: int) -> list[str]:
    shas = [c.sha for c in chunk]
    present = {row[0] for row in run_sql(
        con, "SELECT sha FROM git_commits WHERE repo_id = ? AND list_contains(?, sha)", [scan.repo_id, shas])}
    fresh = [c for c in chunk if c.sha not in present]
    scan.new_commits += len(fresh)
    if fresh:
        rid = scan.repo_id
        commits = pl.DataFrame([{
            "repo_id": rid, "sha": c.sha, "parents": c.parents, "author_name": c.author_name,
            "author_email": c.author_email, "authored_at": c.authored_at, "committer_name": c.committer_name,
            "committer_email": c.committer_email, "committed_at": c.committed_at, "subject": c.subject,
            "trailers": c.trailers or None, "agent": c.agent, "files": len(c.files),
            "lines_added": sum(f.lines_added for f in c.files), "lines_removed": sum(f.lines_removed for f in c.files),
            "landed": False, "mainline": False, "reachable": True, "run_id": run_id} for c in fresh],
            schema=COMMIT_SCHEMA)
        files = pl.DataFrame(
            [{"repo_id": rid, "sha": c.sha, "path": f.path, "lines_added": f.lines_added, "lines_removed": f.lines_removed,
              "is_binary": f.is_binary, "run_id": run_id} for c in fresh for f in c.files],
            schema={"repo_id": pl.String, "sha": pl.String, "path": pl.String, "lines_added": pl.Int32,
                    "lines_removed": pl.Int32, "is_binary": pl.Boolean, "run_id": pl.Int64})
        lines = pl.DataFrame(
            {"repo_id": rid, "sha": [c.sha for c in fresh for _ in c.added],
             "path": [a[0] for c in fresh for a in c.added], "line_no": [a[1] for c in fresh for a in c.added],
             "line_hash": [a[2] for c in fresh for a in c.added], "run_id": run_id},
            schema={"repo_id": pl.String, "sha": pl.String, "path": pl.String, "line_no": pl.Int32,
                    "line_hash": pl.String, "run_id": pl.Int64})
        for table, frame in (("git_commits", commits), ("git_commit_files", files), ("git_added_lines", lines)):
            if frame.height:
                with registered(con, "_chunk", frame):
                    run_sql(con, f"INSERT INTO {table} BY NAME SELECT * FROM _chunk")
    return shas


def _set_flag(con, repo_id: str, column: str, shas: list[str], value: bool) -> None:
    frame = pl.DataFrame({"sha": shas}, schema={"sha": pl.String})
    with registered(con, "_flagged", frame):
        run_sql(con, f"UPDATE git_commits SET {column} = ? WHERE repo_id = ? AND sha IN (SELECT sha FROM _flagged)",
                [value, repo_id])


def _reset_flag(con, repo_id: str, column: str, shas: list[str]) -> None:
    """Set `column` true for exactly `shas` among the repository's commits."""
    frame = pl.DataFrame({"sha": shas}, schema={"sha": pl.String})
    with registered(con, "_flagged", frame):
        run_sql(con, f"UPDATE git_commits SET {column} = (sha IN (SELECT sha FROM _flagged)) WHERE repo_id = ?",
                [repo_id])


def _update_reachability(con, git_dir: str, scan: RepoScan, refs: dict[str, str], old_tips: set[str],
                         missing_old: set[str]) -> None:
    """Commits only the old tips reached are no longer on any branch."""
    tips = sorted(set(refs.values()))
    if missing_old:
        # An old tip was pruned: what it reached cannot be listed, so recompute from the branches.
        _reset_flag(con, scan.repo_id, "reachable", _rev_list(git_dir, *tips) if tips else [])
        scan.unreachable = run_sql(con, "SELECT count(*) FROM git_commits WHERE repo_id = ? AND NOT reachable",
                                   [scan.repo_id])[0][0]
        return
    gone_tips = sorted(old_tips - set(tips))
    if not gone_tips:
        return
    lost = _rev_list(git_dir, *gone_tips, "--not", *tips) if tips else _rev_list(git_dir, *gone_tips)
    if lost:
        _set_flag(con, scan.repo_id, "reachable", lost, False)
    scan.unreachable = len(lost)


def _update_default(con, git_dir: str, scan: RepoScan, refs: dict[str, str], stored: dict[str, str],
                    old_default: str | None, run_id: int) -> None:
    """landed, mainline and the per-branch rows, incrementally when the default branch only moved forward."""
    default = scan.default_branch
    new_tip = refs.get(default) if default else None
    old_tip = stored.get(default) if default and default == old_default else None
    fast_forward = bool(old_tip and new_tip and _ancestor_check(git_dir, old_tip, new_tip))
    if new_tip is None:
        _reset_flag(con, scan.repo_id, "landed", [])
        _reset_flag(con, scan.repo_id, "mainline", [])
        newly_landed: list[str] | None = None
    elif fast_forward:
        newly_landed = _rev_list(git_dir, new_tip, f"^{old_tip}") if new_tip != old_tip else []
        if newly_landed:
            _set_flag(con, scan.repo_id, "landed", newly_landed, True)
        mainline = _rev_list(git_dir, "--first-parent", new_tip, f"^{old_tip}") if new_tip != old_tip else []
        first_parent_of_oldest = git(git_dir, "rev-parse", f"{mainline[-1]}^1", check=False).strip() if mainline else old_tip
        if first_parent_of_oldest == old_tip:
            if mainline:
                _set_flag(con, scan.repo_id, "mainline", mainline, True)
        else:  # the old tip came in through a second parent: walk the chain again
            _reset_flag(con, scan.repo_id, "mainline", _rev_list(git_dir, "--first-parent", new_tip))
    else:
        _reset_flag(con, scan.repo_id, "landed", _rev_list(git_dir, new_tip))
        _reset_flag(con, scan.repo_id, "mainline", _rev_list(git_dir, "--first-parent", new_tip))
        newly_landed = None
    _update_branches(con, git_dir, scan, refs, stored, default, new_tip, newly_landed, run_id)


def _update_branches(con, git_dir: str, scan: RepoScan, refs: dict[str, str], stored: dict[str, str],
                     default: str | None, default_tip: str | None, newly_landed: list[str] | None, run_id: int) -> None:
    """git_branch_commits: commits of each other branch that the default branch lacks."""
    rid = scan.repo_id
    if newly_landed is None:
        run_sql(con, "DELETE FROM git_branch_commits WHERE repo_id = ?", [rid])
        changed = [ref for ref in refs if ref != default]
    else:
        if newly_landed:
            frame = pl.DataFrame({"sha": newly_landed}, schema={"sha": pl.String})
            with registered(con, "_landed", frame):
                run_sql(con, "DELETE FROM git_branch_commits WHERE repo_id = ? AND sha IN (SELECT sha FROM _landed)", [rid])
        changed = [ref for ref in set(refs) | set(stored) if ref != default and refs.get(ref) != stored.get(ref)]
        for ref in changed:
            run_sql(con, "DELETE FROM git_branch_commits WHERE repo_id = ? AND branch = ?", [rid, _short(ref)])
    rows = []
    for ref in changed:
        if ref in refs:
            exclude = [f"^{default_tip}"] if default_tip else []
            rows += [(_short(ref), sha) for sha in _rev_list(git_dir, refs[ref], *exclude)]
    if rows:
        frame = pl.DataFrame({"repo_id": rid, "branch": [r[0] for r in rows], "sha": [r[1] for r in rows], "run_id": run_id})
        with registered(con, "_branches", frame):
            run_sql(con, "INSERT INTO git_branch_commits BY NAME SELECT * FROM _branches")


def _short(ref: str) -> str:
    return ref.removeprefix("refs/heads/").removeprefix("refs/remotes/")


def _write_repo_row(con, git_dir: str, scan: RepoScan, refs: dict[str, str], run_id: int) -> None:
    head = refs.get(scan.default_branch) if scan.default_branch else None
    head_at = run_sql(con, "SELECT committed_at FROM git_commits WHERE repo_id = ? AND sha = ?",
                      [scan.repo_id, head])[0][0] if head else None
    commits = run_sql(con, "SELECT count(*) FROM git_commits WHERE repo_id = ?", [scan.repo_id])[0][0]
    run_sql(con, "DELETE FROM git_repos WHERE repo_id = ?", [scan.repo_id])
    run_sql(con, "INSERT INTO git_repos (repo_id, path, name, default_branch, head_sha, head_at, commits, scanned_at, run_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [scan.repo_id, git_dir, scan.name, scan.default_branch, head, head_at, commits, utc_now(), run_id])


def start_run(con: duckdb.DuckDBPyConnection, command: str) -> int:
    """Record a scan in ingest_runs (every row it writes carries this run_id)."""
    run_id = run_sql(con, "SELECT coalesce(max(run_id), 0) + 1 FROM ingest_runs")[0][0]
    run_sql(con, "INSERT INTO ingest_runs (run_id, started_at, status, command) VALUES (?, ?, 'running', ?)",
            [run_id, utc_now(), command])
    return run_id


def finish_run(con: duckdb.DuckDBPyConnection, run_id: int, status: str, error: str | None = None) -> None:
    """Close the run's record: ok, or failed with the reason."""
    run_sql(con, "UPDATE ingest_runs SET ended_at = ?, status = ?, error = ? WHERE run_id = ?",
            [utc_now(), status, error, run_id])


def load_path_map(con: duckdb.DuckDBPyConnection, rows: list[tuple[str, str]]) -> None:
    """Replace the mapping file's rows (laptop path prefix -> repository name or path)."""
    run_sql(con, "DELETE FROM git_path_map")
    for prefix, repo in rows:
        run_sql(con, "INSERT INTO git_path_map VALUES (?, ?)", [prefix, repo])
