"""The one orchestrator: ingest, then bring the derived tables up to date.

Ingest knows nothing of analytics and analytics nothing of ingest; the CLI, the demo builder and
the benchmarks all load data through here, so "a run's refresh follows its load" is true everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from analytics.git_outcomes import GitDerived, blame_plan, derive_links, derive_survival, drop_temp_tables
from analytics.refresh import RefreshSummary, refresh_derived
from ingest.git.blame import blame_pairs, forget_snapshots
from ingest.git.cli import discover
from ingest.git.scan import RepoScan, finish_run, load_path_map, scan_repo, start_run
from ingest.runner import IngestOptions, RunSummary, run_ingest
from store.sql import run_sql


@dataclass
class PipelineResult:
    ingest: RunSummary
    refresh: RefreshSummary | None   # None: nothing new was loaded and the derived tables were current


def ingest_and_refresh(con: duckdb.DuckDBPyConnection, options: IngestOptions,
                       command: str = "ingest") -> PipelineResult:
    """Load what is new under `options.paths`, then refresh what it changed."""
    summary = run_ingest(con, options, command)
    refreshed = None
    if summary.files_new or summary.files_changed:
        # A run that found nothing new skips the refresh: that is what keeps a scheduled no-op fast.
        refreshed = refresh_derived(con)
    return PipelineResult(summary, refreshed)


@dataclass
class GitScanResult:
    run_id: int
    repos: list[RepoScan]
    not_repositories: list[Path]
    derived: GitDerived | None = None
    blamed: dict[str, int] = field(default_factory=dict)


def scan_git(con: duckdb.DuckDBPyConnection, paths: list[Path], path_map: list[tuple[str, str]] | None = None,
             command: str = "git scan") -> GitScanResult:
    """Scan repositories (each in its own transaction), link sessions to their commits, blame the
    files the links need (each snapshot once, ever), then derive survival and per-edit outcomes."""
    run_id = start_run(con, command)
    try:
        git_dirs, empty = discover(paths)
        result = GitScanResult(run_id, [scan_repo(con, git_dir, run_id) for git_dir in git_dirs], empty)
        if path_map is not None:
            load_path_map(con, path_map)
        elif all(scan.unchanged for scan in result.repos) and not _blame_pending(con):
            # Nothing new in git, and every ingest since the last scan refreshed the links already.
            result.derived = GitDerived(*run_sql(con, "SELECT (SELECT count(DISTINCT session_id) FROM session_repos),"
                                                      " (SELECT count(*) FROM git_links), (SELECT count(*) FROM commit_agent_lines)")[0])
            finish_run(con, run_id, "ok")
            return result
        result.derived = _in_transaction(con, lambda: derive_links(con))
        for repo_id, (git_dir, pairs) in blame_plan(con).items():
            counts = _in_transaction(con, lambda: _blame(con, repo_id, git_dir, pairs, run_id))
            for status, n in counts.items():
                result.blamed[status] = result.blamed.get(status, 0) + n
        _in_transaction(con, lambda: derive_survival(con))
    except BaseException as error:
        drop_temp_tables(con)
        finish_run(con, run_id, "failed", str(error).splitlines()[0] if str(error) else type(error).__name__)
        raise
    drop_temp_tables(con)
    failed = [scan for scan in result.repos if scan.error]
    finish_run(con, run_id, "ok" if not failed else "failed", "; ".join(s.line() for s in failed) or None)
    return result


def _blame_pending(con) -> bool:
    return run_sql(con, "SELECT EXISTS (SELECT 1 FROM git_blame_plan p WHERE NOT EXISTS (SELECT 1 FROM git_blamed b"
                        " WHERE b.repo_id = p.repo_id AND b.snapshot = p.snapshot AND b.path = p.path))")[0][0]


def _blame(con, repo_id: str, git_dir: str, pairs: list[tuple[str, str]], run_id: int) -> dict[str, int]:
    counts = blame_pairs(con, repo_id, git_dir, pairs, run_id)
    forget_snapshots(con, repo_id, sorted({snapshot for snapshot, _ in pairs}))
    return counts


def _in_transaction(con, work):
    run_sql(con, "BEGIN TRANSACTION")
    try:
        value = work()
        run_sql(con, "COMMIT")
    except BaseException:
        run_sql(con, "ROLLBACK")
        raise
    return value
