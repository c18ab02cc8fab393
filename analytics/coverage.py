"""The coverage report: which people and days the ingested transcripts fail to explain.

A reference (Admin API report, else OTel events) says what Claude Code spent per user and day;
the ingested transcript detail explains part of it. A gap means a machine or person whose logs
are not collected. Coverage is judged on tokens (no prices needed) with cost shown alongside.
"""

from __future__ import annotations

import duckdb
import polars as pl

from analytics.filters import Filters
from analytics.queries import bind, statements

# Below this share of the reference's tokens a user-day is 'partial' rather than 'covered'.
COVERED_SHARE = 0.9
_NO_FACTS = "(SELECT NULL::VARCHAR AS request_key, NULL::DOUBLE AS cost_usd WHERE FALSE)"


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchone()[0])


def coverage(con: duckdb.DuckDBPyConnection, filters: Filters | None = None) -> pl.DataFrame:
    """Per user and day: reported vs explained cost and tokens, the gap, and a status."""
    filters = filters or Filters()
    (sql,) = statements("coverage")
    if not _has_table(con, "request_facts"):
        # Without the analytics tables only OTel-exact costs explain spend; tokens still compare.
        sql = sql.replace("request_facts", _NO_FACTS)
    params = {**filters.params(), "threshold": COVERED_SHARE}
    # duckdb 2.0 cursors have no .pl(), and Arrow off a cursor copies anyway: build the frame directly.
    cursor = con.execute(sql, bind(sql, params))
    names = [d[0] for d in cursor.description]
    return pl.DataFrame(cursor.fetchall(), schema=names, orient="row", infer_schema_length=None)
