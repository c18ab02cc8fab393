"""Incremental scan of one repository into the git_* tables.

The branch tips of the last scan are the cursor: a scan reads only the commits reachable from the
new tips and not from the old ones (`git log --stdin` with `^old`), so its cost follows the new
commits; equal tips cost two git calls and a query. A tip that does not descend from its old value
is rewritten history (force-push, rebase): the new commits are read like any others, the commits
no branch reaches any more stay (reachable = false: a session may have printed their sha), and
"landed" / the mainline are recomputed from the default branch.

The ledger is held only in short write windows, as ingest holds it (store/ledger.py): git runs
with the file closed; each chunk of new commits is one window and one transaction (a chunk already
stored is recognised by its shas), and the flags, branches and the cursor are written last, in one
window. A scan killed half-way leaves the old cursor: the next one reads the same commits again
and stores only those still missing.
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from ingest.git.cli import GitError, git, git_ok
from ingest.git.log import Commit, read_commits
from ingest.hashing import short_hash
from ingest.secrets import scrub, scrub_frame
from ingest.timestamps import utc_now
from ingest.writer import registered
from store.ledger import HeldLedger, Ledger
from store.sql import run_sql, transaction

# Commits written per statement batch: bounds memory on a first scan of a large history.
CHUNK_COMMITS = 2000
DEFAULT_CANDIDATES = ("refs/heads/main", "refs/heads/master", "refs/remotes/origin/main", "refs/remotes/origin/master",
                      "refs/heads/trunk", "refs/heads/develop")


COMMIT_SCHEMA = {
    "repo_id": pl.String, "sha": pl.String, "parents": pl.String, "author_name": pl.String, "author_email": pl.String,
    "authored_at": pl.Datetime("us"), "committer_name": pl.String, "committer_email": pl.String,
    "committed_at": pl.Datetime("us"), "subject": pl.String, "trailers": pl.String, "agent": pl.String,
    "files": pl.Int32, "lines_added": pl.Int32, "lines_removed": pl.Int32, "nonblank_added": pl.Int32, "landed": pl.Boolean,
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
    first: bool = False                 # never scanned before
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


def scan_repo(target: Ledger | duckdb.DuckDBPyConnection, git_dir: str, run_id: int) -> RepoScan:
    """Bring one repository's rows up to date in `target` (a Ledger, or an open connection); git
    runs between the ledger's write windows."""
    ledger = HeldLedger(target) if isinstance(target, duckdb.DuckDBPyConnection) else target
    started = time.perf_counter()
    scan = RepoScan(git_dir, repo_id_of(git_dir), repo_name(git_dir))
    try:
        refs = list_refs(git_dir)
        scan.default_branch = default_branch(git_dir, refs)
        with ledger.window() as con:
            stored = dict(run_sql(con, "SELECT ref, sha FROM git_refs WHERE repo_id = ?", [scan.repo_id]))
            known = run_sql(con, "SELECT default_branch FROM git_repos WHERE repo_id = ?", [scan.repo_id])
        scan.first = not known
        if known and stored == refs and known[0][0] == scan.default_branch:
            scan.unchanged = True
            return scan
        _update(ledger, git_dir, scan, refs, stored, known[0][0] if known else None, run_id)
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


@dataclass
class _Changes:
    """What a scan changes besides new commits, worked out with git before the ledger is opened."""

    flags: list[tuple[str, list[str], bool | None]] = field(default_factory=list)  # (column, shas, value|None=exactly)
    count_unreachable: bool = False       # recount after the flags (an old tip was pruned)
    branches_reset: bool = True           # rewrite every branch's rows (else only `branches_changed`)
    landed_now: list[str] = field(default_factory=list)
    branches_changed: list[str] = field(default_factory=list)
    branch_rows: list[tuple[str, str]] = field(default_factory=list)


