"""Figures that must not depend on a library's arithmetic: evidence numbers come from exact decimals,
and token sums never overflow int64 (which would fail every later refresh, for every person)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import duckdb
import pytest

from analytics import queries
from analytics.refresh import refresh_derived
from store.migrations import apply_migrations
from tests.transcript_builder import Transcript, load, report


@pytest.mark.parametrize("value, places", [(0.00015, 4), (0.00145, 4), (0.00165, 4), (0.00465, 4), (1.005, 2),
                                           (2.675, 2), (0.15, 1), (10.0, 1), (0.1, 2), (2.5, 0), (1234.5, 0)])
def test_evidence_numbers_round_the_decimal_written_not_the_binary_double(value, places):
    con = duckdb.connect()
    apply_migrations(con)
    queries.prepare(con)
    text = con.execute(f"SELECT number_text(?::DOUBLE, {places})", [value]).fetchone()[0]
    exact = str(Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP))
    if "." in exact:  # trailing zeros dropped, one digit kept after the point: 10.0, 0.1, 0.0017
        exact = exact.rstrip("0") + ("0" if exact.rstrip("0").endswith(".") else "")
    assert text == exact


def test_usage_spike_evidence_is_exact_where_a_double_rounds_down(ledger, tmp_path):
    # claude-sonnet-4 output costs $15 per million tokens. Baseline: three days of one 10-output-token
    # request, $0.00015 each (a double holds 0.000149999...: rounding the double gives 0.0001).
    # The spike day: three identical failing calls of 100 output tokens ($0.0015 each) and a
    # 10-token answer: $0.00465, 31x the median, useful ratio 10 / 310 = 0.03.
    days = [Transcript(f"d{d}", start=f"2026-03-0{d}T09:00:00").prompt() for d in (2, 3, 4)]
    for t in days:
        t.reply((0, 10, 0, 0))
    spike = Transcript("d5", start="2026-03-05T09:00:00").prompt()
    for _ in range(3):
        spike.reply((0, 100, 0, 0), [("Bash", {"command": "make"}, "E1", True)])
    spike.reply((0, 10, 0, 0))
    load(ledger, tmp_path, *days, spike)
    (flag,) = [f for f in report(ledger, "flags") if f["flag"] == "usage_spike"]
    assert flag["evidence"].startswith(
        "day spend 0.0047 USD = 31.0x this person's median of 0.0002 USD over 3 active day(s); "
        "useful ratio that day 0.03; this session 0.0 M tokens, useful ratio 0.03"
    ), flag["evidence"]


def _forge(con, user: str, tokens: int, copies: int) -> None:
    """Copies of one of `user`'s requests with every token count set to `tokens`, as if a forged line got in."""
    for i in range(copies):
        con.execute(
            "INSERT INTO requests SELECT * REPLACE (request_key || ? AS request_key, ? AS input_tokens,"
            " ? AS output_tokens, ? AS cache_creation_tokens, ? AS cache_read_tokens) FROM requests"
            " WHERE request_key = (SELECT min(request_key) FROM requests WHERE user_name = ?)",
            [f"#forged{i}", tokens, tokens, tokens, tokens, user])


@pytest.mark.parametrize("tokens, copies", [(2**62, 1), (2**60, 4)],
                         ids=["one request's four counts overflow", "a person's sum overflows"])
def test_token_sums_beyond_int64_never_fail_a_refresh_or_another_persons_figures(tokens, copies, ledger, tmp_path):
    for user in ("alice", "bob"):
        t = Transcript(f"s-{user}").prompt()
        t.reply((10, 90, 0, 900))
        load(ledger, tmp_path, t, user=user)
    _forge(ledger, "bob", tokens, copies)
    refresh_derived(ledger, full=True)   # overflowed int64 before: every later refresh failed
    users = {row["user"]: row for row in report(ledger, "users")}
    assert users["alice"]["total_tokens"] == 1000 and users["alice"]["input_tokens"] == 10
    assert users["alice"]["cost_usd"] == 0.00165
    # Bob's true total does not fit the int64 every export shows: empty, or int64's maximum where a
    # stored figure was capped; never a wrapped-around or small number.
    assert users["bob"]["total_tokens"] in (None, 2**63 - 1)
    assert report(ledger, "teams")[0]["total_tokens"] in (None, 2**63 - 1)
