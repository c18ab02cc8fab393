"""Token accounting of one conversation thread, shaped like Anthropic's prompt-cache behaviour.

Each request reads the cached prefix (the whole conversation so far) and writes what was added
since the last request, so cache reads dominate, uncached input stays tiny, and a pause longer than
the cache TTL makes the next request rewrite the whole context (the expensive idle pattern).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

BYTES_PER_TOKEN = 3.6
TTL_5M_MS = 5 * 60 * 1000
TTL_1H_MS = 60 * 60 * 1000


def tokens_of(text_bytes: int) -> int:
    """Rough token count of `text_bytes` bytes of prompt text."""
    return int(text_bytes / BYTES_PER_TOKEN)


@dataclass
class Usage:
    input: int
    output: int
    cache_read: int
    cache_write: int
    cache_1h: bool
    web_search: int = 0

    def split(self) -> tuple[int, int]:
        """(5m, 1h) cache-write tokens."""
        return (0, self.cache_write) if self.cache_1h else (self.cache_write, 0)

    def total(self) -> int:
        """The ccusage dedup size: input + output + cache write + cache read."""
        return self.input + self.output + self.cache_read + self.cache_write


class Meter:
    """The cache state of one thread (main conversation or one subagent)."""

    def __init__(self, rng: random.Random, base_tokens: int, cache_1h: bool) -> None:
        self.rng = rng
        self.cache_1h = cache_1h
        self.context = 0                 # tokens in the cached prefix
        self.pending = base_tokens       # system prompt, tools, CLAUDE.md, then every new message
        self.last_ms: int | None = None

    def add(self, tokens: int) -> None:
        """Tokens appended to the conversation (a prompt, a tool result) before the next request."""
        self.pending += tokens

    def request(self, now_ms: int, output: int) -> Usage:
        """The usage of a request sent at `now_ms` that generates `output` tokens."""
        ttl = TTL_1H_MS if self.cache_1h else TTL_5M_MS
        expired = self.last_ms is not None and now_ms - self.last_ms > ttl
        if self.last_ms is None and self.rng.random() < 0.5:
            # The system prompt and tool list are often still cached from the user's previous session.
            shared = min(self.pending, self.rng.randrange(9000, 15000))
            read, write = shared, self.pending - shared
        elif expired:
            read, write = 0, self.context + self.pending
        else:
            read, write = self.context, self.pending
        self.context = read + write
        self.pending = output            # the answer is part of the next request's prompt
        self.last_ms = now_ms
        return Usage(self.rng.randrange(1, 9), output, read, write, self.cache_1h)

    def compact(self, summary_tokens: int, base_tokens: int) -> int:
        """Replace the conversation with a summary; returns the token count before compaction."""
        before = self.context + self.pending
        self.context = 0
        self.pending = base_tokens + summary_tokens
        return before


def usage_final(u: Usage, legacy: bool, thinking: int = 0) -> dict:
    """The usage object on a response's last line (the one with stop_reason)."""
    five, hour = u.split()
    if legacy:
        return {
            "input_tokens": u.input, "cache_creation_input_tokens": u.cache_write, "cache_read_input_tokens": u.cache_read,
            "cache_creation": {"ephemeral_5m_input_tokens": five, "ephemeral_1h_input_tokens": hour},
            "output_tokens": u.output, "service_tier": "standard",
        }
    usage = {
        "input_tokens": u.input, "cache_creation_input_tokens": u.cache_write, "cache_read_input_tokens": u.cache_read,
        "output_tokens": u.output,
        "server_tool_use": {"web_search_requests": u.web_search, "web_fetch_requests": 0},
        "service_tier": "standard",
        "cache_creation": {"ephemeral_1h_input_tokens": hour, "ephemeral_5m_input_tokens": five},
        "inference_geo": "",
        "iterations": [{
            "input_tokens": u.input, "output_tokens": u.output, "cache_read_input_tokens": u.cache_read,
            "cache_creation_input_tokens": u.cache_write,
            "cache_creation": {"ephemeral_5m_input_tokens": five, "ephemeral_1h_input_tokens": hour}, "type": "message",
        }],
        "speed": "standard",
    }
    if thinking:
        usage["output_tokens_details"] = {"thinking_tokens": thinking}
    return usage


def usage_placeholder(u: Usage, placeholder: int) -> dict:
    """The usage of a line flushed mid-stream (2.1.x): input/cache correct, output a placeholder."""
    five, hour = u.split()
    return {
        "input_tokens": u.input, "cache_creation_input_tokens": u.cache_write, "cache_read_input_tokens": u.cache_read,
        "cache_creation": {"ephemeral_5m_input_tokens": five, "ephemeral_1h_input_tokens": hour},
        "output_tokens": placeholder, "service_tier": "standard", "inference_geo": "not_available",
    }
