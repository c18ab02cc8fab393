"""`agentledger report KIND`: the registered reports as a table, CSV or JSON."""

from __future__ import annotations

import argparse
import getpass
import sys
import textwrap
from datetime import date
from pathlib import Path

from pydantic import ValidationError

from agentledger.commands.common import add_db_option, formatter, store_of
from agentledger.errors import UserError
from analytics.access.directory import AccessDenied, Viewer, scope_for_email
from analytics.access.scope import bind
from analytics.access.settings import AccessConfigError, AccessSettings, load_access_settings
from analytics.export import to_csv, to_json, to_table
from analytics.filters import Filters, UnknownValue, dimensions, period_flags, resolve
from analytics.queries import filter_choices
from analytics.reports import REPORTS, run_report
from store import audit
from store.db import reader, store_name

EPILOG = """examples:
  agentledger report users --from 2026-01-01 --to 2026-01-31
  agentledger report flags --team payments --format csv --output flags.csv
  agentledger report plugins --format json
  agentledger report teams --as claire.bennett@example.com    # what that person may see, as they see it

Names (--team, --user, ...) match the ledger's spelling case-insensitively; a name the ledger does
not hold is an error (exit 2), never an empty report. Columns of every report are defined in
docs/metrics.md. CSV is RFC 4180, UTF-8, timestamps ISO-8601 UTC; cells that a spreadsheet would run
as a formula are prefixed with '.

--as EMAIL gives exactly the rows that person's dashboard shows: their scope from the org directory
(admin: everything; manager: the teams of their reports; engineer: their own sessions), people as
pseudonyms where the access configuration says so. Without --as the report is the ledger owner's:
everything. Every report run is recorded in the audit log (docs/security.md).
"""


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from error


def _reports_help() -> str:
    """Each report, what it is, and its columns (their definitions: docs/metrics.md)."""
    lines = ["reports and their columns:"]
    for name, report in REPORTS.items():
        lines.append(f"  {name:<9} {report.description}")
        lines += textwrap.wrap(", ".join(report.names), width=96, initial_indent=" " * 12, subsequent_indent=" " * 12)
    return "\n".join(lines)


def add_filter_options(parser: argparse.ArgumentParser) -> None:
    """One option per Filters field (--from/--to and one per dimension), with the model's help text."""
    for name, (flag, metavar, help_text) in period_flags().items():
        parser.add_argument(flag, dest=name, type=_day, metavar=metavar, help=help_text)
    for dimension in dimensions():
        parser.add_argument(dimension.flag, dest=dimension.name, metavar="NAME", help=dimension.help)


def filters_from(args: argparse.Namespace) -> Filters:
    """The Filters the options describe; a contradiction (--from after --to) is a user error."""
    try:
        return Filters(**{name: getattr(args, name) for name in Filters.model_fields})
    except ValidationError as error:
        raise UserError(error.errors()[0]["msg"].removeprefix("Value error, ")) from error


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "report", help=f"print a report ({', '.join(REPORTS)})",
        description=_reports_help(), epilog=EPILOG, formatter_class=formatter(),
    )
    parser.add_argument("kind", choices=list(REPORTS), metavar="KIND", help="one of: " + ", ".join(REPORTS))
    add_db_option(parser)
    add_filter_options(parser)
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output format (default table)")
    parser.add_argument("--output", type=Path, metavar="FILE", help="write to FILE instead of standard output")
    parser.add_argument("--as", dest="as_email", metavar="EMAIL",
                        help="only what this person may see (their e-mail in the org directory)")
    parser.set_defaults(handler=handle)


def _viewer(con, email: str | None, settings: AccessSettings) -> Viewer:
    """The viewer of this run, with their scope bound on `con` (--as), or the ledger's owner."""
    if email is None:
        return Viewer.owner(f"cli:{getpass.getuser()}")
    try:
        viewer, scope = scope_for_email(con, email, settings)
    except AccessDenied as error:
        raise UserError(str(error)) from error
    bind(con, scope)
    return viewer


def handle(args: argparse.Namespace) -> int:
    filters = filters_from(args)
    try:
        settings = load_access_settings()
    except AccessConfigError as error:
        raise UserError(str(error)) from error
    store = store_of(args)
    ledger = store_name(store)
    with reader(store) as con:
        viewer = _viewer(con, args.as_email, settings)
        asked = filters
        if any(getattr(filters, d.name) for d in dimensions()):
            try:
                filters = resolve(filters, filter_choices(con))
            except UnknownValue as error:
                _audit(ledger, settings, viewer, "refused", args.kind, asked)
                raise UserError(str(error)) from error
        frame = run_report(con, args.kind, filters)
    _audit(ledger, settings, viewer, "export", args.kind, filters)
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


def _audit(ledger, settings: AccessSettings, viewer: Viewer, action: str, kind: str, filters: Filters) -> None:
    """Record the run in the audit log before any row leaves (for --as: no audit, no rows)."""
    try:
        audit.append(audit.audit_path_for(ledger, settings.audit_file), audit.AuditEvent(
            viewer=viewer.label, role=viewer.role, mode="cli", action=action, target=f"report:{kind}",
            filters=filters.model_dump(mode="json", exclude_none=True), client="cli"))
    except audit.AuditError as error:
        if viewer.user_name is None:
            # The ledger's owner can read the file itself: the audit of their runs is a courtesy, and a
            # read-only copy of a ledger must stay readable.
            print(f"warning: not recorded in the audit log: {error}", file=sys.stderr)
            return
        raise UserError(f"{error} (set audit_file in the access configuration)") from error
