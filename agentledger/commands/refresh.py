"""`agentledger refresh`: bring costs, outcomes, flags and rollups up to date with the ledger."""

from __future__ import annotations

import argparse

from agentledger.commands.common import add_db_option, formatter, store_of

EPILOG = """examples:
  agentledger refresh                  # after editing the prices override file or the thresholds
  agentledger refresh --full --db team.duckdb

Every ingest that loads something refreshes the derived tables itself; a run that finds nothing
new skips it. Run this after changing AGENTLEDGER_PRICES_FILE or an analytics threshold.
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "refresh", help="recompute costs, outcomes, flags and rollups", epilog=EPILOG, formatter_class=formatter()
    )
    add_db_option(parser)
    parser.add_argument("--full", action="store_true", help="re-derive every session, not only those touched since last time")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from analytics.refresh import refresh_derived
    from store.db import open_ledger

    # One transaction; on a lake it is redone if an ingest worker's commit conflicted with it.
    with open_ledger(store_of(args), what="refresh") as ledger:
        summary = ledger.transact(lambda con: refresh_derived(con, full=args.full))
    unpriced = f", unpriced models: {', '.join(summary.unpriced_models)}" if summary.unpriced_models else ""
    print(f"refreshed {summary.sessions} sessions ({'full' if summary.full else 'incremental'}), "
          f"{summary.priced_models} priced models{unpriced}, {summary.seconds:.2f} s")
    return 0
