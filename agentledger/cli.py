"""The `agentledger` command: a thin layer over the library, one module per subcommand."""

from __future__ import annotations

import argparse
import sys

from agentledger import __version__
from agentledger.commands import COMMAND_NAMES, load, load_all

EPILOG = """examples:
  agentledger ingest ~/.claude/projects --user alice
  agentledger ingest /srv/collected --user-from-dir --db /srv/ledger.duckdb
  agentledger org load org.csv
"""



def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered, or just `only` when that names one."""
    parser = argparse.ArgumentParser(
        prog="agentledger",
        description="What your coding agents spent, and what it bought.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"agentledger {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for command in [load(only)] if only in COMMAND_NAMES else load_all():
        command.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point: parse, dispatch, and turn known failures into one-line errors."""
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(only=argv[0] if argv else None)
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("agentledger: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 - every failure must be one clear line, not a traceback
        from agentledger.errors import describe

        message, code = describe(error)
        print(f"agentledger {args.command}: {message}", file=sys.stderr)
        return code


if __name__ == "__main__":
    sys.exit(main())
