"""Sample Codex CLI rollouts for part of the sample org, shaped like the real 0.66.0 file.

Each rollout carries what the ingestor must handle: re-emitted token_count events, an
info:null refresh, shell calls (one failing, then retried), an apply_patch, an MCP call and,
sometimes, an interruption. Deterministic for a given rng.
"""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

MODELS = ("gpt-5.1-codex-max", "gpt-5-codex", "gpt-5.2-codex")
SHARE_OF_USERS = 0.25


def uses_other_agents(handle: str, seed: int, share: float = SHARE_OF_USERS) -> bool:
    """Whether a user also runs Codex and exports OTel: a stable ~25% of the org."""
    digest = hashlib.sha256(f"{seed}:{handle}:other-agents".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < share


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class _Rollout:
    def __init__(self, rng: random.Random, start: datetime, cwd: str) -> None:
        self.rng = rng
        self.now = start
        self.lines: list[str] = []
        self.total = [0, 0, 0, 0, 0]
        self.session = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        self.cwd = cwd

    def add(self, kind: str, payload: dict, seconds: float = 1.0) -> None:
        self.now += timedelta(seconds=seconds)
        self.lines.append(json.dumps({"timestamp": _iso(self.now), "type": kind, "payload": payload}))

    def tokens(self) -> None:
        """One model call, then (half the time) the same total re-emitted."""
        cached = self.rng.randrange(2, 40) * 512
        fresh = self.rng.randrange(200, 4000)
        out = self.rng.randrange(20, 900)
        reasoning = self.rng.randrange(0, out)
        last = [cached + fresh, cached, out, reasoning, cached + fresh + out]
        self.total = [t + v for t, v in zip(self.total, last)]
        names = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens", "total_tokens")
        info = {"total_token_usage": dict(zip(names, self.total)), "last_token_usage": dict(zip(names, last)),
                "model_context_window": 258400}
        for _ in range(2 if self.rng.random() < 0.5 else 1):
            self.add("event_msg", {"type": "token_count", "info": info, "rate_limits": None}, 0.6)

    def call(self, name: str, arguments: dict, output: str) -> None:
        call_id = f"call_{self.rng.getrandbits(64):016x}"
        self.add("response_item", {"type": "function_call", "name": name, "arguments": json.dumps(arguments), "call_id": call_id})
        self.tokens()
        self.add("response_item", {"type": "function_call_output", "call_id": call_id, "output": output}, 2)


def rollout_lines(rng: random.Random, start: datetime, cwd: str, model: str | None = None) -> tuple[str, list[str]]:
    """(session id, JSONL lines) of one Codex session."""
    r = _Rollout(rng, start, cwd)
    model = model or rng.choice(MODELS)
    r.add("session_meta", {"id": r.session, "timestamp": _iso(start), "cwd": cwd, "originator": "codex_cli_rs",
                           "cli_version": "0.66.0", "source": "cli", "model_provider": "openai"}, 0)
    r.add("event_msg", {"type": "user_message", "message": "fix the failing totals test", "images": []})
    r.add("turn_context", {"cwd": cwd, "approval_policy": "on-request", "model": model, "effort": "medium"}, 0.1)
    r.add("event_msg", {"type": "token_count", "info": None, "rate_limits": {"primary": {"used_percent": 1.0}}})
    r.call("shell_command", {"command": "pytest -q tests/test_totals.py", "workdir": cwd},
           "Exit code: 1\nWall time: 2.1 seconds\nOutput:\nFAILED tests/test_totals.py::test_sum\n")
    call_id = f"call_{rng.getrandbits(64):016x}"
    patch = "*** Begin Patch\n*** Update File: app/totals.py\n@@\n-    return sum(xs)\n+    return sum(x for x in xs if x)\n*** End Patch"
    r.add("response_item", {"type": "custom_tool_call", "status": "completed", "call_id": call_id, "name": "apply_patch", "input": patch})
    r.tokens()
    r.add("response_item", {"type": "custom_tool_call_output", "call_id": call_id,
                            "output": json.dumps({"output": "Success. Updated the following files:\nM app/totals.py\n",
                                                  "metadata": {"exit_code": 0, "duration_seconds": 0.1}})})
    r.call("shell_command", {"command": "pytest -q tests/test_totals.py", "workdir": cwd},
           "Exit code: 0\nWall time: 1.8 seconds\nOutput:\n1 passed\n")
    if rng.random() < 0.4:
        r.call("github__create_pull_request", {"title": "Fix totals"}, "{\"number\": 42}")
    if rng.random() < 0.15:
        r.add("event_msg", {"type": "turn_aborted", "reason": "interrupted"})
    return r.session, r.lines


def write_codex_day(user_dir: Path, day: date, rng: random.Random, sessions: int = 1, cwd: str = "/work/app") -> list[Path]:
    """Write `sessions` rollouts of one user-day under USER_DIR/.codex/sessions/YYYY/MM/DD/."""
    paths = []
    for i in range(sessions):
        start = datetime(day.year, day.month, day.day, 9 + 3 * i, rng.randrange(60), tzinfo=timezone.utc)
        session, lines = rollout_lines(rng, start, cwd)
        folder = user_dir / ".codex" / "sessions" / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"rollout-{start:%Y-%m-%dT%H-%M-%S}-{session}.jsonl"
        path.write_text("\n".join(lines) + "\n")
        paths.append(path)
    return paths
