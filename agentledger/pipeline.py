"""The one orchestrator: ingest, then bring the derived tables up to date.

Ingest knows nothing of analytics and analytics nothing of ingest; the CLI, the demo builder and
the benchmarks all load data through here, so "a run's refresh follows its load" is true everywhere.
A refresh that did not happen (the process was killed during it, or it failed) is not forgotten:
every run first compares the derived tables with the ledger and redoes what lags.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from analytics.refresh import RefreshSummary, refresh_derived
from ingest.runner import IngestOptions, RunSummary, run_ingest
from store.ledger import HeldLedger, Ledger
from store.sql import run_sql

# Runs after the last refresh that may have changed the ledger: every run except one that finished
# and found nothing new (an aborted run may have committed batches before it died).
_DERIVED_LAG = """
SELECT EXISTS (
    SELECT 1 FROM ingest_runs r
    WHERE r.run_id > coalesce((SELECT max(last_run_id) FROM derived_state), 0)
      AND NOT (r.status = 'ok' AND coalesce(r.files_new, 0) = 0 AND coalesce(r.files_changed, 0) = 0)
)
"""


@dataclass
class PipelineResult:
    ingest: RunSummary
    refresh: RefreshSummary | None   # None: the derived tables were already current with the ledger


def derived_tables_lag(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether some run loaded data that the derived tables (reports, flags) do not reflect yet."""
    return bool(run_sql(con, _DERIVED_LAG)[0][0])


def ingest_and_refresh(target: Ledger | duckdb.DuckDBPyConnection, options: IngestOptions,
                       command: str = "ingest") -> PipelineResult:
    """Load what is new under `options.paths` into `target` (a Ledger, or an open connection),
    then refresh whatever the derived tables lack, this run's data or an interrupted run's."""
    ledger = HeldLedger(target) if isinstance(target, duckdb.DuckDBPyConnection) else target
    summary = run_ingest(ledger, options, command)
    refreshed = None
    with ledger.window() as con:
        # A run that found nothing new, after runs whose refresh completed, skips this: that is
        # what keeps a scheduled no-op fast.
        if derived_tables_lag(con):
            refreshed = refresh_derived(con)
    return PipelineResult(summary, refreshed)
