"""Short stable hashes: we store these instead of prompts, tool output and file contents."""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

_encoder = msgspec.json.Encoder(order="sorted")


def short_hash(data: bytes | str) -> str:
    """16 hex chars of BLAKE2b: enough to compare, useless to recover the text."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=8).hexdigest()


def normalized_input_hash(value: Any) -> str:
    """Hash of a tool input with keys sorted, so the same call hashes the same way every time."""
    try:
        return short_hash(_encoder.encode(value))
    except (TypeError, msgspec.EncodeError):
        return short_hash(repr(value))


FINGERPRINT_PREFIX = 8192


def utf8_length(text: str) -> int:
    """Bytes of `text` in UTF-8; str.isascii() is O(1), so pure-ASCII output is never re-encoded."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def output_fingerprint(text: str) -> str:
    """Hash of a tool output's first 8 KB and its length: the same error twice gives the same value,
    without hashing every megabyte of every file read (the hot path)."""
    return short_hash(f"{len(text)}:{text[:FINGERPRINT_PREFIX]}")
