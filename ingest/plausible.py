"""What a real agent log can contain: a value outside these bounds quarantines its line.

One forged or corrupt line must never stop the org's run nor distort its totals: a token count of
2^63 does not fit the ledger's BIGINT (every later run failed on it), 3e9 web searches do not fit
INTEGER, and a forged duplicate of a real request with output_tokens 10^9 won the deduplication
("larger usage wins") and turned a 22,046-token request into 1,000,021,629.
"""

from __future__ import annotations

from datetime import datetime

from ingest.lines import LineError

# Tokens of one kind in one request. The largest context window any agent model offers is 2 M
# tokens (10 M announced); 10^8 leaves 50x headroom over the first and 10x over the second, rejects
# the forged 10^9, and 10^11 such requests still sum below 2^63.
MAX_TOKENS = 10**8
# Cumulative counters (Codex's running total per session) grow across a session's requests.
MAX_CUMULATIVE_TOKENS = 10**12
# Server-side tool uses (web searches, fetches) in one request: an agent issues a handful.
MAX_TOOL_USES = 10_000
# Counts stored in INTEGER columns (lines, sessions, commits, byte sizes).
MAX_INT32 = 2**31 - 1
# Money reported for one request or one person-day, in USD.
MAX_COST_USD = 10**6
# No coding agent wrote logs before 2023; anything earlier is a corrupt or forged line.
EARLIEST = datetime(2023, 1, 1)


def count(value: int | None, what: str, limit: int = MAX_TOKENS) -> int | None:
    """`value` unchanged when it is absent or within 0..limit, else the line is quarantined."""
    if value is None or 0 <= value <= limit:
        return value
    if value < 0:
        raise LineError(f"negative {what}")
    raise LineError(f"implausible {what}: {value} (more than {limit:,})")


def tokens(*values: int | None) -> None:
    """Token counts of one request: none negative, none above MAX_TOKENS."""
    for value in values:
        if value is not None and not 0 <= value <= MAX_TOKENS:
            count(value, "token count")


def money(value: float | None, what: str = "cost") -> float | None:
    """A cost: finite, not negative, below MAX_COST_USD."""
    if value is None:
        return None
    if not 0 <= value <= MAX_COST_USD:  # NaN fails both comparisons
        raise LineError(f"implausible {what}: {value}")
    return value


def timestamp(value: datetime | None, latest: datetime, what: str) -> datetime:
    """A record's time: present, not before EARLIEST, not after `latest` (now plus the allowed clock skew)."""
    if value is None:
        raise LineError(f"{what} without a valid timestamp")
    if value < EARLIEST:
        raise LineError(f"{what} dated {value.isoformat()}, before {EARLIEST.date()} (before any coding agent)")
    if value > latest:
        raise LineError(f"{what} dated {value.isoformat()}, after {latest.isoformat(timespec='minutes')} (in the future)")
    return value
