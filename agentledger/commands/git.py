"""`agentledger git scan`: read repositories into the ledger and link sessions to their commits."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from agentledger.commands.common import add_db_option, formatter
from agentledger.errors import UserError

DEFAULT_WAIT_SECONDS = 60.0

EPILOG = """examples:
  agentledger git scan ~/work/spotter                    # a working clone
  agentledger git scan /srv/mirrors --db /srv/ledger.duckdb   # a folder of bare mirrors
  agentledger git scan /srv/mirrors --map paths.csv      # laptop paths no commit explains

A scan reads only what is new since the last one (an unchanged repository costs a fraction of a
second) and handles rewritten history (force-push, rebase). Like ingest it holds the ledger only
while it writes (dashboards keep reading meanwhile) and waits for another writer (--wait). Then sessions are linked to commits
(a printed sha; its rebased or squashed copy; or, for sessions that never committed, their lines
in a commit made soon after), the files of linked commits are blamed, and `agentledger report
outcomes` / `report commits` show what the spend bought. Run it after `agentledger ingest`.

--map FILE is a CSV with a header `prefix,repo`: sessions whose working directory starts with
prefix worked in the scanned repository named repo (its folder name without .git, or its path).
No code is stored: hashes of added lines, paths and commit metadata.

exit codes:
  0   done
  1   a repository could not be read (the others were; the message names it), or the run failed
  2   wrong usage: a PATH that does not exist, a malformed --map file
  75  busy: another ingest, refresh, org load or scan held the ledger for longer than --wait
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser("git", help="git as a source: scan repositories, link sessions to commits",
                                   description="Outcomes in git.", epilog=EPILOG, formatter_class=formatter())
    commands = parser.add_subparsers(dest="git_command", metavar="COMMAND")
    commands.required = True
    scan = commands.add_parser("scan", help="scan repositories (or folders of them) and link sessions to commits",
                               epilog=EPILOG, formatter_class=formatter())
    scan.add_argument("paths", nargs="+", type=Path, metavar="PATH",
                      help="a repository (working clone or bare mirror) or a folder of them")
    add_db_option(scan)
    scan.add_argument(
        "--wait", type=float, default=DEFAULT_WAIT_SECONDS, metavar="SECONDS",
        help=f"how long to wait for another writer to finish before giving up with exit code 75 "
             f"(default: {DEFAULT_WAIT_SECONDS:g})",
    )
    scan.add_argument("--map", type=Path, metavar="FILE", help="CSV `prefix,repo` mapping laptop paths to repositories")
    scan.set_defaults(handler=handle_scan)


def handle_scan(args: argparse.Namespace) -> int:
    from analytics.git_outcomes import coverage_line
    from agentledger.pipeline import scan_git
    from ingest.git.scan import PathMapError, read_path_map
    from store.db import open_ledger

    if args.wait < 0:
        raise UserError("--wait must be 0 or more seconds")
    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        raise UserError(f"no such path: {', '.join(missing)}")
    try:
        path_map = read_path_map(args.map) if args.map else None
    except PathMapError as error:
        raise UserError(str(error)) from error
    with open_ledger(args.db, wait_seconds=args.wait, what="git scan") as ledger:
        result = scan_git(ledger, args.paths, path_map, command="agentledger " + shlex.join(sys.argv[1:]))
        with ledger.window() as con:
            coverage = coverage_line(con)
    for scan in result.repos:
        print(scan.line())
    for path in result.not_repositories:
        print(f"{path}: no git repository here", file=sys.stderr)
    derived = result.derived
    blamed = ", ".join(f"{n} {status}" for status, n in sorted(result.blamed.items())) or "nothing new"
    print(f"linked {derived.links} commit(s) to {derived.sessions_mapped} mapped session(s); "
          f"{derived.agent_lines} agent line(s) in linked commits; blamed: {blamed}")
    print(coverage)
    return 1 if any(scan.error for scan in result.repos) else 0
