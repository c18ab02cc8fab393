"""What a parser knows about the file it reads, besides the bytes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class FileContext:
    path: str
    user_name: str | None
    store_prompts: bool = False
    # Subagent files: the agent id from the file name and its type from agent-<id>.meta.json.
    file_agent_id: str | None = None
    agent_type: str | None = None
    # Parser state carried between incremental reads of the same file (JSON-serialisable).
    state: dict[str, Any] = field(default_factory=dict)
    # Shared by every file of a run: how many lines of each shape were checked for unknown fields.
    drift_samples: dict[tuple, int] = field(default_factory=dict)
    # Set by the line loop: the number of the last line read, so nobody counts newlines again.
    last_line_no: int | None = None
