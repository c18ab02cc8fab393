"""Finding Claude Code transcripts and what their path says about them."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec

from ingest.claude.parser import parse_lines
from ingest.claude.signals import harness_agent_type
from ingest.claude.schema import KNOWN_RECORD_TYPES, AgentMeta
from ingest.context import FileContext

NAME = "claude"
# agent-<hex>.jsonl, and Claude Code's own agents: agent-acompact-<hex>, agent-aprompt_suggestion-<hex>.
_AGENT_FILE = re.compile(r"^agent-([0-9a-zA-Z][0-9a-zA-Z_-]*)\.jsonl$")
_SESSION_FILE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.jsonl$")
_meta_decoder = msgspec.json.Decoder(AgentMeta)
_MARKERS = (b'"sessionId"', b'"parentUuid"', b'"leafUuid"', b'"isSidechain"') + tuple(
    b'"type":"' + name.encode() + b'"' for name in KNOWN_RECORD_TYPES
)


def sniff(path: Path, head: bytes) -> bool:
    """A .jsonl whose first record looks like a Claude Code line (or an empty transcript)."""
    if path.suffix != ".jsonl":
        return False
    first = head.split(b"\n", 1)[0]
    if not first.strip():
        return True
    if b'"payload"' in first or b'"resourceLogs"' in first or b'"resourceMetrics"' in first:
        return False
    return any(marker in first for marker in _MARKERS)


def layout(path: Path) -> bool:
    """projects/<project>/<session uuid>.jsonl, or a subagent's agent-<id>.jsonl below a project."""
    if not (_SESSION_FILE.match(path.name) or _AGENT_FILE.match(path.name)):
        return False
    return "projects" in path.parts[-5:-2]


def file_context(path: Path, ctx: FileContext) -> FileContext:
    """Fill in what the path tells: a subagent's id, and its type from the .meta.json beside it
    (or, for Claude Code's own agents, from the id itself)."""
    match = _AGENT_FILE.match(path.name)
    if match:
        ctx.file_agent_id = match.group(1)
        meta_path = path.with_name(path.name[: -len(".jsonl")] + ".meta.json")
        if meta_path.is_file():
            try:
                ctx.agent_type = _meta_decoder.decode(meta_path.read_bytes()).agentType
            except (OSError, msgspec.DecodeError, msgspec.ValidationError):
                ctx.agent_type = None
        ctx.agent_type = ctx.agent_type or harness_agent_type(ctx.file_agent_id)
    return ctx


parse = parse_lines
