"""Size presets: how long sessions are and how much text their tools return."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    turns: tuple[int, int]            # human turns per normal session
    explore: tuple[int, int]          # Read/Grep/Glob rounds per turn
    read_lines: tuple[int, int]       # lines per Read result
    edits: tuple[int, int]            # edits per turn
    subagent_steps: tuple[int, int]   # requests per subagent
    idle_hours: tuple[float, float]   # length of an unattended session
    idle_gap_s: tuple[int, int]       # seconds between its requests
    bloat_kb: tuple[int, int]         # size of one huge MCP result
    bloat_calls: tuple[int, int]      # huge MCP results per context-bloat session
    mcp_kb_scale: float               # multiplier on normal MCP result sizes


# Calibrated so that 40 users x 40 days at scale 1.0 writes about 450 MB (bench/ingest).
FULL = Profile("full", turns=(1, 3), explore=(2, 5), read_lines=(24, 120), edits=(1, 4), subagent_steps=(2, 5),
               idle_hours=(2.0, 6.0), idle_gap_s=(120, 600), bloat_kb=(50, 200), bloat_calls=(1, 2), mcp_kb_scale=1.0)
# The committed sample: every behaviour, a few hundred KB in all.
COMPACT = Profile("compact", turns=(1, 1), explore=(1, 1), read_lines=(8, 24), edits=(1, 1), subagent_steps=(1, 2),
                  idle_hours=(2.0, 2.3), idle_gap_s=(600, 900), bloat_kb=(50, 52), bloat_calls=(1, 1), mcp_kb_scale=0.2)

PROFILES = {p.name: p for p in (FULL, COMPACT)}
