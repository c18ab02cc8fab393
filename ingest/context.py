"""What a parser knows about the file it reads, besides the bytes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ingest import plausible
from ingest.timestamps import parse_utc

_from_iso = datetime.fromisoformat


@dataclass
class FileContext:
    path: str                            # the file as the ledger names it (file_path, rejects.path)
    user_name: str | None
    latest_ts: datetime                  # a record dated after this is quarantined (clock wrong or forged)
    store_prompts: bool = False
    # Subagent files: the agent id from the file name and its type from agent-<id>.meta.json.
    file_agent_id: str | None = None
    agent_type: str | None = None
    # The file on disk, for finding a call written before this read's start (ingest/look_back.py).
    file: Path | None = None
    # Parser state carried between incremental reads of the same file (JSON-serialisable).
    state: dict[str, Any] = field(default_factory=dict)
    # Shared by every file of a run: how many lines of each shape were checked for unknown fields.
    drift_samples: dict[tuple, int] = field(default_factory=dict)
    # Set by the line loop: the number of the last line read, so nobody counts newlines again.
    last_line_no: int | None = None

    def timestamp(self, value: str | None, what: str) -> datetime:
        """An ISO-8601 time as naive UTC; a missing, unparseable or implausible one quarantines the line."""
        # Nearly every line is dated "...Z" (UTC) within the bounds: read here, without the general
        # path's three calls (~0.35 us a line). Any other value takes that path, which says what is wrong.
        if value and value[-1] == "Z":
            try:
                parsed = _from_iso(value[:-1])
            except ValueError:
                parsed = None
            if parsed is not None and parsed.tzinfo is None and plausible.EARLIEST <= parsed <= self.latest_ts:
                return parsed
        return plausible.timestamp(parse_utc(value), self.latest_ts, what)

    def time(self, value: datetime | None, what: str) -> datetime:
        """A time already parsed (OTel nanoseconds): quarantines the line when missing or implausible."""
        return plausible.timestamp(value, self.latest_ts, what)
