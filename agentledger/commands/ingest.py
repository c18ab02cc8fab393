"""`agentledger ingest`: load new session logs into the ledger, incrementally."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from agentledger.commands.common import add_db_option, formatter
from ingest.sources import SOURCES, source_choices

EPILOG = """examples:
  agentledger ingest ~/.claude/projects --user alice
  agentledger ingest /srv/logs --user-from-dir          # /srv/logs/<user>/... gives the user
  agentledger ingest ~/.claude/projects --db team.duckdb --source claude

Re-running is safe: unchanged files cost a stat, grown files are read from where the last run
stopped, and records already in the ledger are recognised by their keys. Bad lines go to the
rejects table; the exit code is 0 whenever the run finished.

sources:
""" + "\n".join(f"  {s.name:8} {s.description}" for s in SOURCES.values())


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "ingest", help="load new session logs into the ledger", epilog=EPILOG, formatter_class=formatter()
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="log files or folders to scan")
    add_db_option(parser)
    who = parser.add_mutually_exclusive_group()
    who.add_argument("--user", metavar="NAME", help="the user these logs belong to (default: your login name)")
    who.add_argument(
        "--user-from-dir", action="store_true",
        help="take the user from the first folder below each PATH (PATH/<user>/...)",
    )
    parser.add_argument("--source", choices=source_choices(), default="auto", help="log format (default: detect per file)")
    parser.add_argument(
        "--store-prompts", action="store_true",
        help="opt in to storing prompt text (by default only its length and hash are kept)",
    )
    bar = parser.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None, help="always show a progress bar")
    bar.add_argument("--no-progress", dest="progress", action="store_false", help="never show a progress bar")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    # Imported here so that `agentledger --help` and other commands stay quick to start.
    from agentledger.pipeline import ingest_and_refresh
    from ingest.runner import IngestOptions
    from store.db import writer

    options = IngestOptions(
        paths=args.paths, user=args.user, user_from_dir=args.user_from_dir, source=args.source,
        store_prompts=args.store_prompts, progress=args.progress,
    )
    with writer(args.db) as con:
        summary = ingest_and_refresh(con, options, command="agentledger " + shlex.join(sys.argv[1:])).ingest
    print(summary.one_line())
    return 0
