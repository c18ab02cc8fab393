"""JSONL lines of one transcript file, byte-shaped like what Claude Code writes (formats.md §1.2-1.9).

A `Thread` is one file's worth of lines: the main conversation or one subagent. It knows the
envelope (field order differs between 2.0.x and 2.1.x), keeps the parentUuid chain, and writes an
API response as one line per content block, the way the real client streams it to disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import functools
from datetime import datetime, timedelta, timezone

import msgspec

from sample_data.ids import Ids
from sample_data.usage import Usage, usage_final, usage_placeholder

_encode = msgspec.json.Encoder().encode
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

REJECTION_TEXT = (
    "The user doesn't want to proceed with this tool use. The tool use was rejected (eg. if it was a file edit, "
    "the new_string was NOT written to the file). STOP what you are doing and wait for the user to tell you how to proceed."
)
INTERRUPT_FOR_TOOL = "[Request interrupted by user for tool use]"
INTERRUPT = "[Request interrupted by user]"


@functools.lru_cache(maxsize=4096)
def _day(days_since_epoch: int) -> str:
    return (_EPOCH + timedelta(days=days_since_epoch)).strftime("%Y-%m-%d")


def iso(ms: int) -> str:
    """`2026-10-01T13:12:03.120Z` from epoch milliseconds."""
    seconds, millis = divmod(ms, 1000)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{_day(days)}T{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}Z"


@dataclass
class Totals:
    """What was written, counted the way ccusage dedups: one entry per response, its largest usage."""

    requests: int = 0
    api_errors: int = 0
    input: int = 0
    output: int = 0
    cache_creation: int = 0
    cache_read: int = 0
    cost_usd: float = 0.0
    by_kind: dict[str, int] = field(default_factory=dict)
    # Per-response records for an OTel export of this session; None when nobody exports it.
    log: list[dict] | None = None

    def add(self, u: Usage, output: int, cost: float) -> None:
        """Record one response whose largest written usage is `u` with `output` output tokens."""
        self.requests += 1
        self.input += u.input
        self.output += output
        self.cache_creation += u.cache_write
        self.cache_read += u.cache_read
        self.cost_usd += cost


@dataclass
class Envelope:
    session_id: str
    cwd: str
    branch: str
    version: str
    legacy: bool
    slug: str | None = None


class Thread:
    """The lines of one transcript file."""

    def __init__(self, env: Envelope, ids: Ids, agent_id: str | None = None) -> None:
        self.env = env
        self.ids = ids
        self.agent_id = agent_id
        self.sidechain = agent_id is not None
        self.parent: str | None = None
        self.prompt_id: str | None = None
        self.lines: list[bytes] = []
        self.last_ms = 0
        self.last_request_id: str | None = None
        if env.legacy:
            head = {"userType": "external", "cwd": env.cwd, "sessionId": env.session_id, "version": env.version,
                    "gitBranch": env.branch}
            if env.slug:
                head["slug"] = env.slug
            if agent_id:
                head["agentId"] = agent_id
            self.head, self.tail = head, {}
        else:
            tail = {"userType": "external", "entrypoint": "cli", "cwd": env.cwd, "sessionId": env.session_id,
                    "version": env.version, "gitBranch": env.branch}
            if env.slug:
                tail["slug"] = env.slug
            self.head, self.tail = {}, tail

    # -- low level ------------------------------------------------------------------------------
    def _emit(self, body: dict, ms: int, after: dict | None = None, *, user: bool = False, chain: bool = True) -> str:
        uuid = self.ids.uuid()
        line = {"parentUuid": self.parent, "isSidechain": self.sidechain}
        if self.env.legacy:
            line.update(self.head)
        else:
            if user and self.prompt_id:
                line["promptId"] = self.prompt_id
            if self.agent_id:
                line["agentId"] = self.agent_id
        line.update(body)
        line["uuid"] = uuid
        line["timestamp"] = iso(ms)
        if after:
            line.update(after)
        line.update(self.tail)
        self.lines.append(_encode(line) + b"\n")
        if chain:
            self.parent = uuid
        self.last_ms = max(self.last_ms, ms)
        return uuid

    def raw(self, record: dict) -> None:
        """A bookkeeping record without the envelope (permission-mode, last-prompt, snapshots...)."""
        self.lines.append(_encode(record) + b"\n")

    # -- user lines -----------------------------------------------------------------------------
    def user_text(self, text: str, ms: int, *, meta: bool = False, new_prompt: bool = False,
                  blocks: bool = False, extra: dict | None = None) -> str:
        """A typed prompt, slash command, meta injection or interruption marker."""
        if new_prompt and not self.env.legacy:
            self.prompt_id = self.ids.uuid()
        content = [{"type": "text", "text": text}] if blocks else text
        body = {"type": "user", "message": {"role": "user", "content": content}}
        if meta:
            body["isMeta"] = True
        return self._emit(body, ms, extra, user=True)

    def tool_result(self, tool_use_id: str, content, is_error: bool, tool_use_result, ms: int,
                    source_uuid: str | None) -> str:
        """The user line carrying one tool_result block and the tool's structured `toolUseResult`."""
        block = {"tool_use_id": tool_use_id, "type": "tool_result", "content": content}
        if is_error:
            block["is_error"] = True
        after = {"toolUseResult": tool_use_result}
        if source_uuid and not self.env.legacy:
            after["sourceToolAssistantUUID"] = source_uuid
        return self._emit({"type": "user", "message": {"role": "user", "content": [block]}}, ms, after, user=True)

    # -- assistant lines ------------------------------------------------------------------------
    def response(self, model: str, blocks: list[dict], u: Usage, stop_reason: str, start_ms: int,
                 step_ms: list[int], *, complete: bool = True, thinking: int = 0,
                 extra: dict | None = None) -> tuple[list[str], int]:
        """One API response as one line per block; returns the line uuids and the output written.

        2.1.x flushes early blocks mid-stream (stop_reason null, placeholder output) and only the
        last line carries the final usage; 2.0.x repeats the final usage on every line. A response
        cut off by the user (`complete=False`) never gets its final line.
        """
        msg_id, req_id = self.ids.message(), self.ids.request()
        self.last_request_id = req_id
        legacy = self.env.legacy
        final = usage_final(u, legacy, thinking)
        placeholder = self.ids.rng.randrange(1, 31)
        early = final if legacy else usage_placeholder(u, placeholder)
        uuids, ms = [], start_ms
        for i, block in enumerate(blocks):
            last = i == len(blocks) - 1
            is_final = complete and (legacy or last)
            message = {"model": model, "id": msg_id, "type": "message", "role": "assistant", "content": [block],
                       "stop_reason": stop_reason if is_final else None, "stop_sequence": None}
            if not legacy:
                message["stop_details"] = None
            message["usage"] = final if is_final else early
            body = {"message": message, "requestId": req_id, "type": "assistant"}
            uuids.append(self._emit(body, ms, extra))
            ms += step_ms[i] if i < len(step_ms) else 400
        written = u.output if (complete or legacy) else placeholder
        return uuids, written

    def api_error(self, ms: int, status: int, kind: str, message: str) -> str:
        """The synthetic assistant line Claude Code writes when the API gives up (never billed)."""
        body = {
            "type": "assistant",
            "message": {
                "id": self.ids.uuid(), "container": None, "model": "<synthetic>", "role": "assistant",
                "stop_reason": "stop_sequence", "stop_sequence": "", "type": "message",
                "usage": {"input_tokens": 0, "output_tokens": 0, "cache_creation_input_tokens": 0,
                          "cache_read_input_tokens": 0,
                          "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0},
                          "service_tier": None, "cache_creation": {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 0}},
                "content": [{"type": "text", "text": f"API Error: {status} {message}"}],
            },
        }
        after = {"error": kind, "isApiErrorMessage": True, "apiErrorStatus": status}
        return self._emit(body, ms, after)

    # -- system lines ---------------------------------------------------------------------------
    def compact_boundary(self, ms: int, trigger: str, pre_tokens: int) -> str:
        """`system/compact_boundary`: the chain restarts (parentUuid null, logicalParentUuid kept)."""
        logical = self.parent
        self.parent = None
        body = {"type": "system", "subtype": "compact_boundary", "content": "Conversation compacted", "isMeta": False,
                "level": "info", "compactMetadata": {"trigger": trigger, "preTokens": pre_tokens}}
        return self._emit(body, ms, {"logicalParentUuid": logical})

    def turn_duration(self, ms: int, duration_ms: int, message_count: int) -> None:
        """2.1.x end-of-turn marker."""
        if self.env.legacy:
            return
        self._emit({"type": "system", "subtype": "turn_duration", "durationMs": duration_ms,
                    "messageCount": message_count, "isMeta": False}, ms)