def _update(ledger: Ledger, git_dir: str, scan: RepoScan, refs: dict[str, str], stored: dict[str, str],
            old_default: str | None, run_id: int) -> None:
    old_tips = _existing(git_dir, set(stored.values()))
    missing_old = set(stored.values()) - old_tips
    for ref, sha in refs.items():
        old = stored.get(ref)
        if old and old != sha and (old not in old_tips or not _ancestor_check(git_dir, old, sha)):
            scan.rewritten_refs.append(ref.removeprefix("refs/heads/"))
    listed = _write_new_commits(ledger, git_dir, scan, sorted(set(refs.values())), sorted(old_tips), run_id)
    changes = _Changes()
    if listed:
        # Commits a branch reaches again (a restored branch) are reachable whether new or not.
        changes.flags.append(("reachable", listed, True))
    _reachability(git_dir, scan, refs, old_tips, missing_old, changes)
    _default_branch_changes(git_dir, scan, refs, stored, old_default, changes)
    with ledger.window() as con, transaction(con):
        _apply(con, scan, changes, refs, run_id)
        _write_repo_row(con, git_dir, scan, refs, run_id)


def _write_new_commits(ledger: Ledger, git_dir: str, scan: RepoScan, tips: list[str], old_tips: list[str],
                       run_id: int) -> list[str]:
    """Read and insert the commits reachable from the new tips and not the old, a window per
    chunk; return their shas."""
    if not tips:
        return []
    listed: list[str] = []
    chunk: list[Commit] = []
    for commit in read_commits(git_dir, tips + [f"^{sha}" for sha in old_tips]):
        chunk.append(commit)
        if len(chunk) >= CHUNK_COMMITS:
            listed += _store_chunk(ledger, scan, chunk, run_id)
            chunk = []
    if chunk:
        listed += _store_chunk(ledger, scan, chunk, run_id)
    return listed


def _store_chunk(ledger: Ledger, scan: RepoScan, chunk: list[Commit], run_id: int) -> list[str]:
    with ledger.window() as con, transaction(con):
        return _insert_chunk(con, scan, chunk, run_id)


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
            "nonblank_added": len(c.added), "landed": False, "mainline": False, "reachable": True, "run_id": run_id} for c in fresh],
            schema=COMMIT_SCHEMA)
        # Messages are free text (`git commit -m "token=..."`): scrubbed as the printed subjects
        # in commit_evidence are, so a printed subject still equals its commit's.
        commits = scrub_frame(commits, ("subject", "trailers"))
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
        if lines.height:
            counts = lines.group_by("repo_id", "line_hash").agg(commits=pl.col("sha").n_unique().cast(pl.Int64))
            with registered(con, "_df", counts):
                run_sql(con, "MERGE INTO git_line_df USING _df i ON git_line_df.repo_id = i.repo_id"
                             " AND git_line_df.line_hash = i.line_hash"
                             " WHEN MATCHED THEN UPDATE SET commits = git_line_df.commits + i.commits"
                             " WHEN NOT MATCHED THEN INSERT BY NAME")
        if files.height:
            paths = files.select("repo_id", "path").unique().with_columns(
                base=pl.col("path").str.extract(r"([^/]*)$"), run_id=pl.lit(run_id, dtype=pl.Int64))
            with registered(con, "_paths", paths):
                run_sql(con, "INSERT INTO git_paths BY NAME SELECT * FROM _paths i"
                             " WHERE NOT EXISTS (SELECT 1 FROM git_paths p WHERE p.repo_id = i.repo_id AND p.path = i.path)")
    return shas


def _reachability(git_dir: str, scan: RepoScan, refs: dict[str, str], old_tips: set[str], missing_old: set[str],
                  changes: _Changes) -> None:
    """Commits only the old tips reached are no longer on any branch."""
    tips = sorted(set(refs.values()))
    if missing_old:
        # An old tip was pruned: what it reached cannot be listed, so recompute from the branches.
        changes.flags.append(("reachable", _rev_list(git_dir, *tips) if tips else [], None))
        changes.count_unreachable = True
        return
    gone_tips = sorted(old_tips - set(tips))
    if not gone_tips:
        return
    lost = _rev_list(git_dir, *gone_tips, "--not", *tips) if tips else _rev_list(git_dir, *gone_tips)
    if lost:
        changes.flags.append(("reachable", lost, False))
    scan.unreachable = len(lost)


