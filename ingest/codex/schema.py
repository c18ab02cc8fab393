"""The Codex CLI rollout line, as far as we read it (formats.md §2).

A line is `{timestamp, type, payload}`; the payload is kept raw and decoded only when its
`type` is one we use, so the large `reasoning.encrypted_content` and message texts of
response items are skipped by msgspec without being materialised.
"""

from __future__ import annotations

from typing import Any

import msgspec


class RolloutLine(msgspec.Struct):
    timestamp: str | None = None
    type: str | None = None
    payload: msgspec.Raw = msgspec.Raw()


class PayloadHead(msgspec.Struct):
    type: str | None = None


class TokenUsage(msgspec.Struct):
    input_tokens: int | None = None
    cached_input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_output_tokens: int | None = None
    total_tokens: int | None = None


class TokenInfo(msgspec.Struct):
    total_token_usage: TokenUsage | None = None
    last_token_usage: TokenUsage | None = None


class TokenCount(msgspec.Struct):
    info: TokenInfo | None = None


class UserMessage(msgspec.Struct):
    message: str | None = None


class TurnAborted(msgspec.Struct):
    reason: str | None = None


class Git(msgspec.Struct):
    branch: str | None = None
    commit_hash: str | None = None
    repository_url: str | None = None


class SessionMeta(msgspec.Struct):
    id: str | None = None
    timestamp: str | None = None
    cwd: str | None = None
    cli_version: str | None = None
    # "cli" | "vscode" | "exec" | {"subagent": "review" | {...}}
    source: Any = None
    git: Git | None = None


class TurnContext(msgspec.Struct):
    model: str | None = None
    cwd: str | None = None


class ToolCall(msgspec.Struct):
    """function_call, custom_tool_call and local_shell_call response items."""

    type: str | None = None
    name: str | None = None
    arguments: str | None = None       # function_call: a JSON string
    input: str | None = None           # custom_tool_call: free text (apply_patch's patch)
    call_id: str | None = None
    id: str | None = None
    status: str | None = None
    action: dict[str, Any] | None = None   # local_shell_call: {type: "exec", command: [...]}


class ToolOutput(msgspec.Struct):
    """function_call_output and custom_tool_call_output: a string, or {content, success} in newer builds."""

    call_id: str | None = None
    output: Any = None


KNOWN_LINE_TYPES = frozenset({"session_meta", "turn_context", "response_item", "event_msg", "compacted"})
