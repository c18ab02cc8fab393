"""`agentledger export --parquet DIR`: the whole ledger as Hive-partitioned Parquet."""

from __future__ import annotations

import argparse
from pathlib import Path

from agentledger.commands.common import add_db_option, formatter, store_of

EPILOG = """examples:
  agentledger export --parquet /srv/export/agentledger
  agentledger export --parquet ./ledger-parquet --store 'ducklake:postgres:dbname=ledger host=db'

Writes DIR/<table>/day=YYYY-MM-DD/*.parquet for every table with a day or a time (requests,
session_day_facts, flags, ...) and DIR/<table>/data.parquet for the others (org_users, ...): Spark,
Trino, Polars, pandas and DuckDB read the folders as tables with `day` as a column, e.g.
  duckdb -c "SELECT day, sum(cost_usd) FROM read_parquet('DIR/session_day_facts/**/*.parquet',
             hive_partitioning = true) GROUP BY day"
An export over an earlier one replaces its tables' folders. Columns are defined in docs/metrics.md.
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser("export", help="write the ledger as Hive-partitioned Parquet",
                                   epilog=EPILOG, formatter_class=formatter())
    parser.add_argument("--parquet", type=Path, required=True, metavar="DIR", help="the folder to write")
    add_db_option(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from store.copy import export_parquet
    from store.db import reader

    with reader(store_of(args)) as con:
        written = export_parquet(con, args.parquet)
    print(f"exported {sum(written.values()):,} rows of {len(written)} tables to {args.parquet}")
    return 0
