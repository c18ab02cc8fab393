"""`agentledger refresh`: bring costs, outcomes, flags and rollups up to date with the ledger."""

from __future__ import annotations

import argparse
import sys

from agentledger.commands.common import add_db_option, formatter, store_of

DEFAULT_WAIT_SECONDS = 60.0

EPILOG = """examples:
  agentledger refresh                  # after editing the prices override file or the thresholds
  agentledger refresh --full --db team.duckdb

Every ingest that loads something refreshes the derived tables itself; a run that finds nothing
new skips it. After a change of prices, thresholds or of AgentLedger itself every session is
derived again: a scheduled ingest does what is new at once and that re-derive a chunk at a time
(AGENTLEDGER_REDERIVE_SECONDS_PER_RUN), while reports say which figures are still the old ones;
`agentledger refresh` finishes it, showing its progress. It works in chunks, each committed in a
short write window: dashboards and reports keep answering meanwhile, and a refresh stopped midway
goes on from where it was.
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "refresh", help="recompute costs, outcomes, flags and rollups", epilog=EPILOG, formatter_class=formatter()
    )
    add_db_option(parser)
    parser.add_argument("--full", action="store_true", help="re-derive every session, not only those touched since last time")
    parser.add_argument(
        "--wait", type=float, default=DEFAULT_WAIT_SECONDS, metavar="SECONDS",
        help=f"how long to wait for another writer to finish before giving up with exit code 75 "
             f"(default: {DEFAULT_WAIT_SECONDS:g})",
    )
    bar = parser.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None, help="always show a progress bar")
    bar.add_argument("--no-progress", dest="progress", action="store_false", help="never show a progress bar")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from analytics.refresh import refresh_ledger
    from store.db import open_ledger
    from store.ledger import HeldLedger

    shown = sys.stderr.isatty() if args.progress is None else args.progress
    bar = tqdm(total=0, unit="row", unit_scale=True, desc="refresh", disable=not shown, file=sys.stderr)

    def progress(done: int, queued: int) -> None:
        bar.total = queued
        bar.n = done
        bar.refresh()

    with open_ledger(store_of(args), wait_seconds=args.wait, what="refresh") as ledger:
        if ledger.exclusive:
            summary = refresh_ledger(ledger, full=args.full, progress=progress)
        else:
            # A lake: redone if an ingest worker's commit conflicted with one of its transactions
            # (it goes on from the queue, so redoing it repeats nothing already committed).
            summary = ledger.transact(lambda con: refresh_ledger(HeldLedger(con), full=args.full, progress=progress))
    bar.close()
    unpriced = f", unpriced models: {', '.join(summary.unpriced_models)}" if summary.unpriced_models else ""
    print(f"refreshed {summary.sessions} sessions ({'full' if summary.full else 'incremental'}) in "
          f"{summary.chunks} chunk(s), {summary.priced_models} priced models{unpriced}, {summary.seconds:.2f} s")
    return 0
