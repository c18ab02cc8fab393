"""Helpers the tests share: in-process ingest, ledger totals, where ../shared is."""

from __future__ import annotations

import os
from pathlib import Path

from agentledger.pipeline import ingest_and_refresh
from ingest.runner import IngestOptions

REPO = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    """../shared beside the checkout (CI has it), or $AGENTLEDGER_SHARED."""
    return Path(os.environ.get("AGENTLEDGER_SHARED", REPO.parent / "shared"))


def ingest(con, *paths: Path, user: str | None = "alice", **options):
    """Run one ingest (and its refresh) in-process, quietly."""
    return ingest_and_refresh(con, IngestOptions(paths=list(paths), user=user, progress=False, **options)).ingest


def totals(con) -> tuple[int, int, int, int]:
    """(input, output, cache creation, cache read) over the whole ledger."""
    row = con.execute(
        "SELECT coalesce(sum(input_tokens),0), coalesce(sum(output_tokens),0),"
        " coalesce(sum(cache_creation_tokens),0), coalesce(sum(cache_read_tokens),0) FROM requests"
    ).fetchone()
    return tuple(int(v) for v in row)
