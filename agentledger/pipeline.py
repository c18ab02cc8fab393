"""The one orchestrator: ingest, then bring the derived tables up to date.

Ingest knows nothing of analytics and analytics nothing of ingest; the CLI, the demo builder and
the benchmarks all load data through here, so "a run's refresh follows its load" is true everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from analytics.refresh import RefreshSummary, refresh_derived
from ingest.runner import IngestOptions, RunSummary, run_ingest


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
