"""The coverage report: which people and days the ingested transcripts fail to explain.

A reference (Admin API report, else OTel events) says what Claude Code spent per user and day;
the ingested transcript detail explains part of it. A gap means a machine or person whose logs
are not collected. Coverage is judged on tokens (no prices needed) with cost shown alongside.
"""

from __future__ import annotations

import duckdb
import polars as pl

from analytics import queries
from analytics.filters import Filters

# Below this share of the reference's tokens a user-day is 'partial' rather than 'covered'.
COVERED_SHARE = 0.9


def coverage(con: duckdb.DuckDBPyConnection, filters: Filters | None = None) -> pl.DataFrame:
    """Per user and day: reported vs explained cost and tokens, the gap, and a status."""
    return queries.read(con, "coverage", filters, threshold=COVERED_SHARE)


def coverage_gaps(con: duckdb.DuckDBPyConnection, filters: Filters | None = None) -> pl.DataFrame:
    """One row: the person-days the transcripts do not (fully) explain and their unexplained spend."""
    return queries.read(con, "view_coverage_gaps", filters, threshold=COVERED_SHARE)
