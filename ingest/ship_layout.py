"""How a ship destination is laid out (DEST/<YYYY-MM-DD>/<host>-<state>-<run>.parquet), and how
`agentledger ingest` tells one from a folder of agent logs.

Kept apart from ingest/shipping.py and ingest/shipped.py, which import Polars: every scheduled
ingest asks whether its PATH is a ship destination, and a run with nothing new must not pay a
fifth of a second importing what only loading batches needs.
"""

from __future__ import annotations

import os
import re

BATCH_NAME = re.compile(r"^(?P<host>[0-9a-f]{16})-(?P<state>[0-9a-f]{16})-(?P<run>[0-9]{6,12})\.parquet$")
DAY_FOLDER = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def is_shipped_dest(path: str) -> bool:
    """Whether PATH is a ship destination (object storage, or a folder holding batch files) rather
    than agent logs: `agentledger ingest` sniffs this when --shipped is not given."""
    if path.startswith(("s3://", "s3a://", "gs://", "gcs://", "r2://")):
        return True
    try:
        days = [entry for entry in os.scandir(path) if entry.is_dir(follow_symlinks=False) and DAY_FOLDER.match(entry.name)]
    except OSError:
        return False
    for day in days[:3]:
        try:
            if any(BATCH_NAME.match(entry.name) for entry in os.scandir(day.path)):
                return True
        except OSError:
            continue
    return False
