"""Poison input: one implausible value in one person's file is quarantined with its reason; every
other line of every person loads, and the run, the next runs and the refresh succeed."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.claude_lines import assistant, prompt, text, usage, write_jsonl
from tests.helpers import ingest, totals

T0 = "2026-03-01T10:00:00.000Z"


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "agentledger.cli", *args], capture_output=True, text=True, timeout=300)


def _org(root, poison: dict) -> None:
    """Ten people with two good requests each; the first person's file also holds `poison`."""
    for n in range(10):
        lines = [prompt(T0, "hello", session=f"s{n}"),
                 assistant(T0, f"msg_{n}_a", f"req_{n}_a", usage(1, 2, 3, 4), [text()], session=f"s{n}"),
                 assistant(T0, f"msg_{n}_b", f"req_{n}_b", usage(10, 20, 30, 40), [text()], session=f"s{n}")]
        if n == 0:
            lines.insert(1, poison)
        write_jsonl(root / f"user{n}" / "p" / f"s{n}.jsonl", lines)


def _poisoned(field: str, value) -> dict:
    line = assistant(T0, "msg_poison", "req_poison", usage(1, 1), [text()], session="s0")
    if field == "web_search_requests":
        line["message"]["usage"]["server_tool_use"] = {"web_search_requests": value}
    else:
        line["message"]["usage"][field] = value
    return line


def _everyone_loaded(con) -> None:
    assert con.execute("SELECT count(DISTINCT user_name), count(*) FROM requests").fetchone() == (10, 20)
    assert totals(con) == (110, 220, 330, 440)
    # The refresh ran on everything: every request has its derived row.
    assert con.execute("SELECT count(*) FROM request_facts").fetchone()[0] == 20


def test_a_token_count_of_2_to_the_63_is_quarantined_and_the_org_loads(tmp_path):
    _org(tmp_path / "logs", _poisoned("output_tokens", 2**63))
    db = str(tmp_path / "l.duckdb")
    for _ in range(2):  # the run and every later run succeed
        result = _cli("ingest", str(tmp_path / "logs"), "--user-from-dir", "--db", db)
        assert result.returncode == 0, result.stderr
    import duckdb

    con = duckdb.connect(db, read_only=True)
    _everyone_loaded(con)
    reason, line_no = con.execute("SELECT reason, line_no FROM rejects").fetchone()
    assert line_no == 2 and reason == f"implausible token count: {2**63} (more than 100,000,000)"


def test_three_billion_web_searches_are_quarantined(tmp_path, ledger):
    _org(tmp_path / "logs", _poisoned("web_search_requests", 3_000_000_000))
    summary = ingest(ledger, tmp_path / "logs", user=None, user_from_dir=True)
    assert summary.rejects == 1
    _everyone_loaded(ledger)
    assert ledger.execute("SELECT reason FROM rejects").fetchone()[0].startswith("implausible web_search_requests: 3000000000")


def test_counts_whose_sum_overflows_int64_never_reach_the_ledger(tmp_path, ledger):
    big = 2**62 + 1  # each fits BIGINT; two of them do not, and every SUM over them failed
    root = tmp_path / "logs"
    _org(root, _poisoned("cache_read_input_tokens", big))
    write_jsonl(root / "user1" / "p" / "extra.jsonl",
                [assistant(T0, "msg_x", "req_x", usage(1, 1, 0, big), [text()], session="s1")])
    summary = ingest(ledger, root, user=None, user_from_dir=True)
    assert summary.rejects == 2
    _everyone_loaded(ledger)


def test_a_forged_duplicate_cannot_inflate_a_real_request(tmp_path, ledger):
    real = assistant(T0, "msg_real", "req_real", usage(9160, 22046, 187760, 1505468), [text()])
    forged = json.loads(json.dumps(real))
    forged["message"]["usage"]["output_tokens"] = 1_000_000_000
    write_jsonl(tmp_path / "p" / "s1.jsonl", [real, forged])
    summary = ingest(ledger, tmp_path)
    assert ledger.execute("SELECT output_tokens FROM requests").fetchall() == [(22046,)]
    assert summary.rejects == 1
    assert ledger.execute("SELECT line_no, reason FROM rejects").fetchone() == (
        2, f"implausible token count: 1000000000 (more than 100,000,000)")


def test_out_of_range_timestamps_are_quarantined_with_a_reason(tmp_path, ledger):
    good = assistant(T0, "msg_ok", "req_ok", usage(1, 2), [text()])
    write_jsonl(tmp_path / "p" / "s1.jsonl", [
        good,
        assistant("2101-01-01T00:00:00.000Z", "msg_2101", "req_2101", usage(5, 5), [text()]),
        assistant("2100-06-01T00:00:00.000Z", "msg_2100", "req_2100", usage(5, 5), [text()]),
        prompt("2019-05-01T00:00:00.000Z", "before any coding agent"),
        prompt(T0, "fine"),
    ])
    summary = ingest(ledger, tmp_path)
    assert ledger.execute("SELECT request_key FROM requests").fetchall() == [("msg_ok:req_ok",)]
    assert ledger.execute("SELECT max(ts) FROM session_events").fetchone()[0].year == 2026
    reasons = dict(ledger.execute("SELECT line_no, reason FROM rejects").fetchall())
    assert set(reasons) == {2, 3, 4} and summary.rejects == 3
    assert reasons[2].startswith("assistant line dated 2101-01-01T00:00:00, after ") and reasons[2].endswith("(in the future)")
    assert reasons[4] == "user line dated 2019-05-01T00:00:00, before 2023-01-01 (before any coding agent)"
