"""`agentledger demo`: load a sample organisation into a demo ledger and open the dashboard on it."""

from __future__ import annotations

import argparse
from pathlib import Path

from agentledger.commands.common import formatter
from agentledger.commands.dashboard import access_for_serving, add_serve_options, serve
from agentledger.demo import DemoOptions, build_demo_db, default_demo_db, demo_dir

EPILOG = """examples:
  agentledger demo
  agentledger demo --generate --users 40 --days 90
  agentledger demo --db /tmp/demo.duckdb --port 8600 --no-browser

Without --generate the demo loads the sample transcripts and org.csv shipped with AgentLedger.
Running it again is cheap: files already in the ledger are recognised and skipped.
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo", help="load a sample org into a demo ledger and open the dashboard", epilog=EPILOG,
        formatter_class=formatter(),
    )
    parser.add_argument(
        "--db", metavar="FILE",
        help=f"demo ledger file (default: {demo_dir() / 'sample.duckdb'}; with --generate, "
             "generated-<users>u-<days>d-s<seed>.duckdb beside it)",
    )
    parser.add_argument("--generate", action="store_true", help="generate a synthetic org instead of the shipped sample")
    parser.add_argument("--users", type=int, default=25, metavar="N", help="people in a generated org (default: 25)")
    parser.add_argument("--days", type=int, default=30, metavar="N", help="days of activity to generate (default: 30)")
    parser.add_argument("--seed", type=int, default=7, metavar="N", help="random seed for --generate (default: 7)")
    parser.add_argument("--no-serve", action="store_true", help="build the demo ledger and exit (no dashboard)")
    add_serve_options(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    if not args.no_serve:
        access_for_serving(args.access_config, args.host)   # refuse a forbidden --host before building
    options = DemoOptions(generate=args.generate, users=args.users, days=args.days, seed=args.seed)
    db = Path(args.db).expanduser() if args.db else default_demo_db(options)
    summary = build_demo_db(db, options)
    print(summary)
    if args.no_serve:
        return 0
    return serve(db.absolute(), args.port, args.host, not args.no_browser, args.access_config)
