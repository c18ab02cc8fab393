"""Options several subcommands share, declared once."""

from __future__ import annotations

import argparse
import textwrap

from store.config import LAKE_PREFIX, LakeTarget, lake_target

# store.db's DB_ENV_VAR, spelled out (a test holds that they agree): importing store.db here would load
# DuckDB before any command runs, and `ingest` starts its walk over the files before that (commands/ingest.py).
DB_ENV_VAR = "AGENTLEDGER_DB"


def add_db_option(parser: argparse.ArgumentParser) -> None:
    """--db FILE (default $AGENTLEDGER_DB, then the per-user data dir), or --store for a lake."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--db",
        metavar="FILE",
        help=f"DuckDB warehouse file (default: ${DB_ENV_VAR}, else agentledger.duckdb in your user data dir)",
    )
    where.add_argument(
        "--store", metavar="SPEC", type=_lake_spec,
        help="a DuckLake lake instead of the file, e.g. 'ducklake:postgres:dbname=ledger host=db' "
             "(default: $AGENTLEDGER_STORE; see docs/lake.md)",
    )
    parser.add_argument(
        "--data-path", metavar="URL",
        help="where a new lake keeps its Parquet files: a folder or s3://bucket/prefix/ "
             "(default: $AGENTLEDGER_DATA_PATH; the catalog remembers it)",
    )


def _lake_spec(text: str) -> str:
    if not text.startswith(LAKE_PREFIX) or not text[len(LAKE_PREFIX):].strip():
        raise argparse.ArgumentTypeError(f"a lake is named {LAKE_PREFIX}<catalog>, e.g. "
                                         f"{LAKE_PREFIX}postgres:dbname=ledger; got {text!r}")
    return text


def store_of(args: argparse.Namespace) -> str | LakeTarget | None:
    """The store the options name: a lake (--store, or $AGENTLEDGER_STORE without --db), else the
    --db file (None: the default file)."""
    if getattr(args, "db", None):
        return args.db
    return lake_target(getattr(args, "store", None), getattr(args, "data_path", None)) or None


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Epilog examples laid out as written; option help wrapped between words only, so a path (a
    default ledger under a long home folder) is never cut in two where a reader would copy it."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(" ".join(text.split()), width, break_long_words=False, break_on_hyphens=False)


def formatter() -> type[argparse.HelpFormatter]:
    return _Formatter
