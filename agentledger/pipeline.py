"""The one orchestrator: ingest, then bring the derived tables up to date.

Ingest knows nothing of analytics and analytics nothing of ingest; the CLI, the demo builder and
the benchmarks all load data through here, so "a run's refresh follows its load" is true everywhere.
A refresh that did not happen (the process was killed during it, or it failed) is not forgotten:
every run asks, in its last write window, whether the derived tables lag behind the ledger, and
the refresh goes on from its queue (analytics/refresh.py).

On a store with many concurrent writers (the DuckLake lake) there is no single "after the run":
each batch derives the sessions it loaded in its own transaction, so every committed snapshot has
derived tables that agree with its facts, and a worker killed mid-run leaves nothing to redo.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from ingest.runner import IngestOptions, RunSummary, run_ingest
from store.ledger import HeldLedger, Ledger
from store.sql import run_sql, transaction

if TYPE_CHECKING:
    from analytics.git_outcomes import GitDerived
    from analytics.refresh import RefreshSummary
    from ingest.batch import RecordBatch
    from ingest.git.scan import RepoScan

# Runs after the last refresh that may have changed the ledger (every run except one that finished
# and found nothing new: an aborted run may have committed batches before it died), or sessions
# still queued for deriving (a refresh that stopped, or a re-derive under way).
_DERIVED_LAG = """
SELECT EXISTS (
    SELECT 1 FROM ingest_runs r
    WHERE r.run_id > coalesce((SELECT max(last_run_id) FROM derived_state), 0)
      AND NOT (r.status = 'ok' AND coalesce(r.files_new, 0) = 0 AND coalesce(r.files_changed, 0) = 0)
) OR EXISTS (SELECT 1 FROM derive_queue)
"""


@dataclass
class PipelineResult:
    ingest: RunSummary
    refresh: "RefreshSummary | None"   # None: the derived tables were already current with the ledger


def derived_tables_lag(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether some run loaded data that the derived tables (reports, flags) do not reflect yet."""
    return bool(run_sql(con, _DERIVED_LAG)[0][0])


def ingest_and_refresh(target: Ledger | duckdb.DuckDBPyConnection, options: IngestOptions,
                       command: str = "ingest") -> PipelineResult:
    """Load what is new under `options.paths` into `target` (a Ledger, or an open connection),
    then refresh whatever the derived tables lack, this run's data or an interrupted run's; a
    pending full re-derive advances by at most `rederive_seconds_per_run` (analytics/refresh.py)."""
    ledger = HeldLedger(target) if isinstance(target, duckdb.DuckDBPyConnection) else target
    if not ledger.exclusive:
        options = replace(options, after_write=(*options.after_write, derive_batch))
        return PipelineResult(run_ingest(ledger, options, command), None)
    lag: list[bool] = []
    summary = run_ingest(ledger, options, command, last_window=lambda con: lag.append(derived_tables_lag(con)))
    if lag and not lag[0]:
        # A run that found nothing new, after a refresh that completed, stops here: that (and
        # analytics not even being imported) is what keeps a scheduled no-op fast.
        return PipelineResult(summary, None)
    from analytics.refresh import refresh_ledger, refresh_settings

    return PipelineResult(summary, refresh_ledger(ledger, rederive_seconds=refresh_settings().rederive_seconds_per_run))


@dataclass
class GitScanResult:
    run_id: int
    repos: list[RepoScan]
    not_repositories: list[Path]
    derived: GitDerived | None = None
    refresh: RefreshSummary | None = None        # the refresh that linked sessions to what the scan found
    survival: RefreshSummary | None = None       # the one after blame (survival figures)
    blamed: dict[str, int] = field(default_factory=dict)


def scan_git(target: Ledger | duckdb.DuckDBPyConnection, paths: list[Path], path_map: list[tuple[str, str]] | None = None,
             command: str = "git scan") -> GitScanResult:
    """Scan repositories, refresh (which links sessions to their commits), blame the files the
    links need (each snapshot once, ever), then refresh the survival figures. Git runs between
    write windows, as ingest parses between them."""
    # Imported here: a scheduled ingest (a no-op above all) never loads git nor analytics.
    from analytics.git_outcomes import blame_plan, git_derived
    from analytics.refresh import refresh_derived
    from ingest.git.blame import carry_over, copy_blame, forget_snapshots, run_blame, store_blame, stored_blame
    from ingest.git.cli import discover
    from ingest.git.scan import finish_run, load_path_map, scan_repo, start_run

    ledger = HeldLedger(target) if isinstance(target, duckdb.DuckDBPyConnection) else target
    with ledger.window() as con:
        lagging = derived_tables_lag(con)   # before this run is recorded (a running run counts as lagging)
        run_id = start_run(con, command)
    result = GitScanResult(run_id, [], [])
    try:
        git_dirs, result.not_repositories = discover(paths)
        result.repos = [scan_repo(ledger, git_dir, run_id) for git_dir in git_dirs]
        with ledger.window() as con:
            map_changed = load_path_map(con, path_map, run_id) if path_map is not None else False
            if lagging or map_changed or not all(scan.unchanged for scan in result.repos):
                result.refresh = refresh_derived(con)
            plan = blame_plan(con)
        for repo_id, work in plan.items():
            carried, todo, bases = carry_over(work.git_dir, work.pairs, work.blamed)
            stored = {}
            if bases:   # a changed file is blamed back to its stored blame, not over its whole history
                with ledger.window() as con:   # a few ranges: read where the file is held, not reopened
                    stored = stored_blame(con, repo_id, bases)
            blamed = run_blame(work.git_dir, todo, stored)
            with ledger.window() as con, transaction(con):
                for status, n in store_blame(con, repo_id, blamed, run_id).items():
                    result.blamed[status] = result.blamed.get(status, 0) + n
                if carried:   # after the blame they may copy
                    result.blamed["carried over"] = result.blamed.get("carried over", 0) + copy_blame(con, repo_id, carried, run_id)
                forget_snapshots(con, repo_id, work.snapshots)
        with ledger.window() as con:
            if plan:
                result.survival = refresh_derived(con)
            result.derived = git_derived(con)
    except BaseException as error:
        with ledger.window() as con:
            finish_run(con, run_id, result.repos, "failed", f"{type(error).__name__}: {error}")
        raise
    failed = [scan for scan in result.repos if scan.error]
    with ledger.window() as con:
        finish_run(con, run_id, result.repos, "ok" if not failed else "failed",
                   "; ".join(s.line() for s in failed) or None)
    return result


def derive_batch(con: duckdb.DuckDBPyConnection, run_id: int, batch: RecordBatch) -> int:
    """The after-write step of a lake's batches: derive the sessions the batch touched, in its transaction."""
    from analytics.refresh import derive_sessions

    derive_sessions(con, batch.session_ids())
    return 0
