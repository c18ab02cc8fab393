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


# Commands that never hand DuckDB a pandas object. DuckDB imports pandas (0.4 s of CPU, most of a
# scheduled no-op ingest) the first time it binds a query parameter, only to recognise pandas'
# missing value; in a process of its own, such a command tells it pandas is absent instead.
WITHOUT_PANDAS = frozenset({"ingest", "refresh", "report"})


def run() -> int:
    """The console script (and `python -m agentledger.cli`): main() in a process of its own."""
    argv = sys.argv[1:]
    if argv and argv[0] in WITHOUT_PANDAS and "pandas" not in sys.modules:
        sys.modules["pandas"] = None  # `import pandas` now fails at once: DuckDB treats it as not installed
    return main(argv)


if __name__ == "__main__":
    sys.exit(run())