def _default_branch_changes(git_dir: str, scan: RepoScan, refs: dict[str, str], stored: dict[str, str],
                            old_default: str | None, changes: _Changes) -> None:
    """landed, mainline and the per-branch rows, incrementally when the default branch only moved forward."""
    default = scan.default_branch
    new_tip = refs.get(default) if default else None
    old_tip = stored.get(default) if default and default == old_default else None
    fast_forward = bool(old_tip and new_tip and _ancestor_check(git_dir, old_tip, new_tip))
    if new_tip is None:
        changes.flags += [("landed", [], None), ("mainline", [], None)]
    elif fast_forward:
        changes.branches_reset = False
        changes.landed_now = _rev_list(git_dir, new_tip, f"^{old_tip}") if new_tip != old_tip else []
        if changes.landed_now:
            changes.flags.append(("landed", changes.landed_now, True))
        mainline = _rev_list(git_dir, "--first-parent", new_tip, f"^{old_tip}") if new_tip != old_tip else []
        first_parent_of_oldest = git(git_dir, "rev-parse", f"{mainline[-1]}^1", check=False).strip() if mainline else old_tip
        if first_parent_of_oldest == old_tip:
            if mainline:
                changes.flags.append(("mainline", mainline, True))
        else:  # the old tip came in through a second parent: walk the chain again
            changes.flags.append(("mainline", _rev_list(git_dir, "--first-parent", new_tip), None))
    else:
        changes.flags += [("landed", _rev_list(git_dir, new_tip), None),
                          ("mainline", _rev_list(git_dir, "--first-parent", new_tip), None)]
    # git_branch_commits: commits of each other branch that the default branch lacks.
    if changes.branches_reset:
        changed = [ref for ref in refs if ref != default]
    else:
        changed = [ref for ref in set(refs) | set(stored) if ref != default and refs.get(ref) != stored.get(ref)]
    changes.branches_changed = sorted(_short(ref) for ref in changed)
    exclude = [f"^{new_tip}"] if new_tip else []
    for ref in sorted(changed):
        if ref in refs:
            changes.branch_rows += [(_short(ref), sha) for sha in _rev_list(git_dir, refs[ref], *exclude)]


def _apply(con, scan: RepoScan, changes: _Changes, refs: dict[str, str], run_id: int) -> None:
    """Write what `_Changes` says, and the new cursor (the branch tips)."""
    rid = scan.repo_id
    for column, shas, value in changes.flags:
        frame = pl.DataFrame({"sha": shas}, schema={"sha": pl.String})
        with registered(con, "_flagged", frame):
            if value is None:  # exactly these
                run_sql(con, f"UPDATE git_commits SET {column} = (sha IN (SELECT sha FROM _flagged)) WHERE repo_id = ?",
                        [rid])
            elif shas:
                run_sql(con, f"UPDATE git_commits SET {column} = ? WHERE repo_id = ? AND sha IN (SELECT sha FROM _flagged)",
                        [value, rid])
    if changes.count_unreachable:
        scan.unreachable = run_sql(con, "SELECT count(*) FROM git_commits WHERE repo_id = ? AND NOT reachable", [rid])[0][0]
    if changes.branches_reset:
        run_sql(con, "DELETE FROM git_branch_commits WHERE repo_id = ?", [rid])
    else:
        if changes.landed_now:
            frame = pl.DataFrame({"sha": changes.landed_now}, schema={"sha": pl.String})
            with registered(con, "_landed", frame):
                run_sql(con, "DELETE FROM git_branch_commits WHERE repo_id = ? AND sha IN (SELECT sha FROM _landed)", [rid])
        if changes.branches_changed:
            run_sql(con, "DELETE FROM git_branch_commits WHERE repo_id = ? AND list_contains(?, branch)",
                    [rid, changes.branches_changed])
    if changes.branch_rows:
        frame = pl.DataFrame({"repo_id": rid, "branch": [r[0] for r in changes.branch_rows],
                              "sha": [r[1] for r in changes.branch_rows], "run_id": run_id})
        with registered(con, "_branches", frame):
            run_sql(con, "INSERT INTO git_branch_commits BY NAME SELECT * FROM _branches")
    run_sql(con, "DELETE FROM git_refs WHERE repo_id = ?", [rid])
    if refs:
        frame = pl.DataFrame({"repo_id": rid, "ref": list(refs), "sha": list(refs.values()), "run_id": run_id})
        with registered(con, "_refs", frame):
            run_sql(con, "INSERT INTO git_refs BY NAME SELECT * FROM _refs")


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
    # A run killed mid-way left status 'running'; what it committed stands (as ingest does).
    run_sql(con, "UPDATE ingest_runs SET status = 'aborted' WHERE status = 'running'")
    run_id = run_sql(con, "SELECT coalesce(max(run_id), 0) + 1 FROM ingest_runs")[0][0]
    run_sql(con, "INSERT INTO ingest_runs (run_id, started_at, status, command) VALUES (?, ?, 'running', ?)",
            [run_id, utc_now(), scrub(command)])
    return run_id


