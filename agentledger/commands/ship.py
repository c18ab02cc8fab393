"""`agentledger ship`: parse this machine's agent logs here and send only normalised metadata."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from agentledger.commands.common import formatter
from ingest.sources import source_choices

EPILOG = """examples:
  agentledger ship s3://acme-agentledger/shipped
  agentledger ship /mnt/agentledger/shipped --user alice
  agentledger ship /mnt/agentledger/shipped ~/.claude/projects ~/work/otel-export
  agentledger schedule --print systemd -- ship s3://acme-agentledger/shipped   # run it every 15 min

Each run reads what is new in the logs (the same incremental manifest as `agentledger ingest`), parses
it with the same parsers, scrubs secrets, and writes the rows it found as one Parquet file under
DEST/<day>/. Nothing else leaves the machine: no prompt text, tool output, file contents or code;
docs/shipping.md lists every field sent. A run whose upload failed is sent again by the next run,
under the same name. Central side: `agentledger ingest DEST --shipped --store ...`.

Object storage credentials come from AGENTLEDGER_S3_KEY_ID / AGENTLEDGER_S3_SECRET (and
AGENTLEDGER_S3_ENDPOINT, _REGION, _URL_STYLE for S3-compatible stores).

exit codes:
  0   done (also when nothing was new)
  1   the run failed (the message says why; the next run sends what is missing)
  2   wrong usage: no agent logs under the PATHs, bad options
  75  busy: another ship run holds the local state
"""


def default_state() -> Path:
    """The local state ledger: what was read and shipped, kept in the user data dir."""
    import platformdirs

    return Path(platformdirs.user_data_dir("agentledger")) / "ship-state.duckdb"


def register(subparsers) -> None:
    parser = subparsers.add_parser("ship", help="send this machine's agent-log metadata to a central store",
                                   epilog=EPILOG, formatter_class=formatter())
    parser.add_argument("dest", metavar="DEST", help="where batches go: a folder, or s3://bucket/prefix")
    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                        help="log folders (default: ~/.claude/projects, ~/.codex/sessions, ~/.gemini/tmp, those that exist)")
    parser.add_argument("--user", metavar="NAME", help="who these logs belong to (default: your login name)")
    parser.add_argument("--state", type=Path, metavar="FILE",
                        help=f"the local state ledger (default: {default_state()})")
    parser.add_argument("--source", choices=source_choices(), default="auto", help="log format (default: detect per file)")
    parser.add_argument("--follow-symlinks", action="store_true", help="read links that lead out of PATH")
    bar = parser.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None, help="always show a progress bar")
    bar.add_argument("--no-progress", dest="progress", action="store_false", help="never show a progress bar")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from agentledger.errors import USER_ERROR, UserError
    from ingest.shipping import ShipOptions, default_paths, ship

    paths = args.paths or default_paths()
    if not paths:
        raise UserError("no agent logs here (~/.claude/projects, ~/.codex/sessions, ~/.gemini/tmp): name the PATHs")
    result = ship(ShipOptions(
        dest=args.dest, paths=paths, user=args.user or getpass.getuser(), state=args.state or default_state(),
        source=args.source, follow_symlinks=args.follow_symlinks, progress=args.progress,
    ))
    print(result.ingest.one_line().replace("ingest run", "ship: local run", 1))
    where = ", ".join(result.shipped) if result.shipped else "nothing new to ship"
    print(f"shipped {result.rows} rows in {len(result.shipped)} batch file(s): {where}")
    for root in result.ingest.empty_roots:
        print(f"agentledger ship: no agent logs found under {root}", file=sys.stderr)
    return USER_ERROR if len(result.ingest.empty_roots) == len(paths) else 0
