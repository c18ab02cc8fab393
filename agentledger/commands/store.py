"""`agentledger store copy`: move a ledger between the single file and a DuckLake lake."""

from __future__ import annotations

import argparse

from agentledger.commands.common import formatter
from agentledger.errors import UserError

EPILOG = """examples:
  agentledger store copy ~/.local/share/agentledger/agentledger.duckdb 'ducklake:postgres:dbname=ledger host=db' \\
      --data-path s3://acme-agentledger/lake/
  agentledger store copy 'ducklake:postgres:dbname=ledger host=db' /tmp/ledger-snapshot.duckdb

FROM and TO are each a ledger file or a lake (ducklake:<catalog>). Every table is copied, the derived
ones too, in one transaction: TO must be empty (a new file, or a lake nobody ingested into yet).
--data-path says where a new lake keeps its Parquet files. Stop scheduled ingests into FROM while it
runs (a file ledger cannot be read while an ingest writes it).
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser("store", help="move a ledger between a file and a DuckLake lake",
                                   epilog=EPILOG, formatter_class=formatter())
    actions = parser.add_subparsers(dest="store_command", metavar="ACTION")
    actions.required = True
    copy = actions.add_parser("copy", help="copy every table of one ledger into an empty one",
                              epilog=EPILOG, formatter_class=formatter())
    copy.add_argument("source", metavar="FROM", help="a ledger file, or ducklake:<catalog>")
    copy.add_argument("target", metavar="TO", help="a new ledger file, or an empty lake (ducklake:<catalog>)")
    copy.add_argument("--data-path", metavar="URL", help="where a new lake TO keeps its Parquet files")
    copy.set_defaults(handler=handle_copy)


def handle_copy(args: argparse.Namespace) -> int:
    from store.config import lake_target
    from store.copy import CopyError, copy_into
    from store.db import writer

    target = lake_target(args.target, args.data_path) or args.target
    source = lake_target(args.source) or args.source
    if str(source) == str(target):
        raise UserError("FROM and TO are the same ledger")
    try:
        with writer(target, what="store copy") as con:
            summary = copy_into(con, source)
    except CopyError as error:
        raise UserError(str(error)) from error
    print(f"copied {summary.rows:,} rows in {len(summary.tables)} tables from {source} to {target}")
    return 0
