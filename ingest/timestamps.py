"""Timestamps: everything is stored as naive UTC."""

from __future__ import annotations

from datetime import datetime, timezone


def parse_utc(value: str | None) -> datetime | None:
    """ISO-8601 (with Z or an offset) to naive UTC; None when absent or unparseable."""
    if not value:
        return None
    if value.endswith("Z"):
        # The common case in every log we read: already UTC, so skip the timezone arithmetic.
        try:
            return datetime.fromisoformat(value[:-1])
        except ValueError:
            return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return parsed


def utc_now() -> datetime:
    """Now, as naive UTC like every stored timestamp."""
    return datetime.now(timezone.utc).replace(tzinfo=None)
