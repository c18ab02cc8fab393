"""Codex rollouts and OTel exports for the part of the org that runs more than one agent.

A stable ~25% of users (codex_gen.uses_other_agents) also run Codex CLI on some workdays and have
Claude Code telemetry on: every day's completed Claude requests are exported again as OTel
`api_request` events (same request ids), plus OTel's own auxiliary requests. Both are written
below OUT/<user>/, so `agentledger ingest OUT --user-from-dir` attributes the Codex rollouts to the
folder's user (OTel records carry their own user.email).

Every random choice comes from a generator seeded by (seed, user, day, "other-agents"), never the
generator's per-day stream, so adding these files leaves every transcript byte-identical.
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from sample_data.catalog import UserProfile
from sample_data.codex_gen import SHARE_OF_USERS, uses_other_agents, write_codex_day
from sample_data.otel_gen import write_otel_day

CODEX_DAY_SHARE = 0.5               # of an other-agents user's workdays with Codex sessions
OTEL_FILE = Path("otel") / "claude-code.json"
CODEX_TOKEN_KEYS = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens", "total_tokens")


@dataclass
class _CodexTruth:
    days: list[str] = field(default_factory=list)
    sessions: int = 0
    requests: int = 0               # token_count events whose cumulative total advanced
    tokens: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CODEX_TOKEN_KEYS, 0))


@dataclass
class _OtelTruth:
    email: str
    team: str | None
    file: str
    days: list[str] = field(default_factory=list)
    api_requests: int = 0           # events mirroring a transcript request (same request id)
    auxiliary_requests: int = 0     # events no transcript shows: OTel-only rows in the ledger


def codex_usage(lines: list[str]) -> tuple[int, dict[str, int]]:
    """(counted events, final cumulative usage) of one rollout, read from its lines.

    Independent of ingest/codex: the final `total_token_usage` is what all counted events add up
    to when no reset happens (the sample never resets), and the distinct totals count the events."""
    totals = [json.loads(line)["payload"]["info"]["total_token_usage"] for line in lines
              if '"token_count"' in line and '"info": null' not in line]
    final = totals[-1] if totals else dict.fromkeys(CODEX_TOKEN_KEYS, 0)
    return len({t["total_tokens"] for t in totals}), {k: final[k] for k in CODEX_TOKEN_KEYS}


class OtherAgents:
    """Writes the Codex and OTel files of the other-agents users, day by day, and what they hold."""

    def __init__(self, out: Path, seed: int, org: list[UserProfile], share: float = SHARE_OF_USERS) -> None:
        self.out = out
        self.seed = seed
        self.users = {u.handle for u in org if uses_other_agents(u.handle, seed, share)}
        self.codex: dict[str, _CodexTruth] = {}
        self.otel: dict[str, _OtelTruth] = {}

    def exports_otel(self, handle: str) -> bool:
        """Whether this user's Claude requests go to an OTel collector too."""
        return handle in self.users

    def day(self, user: UserProfile, day: date, workday: bool, requests: list[dict]) -> list[Path]:
        """Write one user-day of Codex rollouts and OTel events; returns the Codex files written."""
        if user.handle not in self.users:
            return []
        rng = random.Random(f"{self.seed}:{user.handle}:{day.isoformat()}:other-agents")
        paths = self._codex(user, day, rng) if workday and rng.random() < CODEX_DAY_SHARE else []
        if requests:
            self._otel(user, day, requests, rng)
        return paths

    def _codex(self, user: UserProfile, day: date, rng: random.Random) -> list[Path]:
        project = rng.choice(user.team.projects)
        paths = write_codex_day(self.out / user.handle, day, rng, sessions=rng.choice((1, 1, 2)), cwd=user.cwd(project))
        truth = self.codex.setdefault(user.handle, _CodexTruth())
        truth.days.append(day.isoformat())
        for path in paths:
            # A collector preserves mtimes (as the transcript writer does); never the wall clock.
            os.utime(path, (_evening(day), _evening(day)))
            events, tokens = codex_usage(path.read_text().splitlines())
            truth.sessions += 1
            truth.requests += events
            truth.tokens = {k: truth.tokens[k] + tokens[k] for k in CODEX_TOKEN_KEYS}
        return paths

    def _otel(self, user: UserProfile, day: date, requests: list[dict], rng: random.Random) -> None:
        # The contractor missing from org.csv has no team attribute either: nobody set one up for them.
        team = user.team.name if user.in_org_csv else None
        rel = Path(user.handle) / OTEL_FILE
        truth = self.otel.setdefault(user.handle, _OtelTruth(user.email, team, rel.as_posix()))
        ordered = sorted(requests, key=lambda r: (r["ts"], r["request_id"]))
        write_otel_day(self.out / rel, user.email, team, ordered, rng)
        truth.days.append(day.isoformat())
        truth.api_requests += len(ordered)

    def files(self) -> list[Path]:
        """The OTel files written (each appended to once per day)."""
        return [self.out / t.file for t in self.otel.values()]

    def finish(self) -> dict:
        """Count the auxiliary events in the written files and return the ground-truth section."""
        for truth in self.otel.values():
            path = self.out / truth.file
            truth.auxiliary_requests = path.read_bytes().count(b'"stringValue": "auxiliary"')
            last = _evening(date.fromisoformat(max(truth.days)))
            os.utime(path, (last, last))
        return {
            "users": sorted(self.users),
            "codex": {h: _asdict(t) for h, t in sorted(self.codex.items())},
            "otel": {h: _asdict(t) for h, t in sorted(self.otel.items())},
        }


def _evening(day: date) -> float:
    return datetime(day.year, day.month, day.day, 21, tzinfo=timezone.utc).timestamp()


def _asdict(truth) -> dict:
    return {k: (sorted(v) if k == "days" else v) for k, v in vars(truth).items()}
