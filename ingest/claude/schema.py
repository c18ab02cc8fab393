"""The Claude Code transcript line, as far as we read it.

msgspec structs decode only the fields below and type-check them; unknown fields are skipped
without being materialised, which is what keeps the hot path fast (see bench/ingest).
Everything is optional: the format is internal and changes between versions.
"""

from __future__ import annotations

from typing import Any

import msgspec


class CacheCreation(msgspec.Struct):
    ephemeral_5m_input_tokens: int | None = None
    ephemeral_1h_input_tokens: int | None = None


class ServerToolUse(msgspec.Struct):
    web_search_requests: int | None = None
    web_fetch_requests: int | None = None


class OutputDetails(msgspec.Struct):
    thinking_tokens: int | None = None


class Usage(msgspec.Struct):
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    cache_creation: CacheCreation | None = None
    server_tool_use: ServerToolUse | None = None
    output_tokens_details: OutputDetails | None = None
    service_tier: str | None = None
    speed: str | None = None


class ResultPart(msgspec.Struct):
    type: str | None = None
    text: str | None = None


class Block(msgspec.Struct):
    """One content block: text, thinking, tool_use, tool_result, image..."""

    type: str | None = None
    text: str | None = None
    id: str | None = None
    name: str | None = None
    input: dict[str, Any] | None = None
    tool_use_id: str | None = None
    content: str | list[ResultPart] | None = None
    is_error: bool | None = None


class Message(msgspec.Struct):
    id: str | None = None
    model: str | None = None
    role: str | None = None
    content: str | list[Block] | None = None
    stop_reason: str | None = None
    usage: Usage | None = None


class CompactMetadata(msgspec.Struct):
    trigger: str | None = None
    preTokens: int | None = None


class Line(msgspec.Struct):
    """A transcript line. `toolUseResult` and `data` vary by tool and version: kept raw."""

    type: str | None = None
    subtype: str | None = None
    uuid: str | None = None
    parentUuid: str | None = None
    sessionId: str | None = None
    timestamp: str | None = None
    cwd: str | None = None
    gitBranch: str | None = None
    version: str | None = None
    isSidechain: bool | None = None
    agentId: str | None = None
    requestId: str | None = None
    promptId: str | None = None
    isMeta: bool | None = None
    isCompactSummary: bool | None = None
    isApiErrorMessage: bool | None = None
    error: Any = None
    message: Message | None = None
    # msgspec.Raw cannot sit in a union: an absent field is an empty Raw.
    toolUseResult: msgspec.Raw = msgspec.Raw()
    data: msgspec.Raw = msgspec.Raw()
    compactMetadata: CompactMetadata | None = None
    attributionPlugin: str | None = None
    attributionSkill: str | None = None
    attributionAgent: str | None = None


class EmbeddedMessage(msgspec.Struct):
    """The subagent line a v2.1.x `progress/agent_progress` record embeds."""

    type: str | None = None
    uuid: str | None = None
    timestamp: str | None = None
    requestId: str | None = None
    isSidechain: bool | None = None
    agentId: str | None = None
    message: Message | None = None


class ProgressData(msgspec.Struct):
    type: str | None = None
    agentId: str | None = None
    message: EmbeddedMessage | None = None


class SubagentResult(msgspec.Struct):
    """The fields of a Task/Agent `toolUseResult` we use (never its usage: final request only)."""

    agentId: str | None = None
    agentType: str | None = None
    status: str | None = None


class BashResult(msgspec.Struct):
    interrupted: bool | None = None


class AgentMeta(msgspec.Struct):
    """`subagents/agent-<id>.meta.json`."""

    agentType: str | None = None


KNOWN_RECORD_TYPES = frozenset(
    {
        "user", "assistant", "system", "summary", "ai-title", "file-history-snapshot",
        "queue-operation", "progress", "attachment", "last-prompt", "permission-mode",
        "custom-title", "agent-name", "agent-color", "agent-setting", "pr-link",
    }
)

# Top-level fields documented in ../shared/formats.md §1.2-1.9; others are counted as drift.
KNOWN_FIELDS = frozenset(
    {
        "type", "subtype", "uuid", "parentUuid", "logicalParentUuid", "sessionId", "session_id",
        "timestamp", "cwd", "gitBranch", "version", "isSidechain", "userType", "agentId",
        "entrypoint", "slug", "promptId", "permissionMode", "thinkingMetadata", "todos", "isMeta",
        "teamName", "requestId", "message", "toolUseResult", "sourceToolAssistantUUID",
        "sourceToolUseID", "isCompactSummary", "isVisibleInTranscriptOnly", "isApiErrorMessage",
        "error", "apiErrorStatus", "errorDetails", "compactMetadata", "summary", "leafUuid",
        "aiTitle", "messageId", "snapshot", "isSnapshotUpdate", "operation", "content", "data",
        "toolUseID", "parentToolUseID", "attachment", "lastPrompt", "level", "hookCount",
        "hookInfos", "hookErrors", "preventedContinuation", "stopReason", "hasOutput",
        "durationMs", "messageCount", "attributionPlugin", "attributionSkill", "attributionAgent",
        "attributionMcpServer", "attributionMcpTool", "effort", "costUSD", "customTitle",
        "agentName", "agentColor", "agentSetting", "prLink", "prNumber", "prUrl", "prRepository",
        "retryInMs", "retryAttempt", "maxRetries", "cause", "isVisibleInTranscriptOnly",
        "mcpMeta", "imagePasteIds", "planContent", "toolUseResultId",
    }
)
