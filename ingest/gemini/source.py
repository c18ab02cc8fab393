"""Recognising a Gemini CLI chat session file."""

from __future__ import annotations

from pathlib import Path

from ingest.context import FileContext
from ingest.gemini.parser import parse_file

NAME = "gemini"


def sniff(path: Path, head: bytes) -> bool:
    """A .json document with the chat-recording keys near the top."""
    if path.suffix != ".json" or not head.lstrip().startswith(b"{"):
        return False
    return b'"sessionId"' in head and b'"projectHash"' in head and b'"messages"' in head


def layout(path: Path) -> bool:
    """~/.gemini/tmp/<project hash>/chats/session-*.json."""
    return path.parent.name == "chats" and path.name.startswith("session-") and path.suffix == ".json"


def file_context(path: Path, ctx: FileContext) -> FileContext:
    """Nothing in the path beyond the project hash, which the file also carries."""
    return ctx


parse = parse_file
