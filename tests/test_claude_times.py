"""A line's time: the shortcut for plain UTC times (FileContext.timestamp) gives what the general rule gives."""

from __future__ import annotations

from datetime import datetime

import pytest

from ingest import plausible
from ingest.context import FileContext
from ingest.lines import LineError
from ingest.timestamps import parse_utc

LATEST = datetime(2026, 12, 1, 12, 0)

# Each kind of value a transcript has been seen to hold, and the forged or broken ones.
VALUES = [
    "2026-03-01T10:00:00.000Z",          # the common case
    "2026-03-01T10:00:00Z",
    "2026-03-01T10:00:00.123456Z",
    "2026-03-01T10:00:00+01:00",         # an offset: converted to UTC
    "2026-03-01T10:00:00",               # naive: taken as UTC
    "2026-03-01T10:00:00+01:00Z",        # an offset and a Z: aware, cannot be compared with the bounds
    "2026-12-01T12:00:00.000Z",          # the latest time allowed
    "2026-12-01T12:00:00.001Z",          # just after it
    "2023-01-01T00:00:00Z",              # the earliest time allowed
    "2022-12-31T23:59:59.999Z",          # just before it
    "2101-01-01T00:00:00.000Z",
    "yesterday Z",
    "Z",
    "",
    None,
]


def _outcome(time, value):
    try:
        return time(value, "assistant line")
    except (LineError, TypeError) as error:
        return type(error), str(error)


@pytest.mark.parametrize("value", VALUES)
def test_a_line_time_is_what_the_general_rule_makes_of_it(value):
    ctx = FileContext(path="s.jsonl", user_name="alice", latest_ts=LATEST)

    def general(value, what):
        return plausible.timestamp(parse_utc(value), LATEST, what)

    assert _outcome(ctx.timestamp, value) == _outcome(general, value)


def test_a_plain_utc_time_is_read_as_naive_utc_and_a_bad_one_says_why():
    ctx = FileContext(path="s.jsonl", user_name="alice", latest_ts=LATEST)
    assert ctx.timestamp("2026-03-01T10:00:00.250Z", "user line") == datetime(2026, 3, 1, 10, 0, 0, 250000)
    assert ctx.timestamp("2026-03-01T10:00:00+01:00", "user line") == datetime(2026, 3, 1, 9, 0)
    with pytest.raises(LineError, match="^user line without a valid timestamp$"):
        ctx.timestamp("yesterday Z", "user line")
    with pytest.raises(LineError, match=r"^user line dated 2026-12-01T12:00:00\.001000, after 2026-12-01T12:00 \(in the future\)$"):
        ctx.timestamp("2026-12-01T12:00:00.001Z", "user line")
