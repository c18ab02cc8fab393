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