def finish_run(con: duckdb.DuckDBPyConnection, run_id: int, scans: list[RepoScan], status: str,
               error: str | None = None) -> None:
    """Close the run's record. For a scan the files_* counters count repositories: new (first
    scan), changed (new commits or moved branches), unchanged, failed."""
    new = sum(1 for s in scans if not s.error and not s.unchanged and s.first)
    changed = sum(1 for s in scans if not s.error and not s.unchanged and not s.first)
    run_sql(con, "UPDATE ingest_runs SET ended_at = ?, status = ?, error = ?, files_seen = ?, files_new = ?,"
                 " files_changed = ?, files_unchanged = ?, files_failed = ? WHERE run_id = ?",
            [utc_now(), status, scrub(error), len(scans), new, changed, sum(1 for s in scans if s.unchanged),
             sum(1 for s in scans if s.error), run_id])


class PathMapError(ValueError):
    """The mapping file cannot be used; the message names the file and the line."""


def read_path_map(path: Path) -> list[tuple[str, str]]:
    """Rows of a mapping file (CSV with a header `prefix,repo`): sessions whose working directory
    starts with prefix worked in the scanned repository named repo (its folder name or its path)."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or {"prefix", "repo"} - set(reader.fieldnames):
                raise PathMapError(f"{path}: the header must name the columns prefix,repo")
            rows = []
            for number, row in enumerate(reader, start=2):
                prefix, repo = (row.get("prefix") or "").strip(), (row.get("repo") or "").strip()
                if not prefix or not repo:
                    raise PathMapError(f"{path}:{number}: prefix and repo must both be given")
                rows.append((prefix, repo))
            return rows
    except OSError as error:
        raise PathMapError(f"cannot read {path}: {error.strerror}") from error


def load_path_map(con: duckdb.DuckDBPyConnection, rows: list[tuple[str, str]], run_id: int) -> bool:
    """Replace the mapping file's rows (laptop path prefix -> repository name or path); whether
    they changed."""
    wanted = sorted(set(rows))
    if sorted(run_sql(con, "SELECT prefix, repo FROM git_path_map")) == wanted:
        return False
    run_sql(con, "DELETE FROM git_path_map")
    if wanted:
        frame = pl.DataFrame({"prefix": [r[0] for r in wanted], "repo": [r[1] for r in wanted], "run_id": run_id},
                             schema={"prefix": pl.String, "repo": pl.String, "run_id": pl.Int64})
        with registered(con, "_path_map", frame):
            run_sql(con, "INSERT INTO git_path_map BY NAME SELECT * FROM _path_map")
    return True
