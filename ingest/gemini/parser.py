"""Gemini CLI chat sessions -> normalized records.

The file is rewritten in place on every turn, so it is always read whole; natural keys
(session id + message id, tool call id) make the re-read idempotent.
Tokens: Gemini's `input` includes `cached` (like Codex), `thoughts` are billed as output,
`tool` is prompt input outside `input`; so input = input - cached + tool, cache_read = cached,
output = output + thoughts, reasoning = thoughts, and their sum is `total`.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from ingest import plausible
from ingest.batch import RecordBatch
from ingest.components import shell_or_mcp_component
from ingest.context import FileContext
from ingest.edits import summarize_edit
from ingest.gemini.schema import Message, Session, ToolCall
from ingest.hashing import normalized_input_hash, short_hash
from ingest.lines import LineError, decode_reason as _decode_reason
from ingest.records import Request, SessionEvent, ToolResult
from ingest.records import ToolCall as ToolCallRecord
from ingest.session_git import SessionGit
from ingest.timestamps import parse_utc

SOURCE = "gemini"
SHELL_TOOLS = frozenset({"run_shell_command"})
# Gemini edit tools, as the Claude edit they resemble (for lines added/removed and hashes).
EDIT_TOOLS = {"write_file": "Write", "replace": "Edit"}
_EXIT_CODE = re.compile(r"Exit Code: (-?\d+)")

_session = msgspec.json.Decoder(Session)
_message = msgspec.json.Decoder(Message)


def parse_file(data: bytes, start_offset: int, start_line: int, ctx: FileContext, batch: RecordBatch) -> None:
    """The whole session document; a message we cannot use is quarantined, the rest loads."""
    try:
        session = _session.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError) as error:
        # Often a file caught mid-rewrite: the next run sees a new mtime and reads it again.
        batch.lines += 1
        batch.reject(ctx.path, 0, 1, _decode_reason(error), data)
        return
    if not session.sessionId:
        batch.reject(ctx.path, 0, 1, "session file without sessionId", data)
        return
    search_from = 0
    for raw in session.messages:
        batch.lines += 1
        raw_bytes = bytes(raw)
        found = data.find(raw_bytes[:80], search_from)
        offset = found if found >= 0 else search_from
        search_from = offset + 1
        try:
            _message_records(_message.decode(raw_bytes), session, ctx, batch)
        except LineError as error:
            batch.reject(ctx.path, offset, data.count(b"\n", 0, offset) + 1, str(error), raw_bytes)
        except msgspec.ValidationError as error:
            batch.reject(ctx.path, offset, data.count(b"\n", 0, offset) + 1, _decode_reason(error), raw_bytes)


def _message_records(message: Message, session: Session, ctx: FileContext, batch: RecordBatch) -> None:
    parsed = parse_utc(message.timestamp)
    if parsed is None or not message.id:
        raise LineError("message without id or valid timestamp")
    ts = ctx.time(parsed, "message")
    base = {"source": SOURCE, "user_name": ctx.user_name, "session_id": session.sessionId, "is_sidechain": False}
    if message.type == "user":
        text = _content_text(message.content)
        batch.add(SessionEvent(
            **base, event_key=f"gemini:{session.sessionId}:{message.id}:prompt", ts=ts, kind="prompt",
            prompt_length=len(text), prompt_hash=short_hash(text), prompt_text=text if ctx.store_prompts else None,
        ))
        return
    key = f"gemini:{session.sessionId}:{message.id}"
    if message.tokens is not None:
        batch.requests.add(Request(**base, **_request(message), request_key=key, ts=ts, file_path=ctx.path))
    for call in message.toolCalls or []:
        _tool(call, key, ts, base, ctx, batch)


def _request(message: Message) -> dict[str, Any]:
    t = message.tokens
    values = [t.input or 0, t.output or 0, t.cached or 0, t.thoughts or 0, t.tool or 0]
    plausible.tokens(*values)
    inp, out, cached, thoughts, tool = values
    return {
        "message_id": message.id, "model": message.model, "input_tokens": max(inp - cached, 0) + tool,
        "cache_read_tokens": cached, "cache_creation_tokens": 0, "output_tokens": out + thoughts,
        "reasoning_tokens": thoughts, "output_estimated": False,
    }


def _tool(call: ToolCall, request_key: str, ts, base: dict, ctx: FileContext, batch: RecordBatch) -> None:
    if not call.id or not call.name:
        raise LineError("tool call without id or name")
    args = call.args or {}
    component = shell_or_mcp_component(call.name, SHELL_TOOLS)
    edit = summarize_edit(EDIT_TOOLS[call.name], args) if call.name in EDIT_TOOLS else None
    command = args.get("command") if call.name in SHELL_TOOLS else None
    file_path = args.get("file_path")
    parsed = parse_utc(call.timestamp)
    call_ts = ctx.time(parsed, "tool call") if parsed else ts
    batch.add(ToolCallRecord(
        **base, tool_use_id=call.id, request_key=request_key, ts=call_ts,
        tool_name=call.name, component=component.component, component_kind=component.kind,
        plugin=component.plugin, input_hash=normalized_input_hash(args),
        file_path=edit.file_path if edit else file_path if isinstance(file_path, str) else None,
        command=command if isinstance(command, str) else None,
        lines_added=edit.lines_added if edit else None, lines_removed=edit.lines_removed if edit else None,
        edit_before_hash=edit.before_hash if edit else None, edit_after_hash=edit.after_hash if edit else None,
    ))
    if call.status is None and call.result is None:
        return  # still running when the file was written
    text = _result_text(call.result)
    exit_code = _EXIT_CODE.search(text)
    is_error = call.status not in (None, "success") or bool(exit_code and int(exit_code.group(1)) != 0)
    SessionGit(batch, SOURCE).gemini_call(call.id, base["session_id"], call_ts, call.name, args,
                                          command if isinstance(command, str) else None, text, is_error)
    batch.add(ToolResult(
        tool_use_id=call.id, source=SOURCE, session_id=base["session_id"], ts=call_ts, is_error=is_error,
        interrupted=call.status == "cancelled",
        result_bytes=len(text.encode("utf-8", "surrogatepass")), result_hash=short_hash(text),
    ))


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def _result_text(result: Any) -> str:
    """functionResponse.response.output (or .error) of each part, joined."""
    if isinstance(result, str):
        return result
    texts = []
    for part in result if isinstance(result, list) else [result]:
        if isinstance(part, dict):
            response = (part.get("functionResponse") or {}).get("response") or {}
            value = response.get("output", response.get("error")) if isinstance(response, dict) else None
            if isinstance(value, str):
                texts.append(value)
    return "\n".join(texts)
