"""The `agentledger` command: a thin layer over the library, one module per subcommand."""

from __future__ import annotations

import argparse
import sys

from agentledger import __version__
from agentledger.commands import COMMANDS

EPILOG = """examples:
  agentledger ingest ~/.claude/projects --user alice
  agentledger ingest /srv/collected --user-from-dir --db /srv/ledger.duckdb
  agentledger org load org.csv
"""



def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="agentledger",
        description="What your coding agents spent, and what it bought.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"agentledger {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point: parse, dispatch, and turn known failures into one-line errors."""
    parser = build_parser()
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
