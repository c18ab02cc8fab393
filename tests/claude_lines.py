"""Hand-built Claude Code transcript lines, shaped like the real ones in ../shared/corpus."""

from __future__ import annotations

import json
from itertools import count
from pathlib import Path
from typing import Any

_ids = count(1)


def _uuid() -> str:
    return f"00000000-0000-4000-8000-{next(_ids):012d}"


def envelope(kind: str, ts: str, session: str = "s1", *, sidechain: bool = False, parent: str | None = None,
             cwd: str = "/work/app", version: str = "2.1.114", **extra: Any) -> dict:
    """The fields every transcript line carries."""
    line = {
        "parentUuid": parent, "isSidechain": sidechain, "userType": "external", "cwd": cwd,
        "sessionId": session, "version": version, "gitBranch": "main", "type": kind,
        "uuid": _uuid(), "timestamp": ts,
    }
    line.update(extra)
    return line


def usage(inp: int, out: int, cc: int = 0, cr: int = 0, cc_1h: int = 0) -> dict:
    """A message.usage object (cache_creation split into 5m and 1h)."""
    return {
        "input_tokens": inp, "output_tokens": out, "cache_creation_input_tokens": cc,
        "cache_read_input_tokens": cr,
        "cache_creation": {"ephemeral_5m_input_tokens": cc - cc_1h, "ephemeral_1h_input_tokens": cc_1h},
        "service_tier": "standard",
    }


def assistant(ts: str, msg_id: str, req_id: str | None, use: dict, blocks: list[dict], *,
              stop_reason: str | None = "end_turn", model: str = "claude-sonnet-4-5-20250929", **env: Any) -> dict:
    """One line of one API response: one content block plus the message-level usage."""
    message = {"model": model, "id": msg_id, "type": "message", "role": "assistant", "content": blocks,
               "stop_reason": stop_reason, "stop_sequence": None, "usage": use}
    line = envelope("assistant", ts, message=message, **env)
    if req_id is not None:
        line["requestId"] = req_id
    return line


def text(value: str = "ok") -> dict:
    return {"type": "text", "text": value}


def tool_use(tool_id: str, name: str, tool_input: dict) -> dict:
    return {"type": "tool_use", "id": tool_id, "name": name, "input": tool_input}


def prompt(ts: str, value: str, **env: Any) -> dict:
    """A typed human prompt."""
    return envelope("user", ts, message={"role": "user", "content": value}, **env)


def tool_result(ts: str, tool_id: str, output: str, *, is_error: bool = False, result: Any = None, **env: Any) -> dict:
    """The user line carrying a tool's result back to the model."""
    block = {"tool_use_id": tool_id, "type": "tool_result", "content": output, "is_error": is_error}
    line = envelope("user", ts, message={"role": "user", "content": [block]}, **env)
    if result is not None:
        line["toolUseResult"] = result
    return line


def write_jsonl(path: Path, lines: list[dict | str | bytes], *, trailing_newline: bool = True) -> Path:
    """Write lines (dicts as JSON; str/bytes verbatim) as a .jsonl file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    chunks = []
    for line in lines:
        if isinstance(line, dict):
            chunks.append(json.dumps(line).encode())
        elif isinstance(line, str):
            chunks.append(line.encode())
        else:
            chunks.append(line)
    data = b"\n".join(chunks) + (b"\n" if trailing_newline else b"")
    path.write_bytes(data)
    return path
