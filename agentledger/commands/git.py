"""`agentledger git scan`: read repositories into the ledger and link sessions to their commits."""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from agentledger.commands.common import add_db_option, formatter
from agentledger.errors import UserError

EPILOG = """examples:
  agentledger git scan ~/work/spotter                    # a working clone
  agentledger git scan /srv/mirrors --db /srv/ledger.duckdb   # a folder of bare mirrors
  agentledger git scan /srv/mirrors --map paths.csv      # laptop paths no commit explains

A scan reads only what is new since the last one (an unchanged repository costs a fraction of a
second) and handles rewritten history (force-push, rebase). Then sessions are linked to commits
(a printed sha; its rebased or squashed copy; or, for sessions that never committed, their lines
in a commit made soon after), the files of linked commits are blamed, and `agentledger report
outcomes` / `report commits` show what the spend bought. Run it after `agentledger ingest`.

--map FILE is a CSV with a header `prefix,repo`: sessions whose working directory starts with
prefix worked in the scanned repository named repo (its folder name without .git, or its path).
No code is stored: hashes of added lines, paths and commit metadata.
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
    scan.add_argument("--map", type=Path, metavar="FILE", help="CSV `prefix,repo` mapping laptop paths to repositories")
    scan.set_defaults(handler=handle_scan)


def read_path_map(path: Path) -> list[tuple[str, str]]:
    """Rows of the mapping file; a malformed file is one clear error naming the line."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or {"prefix", "repo"} - set(reader.fieldnames):
                raise UserError(f"{path}: the header must name the columns prefix,repo")
            rows = []
            for number, row in enumerate(reader, start=2):
                prefix, repo = (row.get("prefix") or "").strip(), (row.get("repo") or "").strip()
                if not prefix or not repo:
                    raise UserError(f"{path}:{number}: prefix and repo must both be given")
                rows.append((prefix, repo))
            return rows
    except OSError as error:
        raise UserError(f"cannot read {path}: {error.strerror}") from error


def handle_scan(args: argparse.Namespace) -> int:
    from agentledger.pipeline import scan_git
    from store.db import writer

    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        raise UserError(f"no such path: {', '.join(missing)}")
    path_map = read_path_map(args.map) if args.map else None
    with writer(args.db) as con:
        result = scan_git(con, args.paths, path_map, command="git scan " + " ".join(map(str, args.paths)))
        coverage = _coverage(con)
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


def _coverage(con) -> str:
    from analytics.git_outcomes import coverage_line

    return coverage_line(con)
