"""`agentledger ingest`: load new session logs into the ledger, incrementally."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from agentledger.commands.common import add_db_option, formatter, store_of
from ingest.sources import SOURCES, source_choices

DEFAULT_WAIT_SECONDS = 60.0

EPILOG = """examples:
  agentledger ingest ~/.claude/projects --user alice
  agentledger ingest /srv/logs --user-from-dir          # /srv/logs/<user>/... gives the user
  agentledger ingest ~/.claude/projects --db team.duckdb --source claude
  */15 * * * *  agentledger ingest /srv/logs --user-from-dir --wait 300 --db /srv/ledger.duckdb
  agentledger ingest /srv/logs --user-from-dir --reread  # once after an upgrade (see --reread)
  agentledger ingest /srv/logs --user-from-dir --shard 0/4 --store 'ducklake:postgres:dbname=ledger host=db'
  agentledger ingest /srv/shipped --shipped --store 'ducklake:postgres:dbname=ledger host=db'

Re-running is safe: unchanged files cost a stat, grown files are read from where the last run
stopped, and records already in the ledger are recognised by their keys. Bad lines go to the
rejects table with file, line and reason. Dashboards and reports keep working meanwhile: the
ledger is held only while a batch is written, and readers see the last committed state.

exit codes:
  0   done (also when some lines were rejected: see the summary line and the rejects table)
  1   the run failed (the message says why; the next run redoes what is missing)
  2   wrong usage: a PATH that does not exist, no agent logs found under the PATHs, bad options
  75  busy: another ingest, refresh or org load held the ledger for longer than --wait

sources:
""" + "\n".join(f"  {s.name:8} {s.description}" for s in SOURCES.values())


def _shard(text: str) -> tuple[int, int]:
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--shard is K/N, e.g. 0/4; got {text!r}") from None
    if not 0 <= k < n:
        raise argparse.ArgumentTypeError(f"--shard K/N needs 0 <= K < N; got {text!r}")
    return k, n


def _shipped_dest(args: argparse.Namespace) -> str | None:
    """The ship destination to load, when PATH is one (--shipped, or recognised)."""
    from agentledger.errors import UserError
    from ingest.ship_layout import is_shipped_dest

    if not (args.shipped or any(is_shipped_dest(p) for p in args.paths)):
        return None
    if len(args.paths) != 1:
        raise UserError("a ship destination is loaded on its own: one PATH with --shipped")
    if args.user or args.user_from_dir or args.shard:
        raise UserError("shipped batches name their user and machine: --user, --user-from-dir and --shard do not apply")
    if args.reread:
        raise UserError("--reread reads log files again from the start: it does not apply to shipped "
                        "batches, which the laptops parsed")
    dest = args.paths[0]
    if "://" not in dest and not os.path.isdir(dest):
        raise UserError(f"no such folder: {dest}")
    return dest


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "ingest", help="load new session logs into the ledger", epilog=EPILOG, formatter_class=formatter()
    )
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="log files or folders to scan, or one ship destination (a folder or s3://…)")
    parser.add_argument(
        "--shipped", action="store_true",
        help="PATH is where laptops ship batches (agentledger ship): load the new ones. Object storage "
             "and folders of batch files are recognised without it",
    )
    add_db_option(parser)
    who = parser.add_mutually_exclusive_group()
    who.add_argument("--user", metavar="NAME", help="the user these logs belong to (default: your login name)")
    who.add_argument(
        "--user-from-dir", action="store_true",
        help="take the user from the first folder below each PATH (PATH/<user>/...)",
    )
    parser.add_argument(
        "--shard", type=_shard, metavar="K/N",
        help="read only shard K of N (0 <= K < N): the users (with --user-from-dir; else the files) whose hash "
             "is K modulo N. Run N workers, one per shard, on one lake (--store) to ingest in parallel",
    )
    parser.add_argument("--source", choices=source_choices(), default="auto", help="log format (default: detect per file)")
    parser.add_argument(
        "--store-prompts", action="store_true",
        help="opt in to storing prompt text and the first bytes of rejected lines, secrets scrubbed "
             "(by default only their length and hash are kept)",
    )
    parser.add_argument(
        "--follow-symlinks", action="store_true",
        help="read links that lead out of PATH (and enter linked folders); by default they are reported, not read",
    )
    parser.add_argument(
        "--reread", action="store_true",
        help="read the files under PATH the ledger already holds again from the start, so that what this "
             "release reads better (tool result kinds, checkpoint rewinds, Claude Code's own messages) replaces "
             "what an older release stored; run it once after upgrading, with the options of your scheduled "
             "job. Sessions whose files are gone keep what was ingested; spend never changes",
    )
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
    from ingest.discovery import absolute_paths, drop_walk_ahead, prefetch

    if not args.shipped and args.wait >= 0:
        # The walk over every file (most of a scheduled no-op's time) starts now, in children, while
        # this process imports DuckDB and opens the ledger: the run takes its result (ingest/discovery.py).
        prefetch(absolute_paths(args.paths), args.source, args.follow_symlinks)
    try:
        return _ingest(args)
    finally:
        drop_walk_ahead()  # a run that failed before it walked leaves no walk for a later one to take


def _ingest(args: argparse.Namespace) -> int:
    # Imported here so that `agentledger --help` and other commands stay quick to start.
    from agentledger.errors import USER_ERROR, UserError
    from agentledger.pipeline import ingest_and_refresh
    from ingest.runner import IngestOptions, prepare
    from store.db import open_ledger

    if args.wait < 0:
        raise UserError("--wait must be 0 or more seconds")
    shipped = _shipped_dest(args)
    options = prepare(IngestOptions(
        paths=[] if shipped else [Path(p) for p in args.paths], shipped_from=shipped, user=args.user,
        user_from_dir=args.user_from_dir, source=args.source, store_prompts=args.store_prompts,
        follow_symlinks=args.follow_symlinks, reread=args.reread, progress=args.progress, shard=args.shard,
    ))
    with open_ledger(store_of(args), wait_seconds=args.wait) as ledger:
        summary = ingest_and_refresh(ledger, options, command="agentledger " + shlex.join(sys.argv[1:])).ingest
    print(summary.one_line())
    for root in summary.empty_roots:
        print(f"agentledger ingest: no agent logs found under {root}", file=sys.stderr)
    if len(summary.empty_roots) == (1 if shipped else len(options.paths)):
        return USER_ERROR
    return 0
