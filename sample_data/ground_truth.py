"""What the generator planted, written to ground_truth.json so analytics can be scored against it."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

KINDS = ("normal", "loop", "discarded_work", "idle_burn", "context_bloat", "usage_spike",
         "steering", "benign_errors", "harness_overhead", "subagent_only")
# The flag each planted kind must raise in its session(s)...
EXPECTED_FLAG = {"loop": "loop", "discarded_work": "discarded_work", "idle_burn": "idle_burn",
                 "context_bloat": "context_bloat", "usage_spike": "usage_spike"}
# ...and the flags real work of the other kinds must not raise (sample_data/real_work.py).
FORBIDDEN_FLAGS = {"steering": ("discarded_work", "loop"), "benign_errors": ("loop", "discarded_work"),
                   "harness_overhead": ("loop", "discarded_work", "idle_burn", "context_bloat"),
                   "subagent_only": ("idle_burn", "discarded_work", "loop")}


@dataclass
class Behaviour:
    """One planted behaviour (or one normal session): where it is and which tool calls show it."""

    kind: str
    session_id: str | None            # None for usage_spike, which spans a user-day (see session_ids)
    user: str
    date: str                         # UTC date, YYYY-MM-DD
    start: str                        # ISO UTC time range of the evidence
    end: str
    tool_use_ids: list[str] = field(default_factory=list)
    session_ids: list[str] = field(default_factory=list)
    detail: dict = field(default_factory=dict)


@dataclass
class SessionRecord:
    """Every generated session, with its primary kind and what it cost at list prices."""

    session_id: str
    user: str
    date: str
    kind: str
    project: str
    start: str
    end: str
    requests: int
    cost_usd_est: float
    files: list[str]


@dataclass
class GroundTruth:
    generator: dict
    behaviours: list[Behaviour] = field(default_factory=list)
    sessions: list[SessionRecord] = field(default_factory=list)
    other_agents: dict = field(default_factory=dict)      # Codex and OTel users (other_agents.OtherAgents.finish)
    git: dict = field(default_factory=dict)               # repositories and each session's outcome (git_repos.GitPlan.build)

    def write(self, path: Path) -> None:
        """Stable JSON (sorted by user, date, start) so regenerating gives the same bytes."""
        behaviours = sorted(self.behaviours, key=lambda b: (b.user, b.date, b.start, b.kind, b.session_id or ""))
        sessions = sorted(self.sessions, key=lambda s: (s.user, s.date, s.start, s.session_id))
        doc = {
            "generator": self.generator,
            "kinds": list(KINDS),
            "behaviours": [asdict(b) for b in behaviours],
            "sessions": [asdict(s) for s in sessions],
            "other_agents": self.other_agents,
            "git": {k: v for k, v in self.git.items() if k != "git_dir"},
        }
        path.write_text(json.dumps(doc, indent=1, sort_keys=False) + "\n", encoding="utf-8")


def load(path: Path) -> dict:
    """Read a ground_truth.json back (tests, analytics scoring)."""
    return json.loads(path.read_text(encoding="utf-8"))
