"""The Gemini CLI chat session file (formats.md §5): one JSON document, rewritten in place."""

from __future__ import annotations

from typing import Any

import msgspec


class Tokens(msgspec.Struct):
    input: int | None = None        # prompt tokens, cached ones included
    output: int | None = None
    cached: int | None = None
    thoughts: int | None = None
    tool: int | None = None         # tool-use prompt tokens, outside `input`
    total: int | None = None


class ToolCall(msgspec.Struct):
    id: str | None = None
    name: str | None = None
    args: dict[str, Any] | None = None
    result: Any = None
    status: str | None = None
    timestamp: str | None = None


class Message(msgspec.Struct):
    id: str | None = None
    timestamp: str | None = None
    type: str | None = None          # user | gemini | info | error ...
    content: Any = None
    model: str | None = None
    tokens: Tokens | None = None
    toolCalls: list[ToolCall] | None = None


class Session(msgspec.Struct):
    sessionId: str | None = None
    projectHash: str | None = None
    startTime: str | None = None
    lastUpdated: str | None = None
    messages: list[msgspec.Raw] = []
