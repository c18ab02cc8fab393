"""One Claude Code session being written: prompts, API responses, tool calls, subagents, compaction.

Scenarios (scenarios.py) script a session through this API; the session turns each step into
transcript lines, advances a simulated clock and keeps token accounting consistent with what the
tools returned (a 100 KB tool result grows the next request's cache write accordingly).
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Callable

from sample_data.catalog import MODELS, SUBAGENT_MODEL, Model, Project, UserProfile, is_legacy
from sample_data.ids import Ids
from sample_data.transcript import INTERRUPT_FOR_TOOL, Envelope, Thread, Totals, iso
from sample_data.usage import Meter, Usage, tokens_of

AUTO_COMPACT_TOKENS = 150_000
# `git commit` output: `[branch sha7] subject` (what sample_data/git_repos.py makes real).
PRINTED_COMMIT = re.compile(r"^\[(\S+) ([0-9a-f]{7})\] (.*)$", re.M)
SUMMARY_PREFIX = "This session is being continued from a previous conversation that ran out of context."
# Claude Code's own agents (2.1.x): the summary a compaction asks for, and the next-prompt guess it
# makes while the user reads an answer. Worded here; real files carry Claude Code's own wording.
COMPACTION_REQUEST = ("Summarise this conversation so far for a fresh context: the user's requests, the files touched, "
                      "the decisions made, what is left to do.")
SUGGESTION_REQUEST = "[prompt suggestion] Guess in a few words what the user will type next, or reply with nothing."


@dataclass
class ToolCall:
    """One tool_use and what came back; `run` (subagents) writes more lines before the result."""

    name: str
    input: dict
    content: str | list = ""
    result: object = None
    is_error: bool = False
    duration_ms: int = 60
    run: Callable[[], None] | None = None
    after: Callable[[str], None] | None = None
    id: str = ""

    def result_bytes(self) -> int:
        if isinstance(self.content, str):
            return len(self.content)
        return sum(len(part.get("text", "")) for part in self.content)


@dataclass
class Actor:
    """Who sends requests: the main thread or a subagent, each with its own cache state."""

    thread: Thread
    meter: Meter
    model: Model


@dataclass
class OutFile:
    rel_path: str
    thread: Thread | None = None
    data: bytes | None = None


@dataclass
class SessionContext:
    user: UserProfile
    project: Project
    day: date
    start_ms: int
    session_id: str
    branch: str
    rng: random.Random
    ids: Ids
    totals: Totals
    project_dir: str                      # <user>/.claude/projects/<encoded cwd>


def _usage_object(u: Usage, output: int) -> dict:
    """A transcript usage object with `output` output tokens (what Model.cost prices)."""
    return {"input_tokens": u.input, "output_tokens": output, "cache_creation_input_tokens": u.cache_write,
            "cache_read_input_tokens": u.cache_read,
            "cache_creation": dict(zip(("ephemeral_5m_input_tokens", "ephemeral_1h_input_tokens"), u.split()))}


def encode_cwd(cwd: str) -> str:
    """Claude Code's project folder name: every non-alphanumeric character becomes `-`."""
    return "".join(ch if ch.isalnum() else "-" for ch in cwd)


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


