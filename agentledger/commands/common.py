"""Options several subcommands share, declared once."""

from __future__ import annotations

import argparse

from store.db import DB_ENV_VAR


def add_db_option(parser: argparse.ArgumentParser) -> None:
    """--db FILE, defaulting to $AGENTLEDGER_DB, then the per-user data dir."""
    parser.add_argument(
        "--db",
        metavar="FILE",
        help=f"DuckDB warehouse file (default: ${DB_ENV_VAR}, else agentledger.duckdb in your user data dir)",
    )


def formatter() -> type[argparse.HelpFormatter]:
    """Keep the examples in epilogs laid out as written."""
    return argparse.RawDescriptionHelpFormatter
