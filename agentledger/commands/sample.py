"""`agentledger sample`: generate a synthetic org's transcripts, or locate the committed sample."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from agentledger.commands.common import formatter
from agentledger.errors import UserError
from sample_data.profiles import PROFILES

DEFAULT_START = date(2026, 10, 1)       # sample_data.generator.DEFAULT_START, without importing it at startup

EPILOG = """examples:
  agentledger sample generate --users 12 --days 30 --out /tmp/org
  agentledger sample generate --users 40 --days 40 --out /tmp/bench --seed 3     # ~450 MB
  agentledger sample generate --users 4 --days 7 --out /tmp/small --profile compact --scale 0.5
  agentledger sample generate --users 80 --days 180 --end 2026-11-28 --out /tmp/year   # ~4.5 GB, ends in the past
  agentledger ingest /tmp/org --user-from-dir && agentledger org load /tmp/org/org.csv

Writes OUT/<user>/.claude/projects/<project>/<session>.jsonl (plus subagent files), OUT/org.csv
(one user left out on purpose: team "(unassigned)") and OUT/ground_truth.json (the planted loops,
discarded work, idle burn, huge MCP outputs and usage spikes). Same arguments, same bytes.
"""

GROUP_EPILOG = """examples:
  agentledger sample generate --users 12 --days 30 --out /tmp/org
  agentledger sample path
"""

PATH_EPILOG = """examples:
  agentledger sample path                                   # the built-in sample's transcripts folder
  agentledger ingest "$(agentledger sample path)" --user-from-dir
  agentledger org load "$(agentledger sample path --org)"
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser("sample", help="generate synthetic transcripts or locate the built-in sample",
                                   epilog=GROUP_EPILOG, formatter_class=formatter())
    actions = parser.add_subparsers(dest="sample_command", metavar="ACTION")
    actions.required = True
    gen = actions.add_parser("generate", help="write a realistic synthetic org of Claude Code transcripts",
                             epilog=EPILOG, formatter_class=formatter())
    gen.add_argument("--users", type=int, required=True, metavar="N", help="people in the org")
    gen.add_argument("--days", type=int, required=True, metavar="D", help="days of activity")
    gen.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder to write (created if missing)")
    gen.add_argument("--seed", type=int, default=7, metavar="S", help="random seed (default: 7)")
    when = gen.add_mutually_exclusive_group()
    when.add_argument("--start", type=_iso_date, default=DEFAULT_START, metavar="YYYY-MM-DD",
                      help=f"first day (default: {DEFAULT_START.isoformat()})")
    when.add_argument("--end", type=_iso_date, metavar="YYYY-MM-DD",
                      help="last day instead: the D days end here (ingest quarantines records dated after tomorrow)")
    gen.add_argument("--scale", type=float, default=1.0, metavar="X",
                     help="multiplier on sessions per day (default: 1.0; 40 users x 40 days is ~450 MB)")
    gen.add_argument("--profile", choices=sorted(PROFILES), default="full",
                     help="session sizes: full (realistic) or compact (short sessions, as in the built-in sample)")
    gen.set_defaults(handler=handle_generate)
    where = actions.add_parser("path", help="print where the built-in sample transcripts (or its org.csv) are",
                               epilog=PATH_EPILOG, formatter_class=formatter())
    where.add_argument("--org", action="store_true", help="print the org.csv path instead")
    where.set_defaults(handler=handle_path)


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from error


def handle_generate(args: argparse.Namespace) -> int:
    if args.users < 1 or args.days < 1:
        raise UserError("--users and --days must be at least 1")
    if args.scale <= 0:
        raise UserError("--scale must be positive")
    from sample_data.generator import generate

    summary = generate(args.out, args.users, args.days, args.seed, args.start, scale=args.scale, profile=args.profile,
                       end=args.end)
    print(f"{summary.one_line()} -> {args.out}")
    return 0


def handle_path(args: argparse.Namespace) -> int:
    from sample_data.paths import committed_org_csv, committed_transcripts_dir

    print(committed_org_csv() if args.org else committed_transcripts_dir())
    return 0