class Session:
    """The files of one session and the clock and caches that shape them."""

    def __init__(self, ctx: SessionContext) -> None:
        self.ctx = ctx
        self.rng = ctx.rng
        self.ids = ctx.ids
        user = ctx.user
        self.legacy = is_legacy(user.version)
        self.reports_thinking = _version_tuple(user.version) >= (2, 1, 200)
        self.cwd = user.cwd(ctx.project)
        self.env = Envelope(ctx.session_id, self.cwd, ctx.branch, user.version, self.legacy, self.ids.slug())
        self.base_tokens = self.rng.randrange(16000, 30000)
        self.main = Actor(Thread(self.env, self.ids), Meter(self.rng, self.base_tokens, user.cache_1h and not self.legacy),
                          MODELS[user.model])
        self.files: list[OutFile] = [OutFile(f"{ctx.project_dir}/{ctx.session_id}.jsonl", self.main.thread)]
        self.clock = ctx.start_ms
        self.turn_start = ctx.start_ms
        self.turn_lines = 0
        self.last_prompt = ""
        # What git can see of this session (sample_data/git_repos.py builds repositories from it): the
        # main thread's successful edits and the commits its shell output printed, at their result times.
        self.edits: list[tuple[int, ToolCall]] = []
        self.printed: list[tuple[int, str, str, str]] = []        # (ms, branch, sha7, subject)
        # 2.1.2xx tags the main thread's responses while a plugin skill runs (attributionSkill/Plugin).
        self.attribution: dict | None = None
        if not self.legacy:
            self.main.thread.raw({"type": "permission-mode", "permissionMode": "default", "sessionId": ctx.session_id})

    # -- clock ----------------------------------------------------------------------------------
    def wait(self, lo_s: float, hi_s: float) -> None:
        """Let simulated time pass (thinking, typing, a human away from the keyboard)."""
        self.clock += int(self.rng.uniform(lo_s, hi_s) * 1000)

    def now_iso(self) -> str:
        return iso(self.clock)

    # -- human turns ----------------------------------------------------------------------------
    def prompt(self, text: str) -> None:
        """A typed prompt that starts a turn."""
        thread = self.main.thread
        self.turn_start, self.turn_lines = self.clock, len(thread.lines)
        if not self.legacy:
            thread.raw({"type": "file-history-snapshot", "messageId": self.ids.uuid(),
                        "snapshot": {"messageId": self.ids.uuid(), "trackedFileBackups": {}, "timestamp": iso(self.clock)},
                        "isSnapshotUpdate": False})
        thread.user_text(text, self.clock, new_prompt=True)
        self.attribution = None
        self.main.meter.add(tokens_of(len(text)) + 4)
        self.last_prompt = text
        self.clock += self.rng.randrange(5, 40)

    def slash_command(self, name: str, args: str, expansion: str) -> None:
        """`/name args`: the command line, then the prompt it expands to."""
        thread = self.main.thread
        text = (f"<command-message>{name.lstrip('/')}</command-message>\n<command-name>{name}</command-name>\n"
                f"<command-args>{args}</command-args>")
        self.prompt(text)
        thread.user_text(expansion, self.clock, meta=not self.legacy, blocks=self.legacy)
        self.main.meter.add(tokens_of(len(expansion)))
        self.clock += self.rng.randrange(5, 40)

    def local_command(self, name: str, stdout: str) -> None:
        """A local command (/context, /cost, /model): caveat, the command, its output; no API call."""
        thread = self.main.thread
        thread.user_text("Caveat: The messages below were generated by the user while running local commands. DO NOT respond "
                         "to these messages or otherwise consider them in your response unless the user explicitly asks you to.",
                         self.clock, meta=True)
        thread.user_text(f"<command-name>{name}</command-name>\n            <command-message>{name.lstrip('/')}</command-message>\n"
                         "            <command-args></command-args>", self.clock + 3)
        thread.user_text(f"<local-command-stdout>{stdout}</local-command-stdout>", self.clock + 9)
        self.clock += 1000

    def interrupt_for_tool(self) -> None:
        """The marker written after the user rejects a tool call."""
        self.main.thread.user_text(INTERRUPT_FOR_TOOL, self.clock, blocks=True)
        self.clock += self.rng.randrange(20, 90)

    def end_turn(self) -> None:
        """Bookkeeping after the agent's final answer (2.1.x)."""
        thread = self.main.thread
        self.clock += self.rng.randrange(50, 400)
        thread.turn_duration(self.clock, self.clock - self.turn_start, len(thread.lines) - self.turn_lines)
        if not self.legacy:
            thread.raw({"type": "last-prompt", "lastPrompt": self.last_prompt[:200], "sessionId": self.ctx.session_id})

    # -- API responses --------------------------------------------------------------------------
    def _output_tokens(self, text: str | None, calls: list[ToolCall]) -> int:
        size = len(text or "") + sum(len(json.dumps(c.input)) for c in calls)
        return max(40, int(size / 3.2) + self.rng.randrange(15, 160))

    def respond(self, calls: list[ToolCall] | None = None, text: str | None = None, *, actor: Actor | None = None,
                think: bool | None = None, complete: bool = True) -> list[str]:
        """One API response: optional thinking and text, then tool_use blocks; then each tool's result."""
        actor = actor or self.main
        calls = calls or []
        self.maybe_compact(actor)
        think = self.rng.random() < 0.35 if think is None else think
        thinking = self.rng.randrange(60, 900) if think else 0
        output = self._output_tokens(text, calls) + thinking
        sent = self.clock
        u = actor.meter.request(sent, output)
        blocks = self._blocks(calls, text, think)
        latency = 1200 + int(output / 70 * 1000)
        steps = [self.rng.randrange(200, 1500) for _ in blocks]
        stop = "tool_use" if calls else "end_turn"
        uuids, written = actor.thread.response(
            actor.model.id, blocks, u, stop, sent + latency, steps, complete=complete,
            thinking=thinking if self.reports_thinking else 0, extra=self.attribution if actor is self.main else None,
        )
        self._count(actor, u, written)
        if complete and self.ctx.totals.log is not None:
            self._log(actor, u, sent + latency + sum(steps))
        self.clock = sent + latency + sum(steps)
        if complete:
            # Tool i sits on one of the last len(calls) lines: its result points back to that line.
            self._results(actor, calls, uuids[len(uuids) - len(calls):])
        return [c.id for c in calls]

    def _blocks(self, calls: list[ToolCall], text: str | None, think: bool) -> list[dict]:
        blocks: list[dict] = []
        if think:
            thought = "" if not self.legacy else "Let me look at how this is wired before changing anything."
            blocks.append({"type": "thinking", "thinking": thought, "signature": self.ids.signature()})
        if text:
            blocks.append({"type": "text", "text": text})
        for call in calls:
            call.id = self.ids.tool_use()
            block = {"type": "tool_use", "id": call.id, "name": call.name, "input": call.input}
            if not self.legacy:
                block["caller"] = {"type": "direct"}
            blocks.append(block)
        return blocks

    def _count(self, actor: Actor, u: Usage, written_output: int) -> None:
        largest = Usage(u.input, written_output, u.cache_read, u.cache_write, u.cache_1h)
        self.ctx.totals.add(largest, written_output, actor.model.cost(_usage_object(u, written_output)))

    def _log(self, actor: Actor, u: Usage, done_ms: int) -> None:
        # Only completed responses: an aborted stream never reaches the client's api_request event.
        self.ctx.totals.log.append({
            "ts": datetime.fromtimestamp(done_ms / 1000, tz=timezone.utc), "session_id": self.ctx.session_id,
            "request_id": actor.thread.last_request_id, "model": actor.model.id, "input": u.input, "output": u.output,
            "cache_read": u.cache_read, "cache_creation": u.cache_write, "cost_usd": actor.model.cost(_usage_object(u, u.output)),
        })

    def _results(self, actor: Actor, calls: list[ToolCall], source_uuids: list[str]) -> None:
        for call, source_uuid in zip(calls, source_uuids):
            if call.run:
                call.run()
            self.clock += call.duration_ms
            actor.thread.tool_result(call.id, call.content, call.is_error, call.result, self.clock, source_uuid)
            if actor is self.main and not call.is_error:
                self._note_for_git(call)
            actor.meter.add(tokens_of(call.result_bytes()) + 8)
            if call.after:
                call.after(call.id)
            self.clock += self.rng.randrange(5, 120)

    def _note_for_git(self, call: ToolCall) -> None:
        if call.name in ("Write", "Edit"):
            self.edits.append((self.clock, call))
        elif call.name == "Bash" and isinstance(call.content, str):
            self.printed += [(self.clock, m[1], m[2], m[3]) for m in PRINTED_COMMIT.finditer(call.content)]

    def answer(self, text: str, *, actor: Actor | None = None) -> None:
        """The agent's closing reply of a turn (stop_reason end_turn)."""
        self.respond([], text, actor=actor, think=False)
        if actor is None or actor is self.main:
            self.end_turn()

    def api_error(self) -> None:
        """An API failure the client gave up on, then the user's retry."""
        status, kind, message = self.rng.choice((
            (529, "overloaded", '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'),
            (429, "rate_limit", '{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}'),
            (500, "unknown", '{"type":"error","error":{"type":"api_error","message":"Internal server error"}}'),
        ))
        self.wait(10, 90)
        self.main.thread.api_error(self.clock, status, kind, message)
        self.ctx.totals.api_errors += 1
        self.wait(20, 120)

    # -- compaction -----------------------------------------------------------------------------
    def maybe_compact(self, actor: Actor) -> None:
        """Auto-compact the main thread when its context nears the window, as the client does."""
        if actor is self.main and actor.meter.context + actor.meter.pending > AUTO_COMPACT_TOKENS:
            self.compact("auto")

    def compact(self, trigger: str) -> None:
        """`compact_boundary` plus the summary the conversation continues from; 2.1.x writes the
        summarising request in an agent-acompact-<hex>.jsonl file of its own."""
        thread, meter = self.main.thread, self.main.meter
        summary = SUMMARY_PREFIX + " The conversation is summarized below:\n" + "Analysis: " + " ".join(
            self.rng.choices(("edited", "tests", "handler", "config", "refactor", "retry", "fixture", "schema"), k=300))
        if not self.legacy:
            agent = self.harness_actor("acompact")
            agent.thread.user_text(COMPACTION_REQUEST, self.clock)
            self.respond([], summary[len(SUMMARY_PREFIX):], actor=agent, think=False)
        self.wait(20, 60)
        pre = meter.compact(tokens_of(len(summary)), self.base_tokens)
        thread.compact_boundary(self.clock, trigger, pre)
        thread.user_text(summary, self.clock + 5, extra={"isVisibleInTranscriptOnly": True, "isCompactSummary": True})
        self.clock += 50

    # -- subagents ------------------------------------------------------------------------------
    def subagent_actor(self, agent_type: str, description: str) -> tuple[Actor, str]:
        """A new subagent thread in the layout of this client version (flat 2.0.x or subagents/ 2.1.x)."""
        agent_id = self.ids.agent_id(self.legacy)
        thread = Thread(self.env, self.ids, agent_id)
        thread.prompt_id = self.main.thread.prompt_id
        model_key = SUBAGENT_MODEL if agent_type == "Explore" else self.ctx.user.model
        actor = Actor(thread, Meter(self.rng, self.rng.randrange(7000, 14000), False), MODELS[model_key])
        project_dir, sid = self.ctx.project_dir, self.ctx.session_id
        if self.legacy:
            self.files.append(OutFile(f"{project_dir}/agent-{agent_id}.jsonl", thread))
        else:
            base = f"{project_dir}/{sid}/subagents/agent-{agent_id}"
            self.files.append(OutFile(f"{base}.jsonl", thread))
            meta = json.dumps({"agentType": agent_type, "description": description}, separators=(",", ":"))
            self.files.append(OutFile(f"{base}.meta.json", data=meta.encode()))
        return actor, agent_id

    def harness_actor(self, prefix: str) -> Actor:
        """One of Claude Code's own agents (`acompact`, `aprompt_suggestion`): it reads the whole main
        context again, lives in subagents/agent-<prefix>-<6 hex>.jsonl and has no .meta.json."""
        agent_id = f"{prefix}-{self.rng.getrandbits(24):06x}"
        thread = Thread(self.env, self.ids, agent_id)
        thread.prompt_id = self.main.thread.prompt_id
        thread.parent = self.main.thread.parent
        meter = Meter(self.rng, 0, self.main.meter.cache_1h)
        meter.context, meter.pending, meter.last_ms = self.main.meter.context + self.main.meter.pending, 60, self.clock
        self.files.append(OutFile(f"{self.ctx.project_dir}/{self.ctx.session_id}/subagents/agent-{agent_id}.jsonl", thread))
        return Actor(thread, meter, self.main.model)

    def suggest_next_prompt(self, aborted: bool) -> str:
        """2.1.x: while the user reads an answer, a prompt-suggestion agent guesses their next prompt
        (a 1-3 token answer over the whole cached context); typing aborts it mid-stream."""
        agent = self.harness_actor("aprompt_suggestion")
        agent.thread.user_text(SUGGESTION_REQUEST, self.clock + 50)
        saved = self.clock
        u = agent.meter.request(self.clock + 60, self.rng.randrange(1, 4))
        blocks = [{"type": "text", "text": self.rng.choice(("commit it", "run the tests", "looks good"))}]
        _, written = agent.thread.response(agent.model.id, blocks, u, "end_turn", self.clock + 900, [300],
                                           complete=not aborted)
        self._count(agent, u, written)
        if not aborted and self.ctx.totals.log is not None:
            self._log(agent, u, self.clock + 1200)
        if aborted:
            agent.thread.user_text("[Request interrupted by user]", self.clock + 1400, blocks=True)
        self.clock = saved   # it runs beside the conversation, not in it
        return agent.thread.agent_id

    def warmup(self) -> None:
        """2.0.x warm-up agent: a sidechain whose only prompt is "Warmup" (real spend, no intent)."""
        actor, _ = self.subagent_actor("Explore", "warmup")
        actor.thread.user_text("Warmup", self.clock)
        actor.meter.add(self.rng.randrange(300, 1800))
        self.respond([], "Hello! I'm ready to help you search and explore this codebase. I can find files with glob "
                         "patterns, search code with regex, and read files. What would you like me to look at?",
                     actor=actor, think=False)
        self.clock = self.ctx.start_ms + self.rng.randrange(200, 900)

    # -- output ---------------------------------------------------------------------------------
    def finish(self) -> list[OutFile]:
        """The files of this session; 2.0.x main files start with a summary record."""
        if self.legacy:
            main = self.main.thread
            title = self.last_prompt.splitlines()[0][:60] if self.last_prompt else "Session"
            summary = json.dumps({"type": "summary", "summary": title, "leafUuid": main.parent}, separators=(",", ":"))
            main.lines.insert(0, summary.encode() + b"\n")
        return self.files

    def end_ms(self) -> int:
        """Timestamp of the last line written in any of this session's files."""
        return max(f.thread.last_ms for f in self.files if f.thread is not None)
