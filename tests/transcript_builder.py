"""A tiny transcript builder for hand-worked analytics tests (imported by test_analytics_*.py).

Each `reply` is one API request whose usage is (input, output, cache write, cache read); its tool
calls get their results `result_gap` seconds later. Time advances by `gap` seconds per step.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count
from pathlib import Path

from analytics.filters import Filters
from analytics.reports import run_report
from tests.claude_lines import assistant, envelope, prompt, text, tool_result, tool_use, usage, write_jsonl
from tests.helpers import ingest

_ids = count(1)


class Transcript:
    """Lines of one Claude Code session, written in order."""

    def __init__(self, session: str = "s1", start: str = "2026-03-02T09:00:00", model: str = "claude-sonnet-4-20250514",
                 cwd: str = "/work/app", file_name: str | None = None) -> None:
        self.session, self.model, self.cwd = session, model, cwd
        # Another file of the same session (a subagent's agent-<id>.jsonl) when named.
        self.file_name = file_name or f"{session}.jsonl"
        self.now = datetime.fromisoformat(start)
        self.lines: list[dict] = []

    def _ts(self, gap: float) -> str:
        self.now += timedelta(seconds=gap)
        return self.now.isoformat(timespec="milliseconds") + "Z"

    def _env(self, **extra) -> dict:
        return {"session": self.session, "cwd": self.cwd, **extra}

    def prompt(self, words: str = "please do the thing", gap: float = 5, parent: str | None = None) -> "Transcript":
        self.lines.append(prompt(self._ts(gap), words, parent=parent, **self._env()))
        return self

    def user_text(self, words: str, gap: float = 2, agent: str | None = None, inline: bool = False,
                  parent: str | None = None) -> "Transcript":
        """A user line of plain text (a subagent's prompt, an interruption marker, a notification)."""
        extra = {"sidechain": True, "agentId": agent} if agent else ({"sidechain": True} if inline else {})
        self.lines.append(prompt(self._ts(gap), words, parent=parent, **self._env(**extra)))
        return self

    @property
    def last_uuid(self) -> str:
        """The uuid of the line written last (what the next line's parentUuid would be)."""
        return self.lines[-1]["uuid"]

    def reply(self, tokens: tuple[int, int, int, int] = (10, 90, 0, 900), calls: list[tuple] = (), *, gap: float = 5,
              stop: str | None = None, model: str | None = None, agent: str | None = None, cc_1h: int = 0,
              results_gap: float = 1, inline: bool = False, parent: str | None = None) -> list[str]:
        """One request; calls are (tool, input[, output[, is_error[, toolUseResult]]]); returns the tool_use ids."""
        inp, out, cc, cr = tokens
        ids, blocks = [], []
        for call in calls:
            tool_id = f"toolu_{next(_ids):06d}"
            ids.append(tool_id)
            blocks.append(tool_use(tool_id, call[0], call[1]))
        extra = {"sidechain": True, "agentId": agent} if agent else ({"sidechain": True} if inline else {})
        if parent:
            extra["parent"] = parent
        n = next(_ids)
        self.lines.append(assistant(
            self._ts(gap), f"msg_{n:06d}", f"req_{n:06d}", usage(inp, out, cc, cr, cc_1h), blocks or [text("done")],
            stop_reason=stop or ("tool_use" if calls else "end_turn"), model=model or self.model,
            **self._env(**extra),
        ))
        if calls:
            self._ts(results_gap)
        for tool_id, call in zip(ids, calls):
            output = call[2] if len(call) > 2 else "ok"
            is_error = call[3] if len(call) > 3 else False
            result = call[4] if len(call) > 4 else None
            if output is None:
                continue  # the call never ran (interrupted before a result)
            self.lines.append(tool_result(self.now.isoformat(timespec="milliseconds") + "Z", tool_id, output,
                                          is_error=is_error, result=result, **self._env(**extra)))
        return ids

    def interrupt(self, gap: float = 2) -> "Transcript":
        self.lines.append(envelope("user", self._ts(gap), message={"role": "user", "content": [
            {"type": "text", "text": "[Request interrupted by user]"}]}, **self._env()))
        return self

    def write(self, root: Path, user: str = "alice") -> Path:
        return write_jsonl(root / user / "projects" / "-work-app" / self.file_name, self.lines)


def load(con, root: Path, *transcripts: Transcript, user: str = "alice") -> None:
    """Write the transcripts under root/<user>/ and ingest them (ingest refreshes the derived tables)."""
    for t in transcripts:
        t.write(root, user)
    ingest(con, root / user, user=user)


def facts(con, session: str = "s1") -> list[tuple]:
    """(turn_no, thread, total_tokens, outcome) of every request of a session, in time order."""
    return con.execute(
        "SELECT turn_no, thread, total_tokens, outcome FROM request_facts WHERE session_id = ? ORDER BY ts",
        [session],
    ).fetchall()


def report(con, name: str, **filters):
    """A registered report as a list of row dicts."""
    return run_report(con, name, Filters(**filters)).to_dicts()
