"""`agentledger report KIND`: the registered reports as a table, CSV or JSON."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from pydantic import ValidationError

from agentledger.commands.common import add_db_option, formatter
from agentledger.errors import UserError
from analytics.export import to_csv, to_json, to_table
from analytics.filters import Filters
from analytics.reports import REPORTS, run_report
from store.db import reader

EPILOG = """examples:
  agentledger report users --from 2026-01-01 --to 2026-01-31
  agentledger report flags --team payments --format csv --output flags.csv
  agentledger report plugins --format json

Columns of every report are documented in docs/metrics.md. CSV is RFC 4180, UTF-8, timestamps
ISO-8601 UTC; cells that a spreadsheet would run as a formula are prefixed with '.
"""


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from error


def register(subparsers) -> None:
    descriptions = "\n".join(f"  {name:<9} {r.description}" for name, r in REPORTS.items())
    parser = subparsers.add_parser(
        "report", help="print a report (daily, users, teams, projects, models, plugins, sessions, flags)",
        description=f"reports:\n{descriptions}", epilog=EPILOG, formatter_class=formatter(),
    )
    parser.add_argument("kind", choices=list(REPORTS), metavar="KIND", help="one of: " + ", ".join(REPORTS))
    add_db_option(parser)
    parser.add_argument("--from", dest="date_from", type=_day, metavar="DAY", help="first UTC day (inclusive)")
    parser.add_argument("--to", dest="date_to", type=_day, metavar="DAY", help="last UTC day (inclusive)")
    parser.add_argument("--team", help="only this team ('(unassigned)' for people not in the org directory)")
    parser.add_argument("--user", help="only this person")
    parser.add_argument("--project", help="only this project (working directory)")
    parser.add_argument("--source", help="only this source (claude, codex, ...)")
    parser.add_argument("--model", help="only this model")
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output format (default table)")
    parser.add_argument("--output", type=Path, metavar="FILE", help="write to FILE instead of standard output")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    try:
        filters = Filters(date_from=args.date_from, date_to=args.date_to, team=args.team, user=args.user,
                          project=args.project, source=args.source, model=args.model)
    except ValidationError as error:
        raise UserError(error.errors()[0]["msg"].removeprefix("Value error, ")) from error
    with reader(args.db) as con:
        frame = run_report(con, args.kind, filters)
    if args.format == "csv":
        payload = to_csv(frame)
    elif args.format == "json":
        payload = to_json(frame)
    else:
        payload = to_table(frame).encode("utf-8")
    if args.output:
        args.output.write_bytes(payload)
        print(f"wrote {frame.height} rows to {args.output}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(payload)
        sys.stdout.flush()
    return 0
