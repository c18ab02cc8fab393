"""`agentledger org load`: the directory of users, teams and managers."""

from __future__ import annotations

import argparse
from pathlib import Path

from agentledger.commands.common import add_db_option, formatter, store_of
from agentledger.errors import UserError

EPILOG = """examples:
  agentledger org load org.csv
  agentledger org load org.csv --db team.duckdb

org.csv columns: user,email,display_name,team,manager,role (only user is required). `user` is the
name logs were ingested under; `manager` names the person's manager (their user or e-mail). `role`
(admin, manager or engineer) decides what a viewer of the dashboard or `report --as` may see; blank
means manager when someone reports to them, engineer otherwise (docs/security.md). A viewer signs in
with the e-mail in `email`. Loading replaces the directory; users who are not in it still count,
under team "(unassigned)".
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser("org", help="manage the org directory (users, teams, managers)",
                                   epilog=EPILOG, formatter_class=formatter())
    org_sub = parser.add_subparsers(dest="org_command", metavar="ACTION")
    org_sub.required = True
    load = org_sub.add_parser("load", help="load org.csv, replacing the directory", epilog=EPILOG, formatter_class=formatter())
    load.add_argument("csv", type=Path, metavar="CSV", help="org.csv: user,email,display_name,team,manager[,role]")
    add_db_option(load)
    load.set_defaults(handler=handle_load)


def handle_load(args: argparse.Namespace) -> int:
    from ingest.org import OrgError, load_org, read_org_csv
    from store.db import open_ledger

    try:
        members = read_org_csv(args.csv)
    except OrgError as error:
        raise UserError(str(error)) from error
    with open_ledger(store_of(args), what="org load") as ledger:
        count = ledger.transact(lambda con: load_org(con, members))
    print(f"loaded {count} users into the org directory")
    return 0
