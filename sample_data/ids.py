"""Identifiers shaped like the real ones, drawn from a seeded generator (never uuid4/os.urandom)."""

from __future__ import annotations

import base64
import random

_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# Random bytes mapped onto base62 in C (bytes.translate): ids are the hottest random draw.
_TO_B62 = bytes(ord(_B62[i % 62]) for i in range(256))
_SLUG_WORDS = (
    "fuzzy", "booping", "minsky", "humble", "doodling", "wolf", "quiet", "sparkling", "otter", "brave",
    "wandering", "lovelace", "gentle", "hopper", "swift", "knuth", "curious", "turing", "lazy", "dijkstra",
)


class Ids:
    """All random-looking ids of one user-day, reproducible from its seed."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def _b62(self, n: int) -> str:
        return self.rng.randbytes(n).translate(_TO_B62).decode()

    def uuid(self) -> str:
        """A version-4 UUID string."""
        h = f"{self.rng.getrandbits(128):032x}"
        variant = "89ab"[int(h[16], 16) & 3]
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:32]}"

    def message(self) -> str:
        """`msg_01…` (28 chars)."""
        return "msg_01" + self._b62(22)

    def request(self) -> str:
        """`req_011C…` (28 chars)."""
        return "req_011C" + self._b62(20)

    def tool_use(self) -> str:
        """`toolu_01…` (30 chars)."""
        return "toolu_01" + self._b62(22)

    def agent_id(self, legacy: bool) -> str:
        """8 hex chars for 2.0.x flat agent files, `a` + 16 hex for 2.1.x subagents/ files."""
        if legacy:
            return f"{self.rng.getrandbits(32):08x}"
        return f"a{self.rng.getrandbits(64):016x}"

    def signature(self) -> str:
        """Opaque thinking-block signature."""
        return base64.b64encode(self.rng.randbytes(self.rng.randrange(120, 420))).decode()

    def sha(self, n: int = 7) -> str:
        """A short git sha."""
        return f"{self.rng.getrandbits(40):010x}"[:n]

    def slug(self) -> str:
        """A session slug like `fuzzy-booping-minsky`."""
        return "-".join(self.rng.sample(_SLUG_WORDS, 3))
