"""Coverage: the spend a reference reports per user and day vs the spend transcripts explain."""

from __future__ import annotations

import pytest

from analytics.coverage import coverage, coverage_gaps
from analytics.filters import Filters
from tests.claude_lines import assistant, text, usage, write_jsonl
from tests.helpers import ingest
from tests.test_source_admin_api import page, record, write
from tests.test_source_otel import api_request, logs, write_otel


def _setup(ledger, tmp_path):
    ledger.execute("INSERT INTO org_users VALUES ('ana', 'ana@corp.example', 'Ana', 'payments', NULL)").fetchall()
    # Admin API: ana 2026-01-05 -> 3730 tokens, 12.40 USD; bo 2026-01-05 -> 3730 tokens and no detail at all.
    write(tmp_path / "admin/day.json", page([record("ana@corp.example"), record("bo@corp.example")]))
    # ana's transcript explains one request of 1262 tokens (12 + 200 + 50 + 1000), priced exactly by OTel.
    line = assistant("2026-01-05T10:00:00.000Z", "msg_1", "req_1", usage(12, 3, 50, 1000), [text()], stop_reason=None)
    write_jsonl(tmp_path / "claude/p/s1.jsonl", [line])
    record_ = api_request("req_1", output=200, cost="2.0")
    record_["timeUnixNano"] = "1767607200000000000"   # 2026-01-05T10:00:00Z
    write_otel(tmp_path / "otel/l.json", [logs([record_])])
    ingest(ledger, tmp_path / "claude", user="ana")
    ingest(ledger, tmp_path / "otel")
    ingest(ledger, tmp_path / "admin")


def test_coverage_per_user_and_day(ledger, tmp_path):
    _setup(ledger, tmp_path)
    rows = {r["user"]: r for r in coverage(ledger).to_dicts()}
    assert set(rows) == {"ana", "bo@corp.example"}
    ana, bo = rows["ana"], rows["bo@corp.example"]
    assert ana["team"] == "payments"
    assert (ana["reported_tokens"], ana["explained_tokens"]) == (3730, 1262)
    assert ana["admin_cost_usd"] == pytest.approx(12.40) and ana["otel_cost_usd"] == pytest.approx(2.0)
    assert ana["explained_cost_usd"] == pytest.approx(2.0)
    assert ana["missing_cost_usd"] == pytest.approx(10.40)
    assert ana["status"] == "partial"
    assert (bo["explained_tokens"], bo["status"], bo["team"]) == (0, "no detail", "(unassigned)")


def test_coverage_filters_by_user(ledger, tmp_path):
    _setup(ledger, tmp_path)
    frame = coverage(ledger, Filters(user="ana"))
    assert frame["user"].to_list() == ["ana"]


def test_otel_reference_of_someone_outside_the_directory_counts_for_their_transcripts(ledger, tmp_path):
    # A contractor missing from org.csv: OTel knows only their email, transcripts only their folder
    # name. The session both share makes them one person, so the day is covered, not split in two.
    line = assistant("2026-01-05T10:00:00.000Z", "msg_1", "req_1", usage(12, 200, 50, 1000), [text()])
    write_jsonl(tmp_path / "claude/p/s1.jsonl", [line])
    event = api_request("req_1", output=200, cost="2.0", **{"user.email": "cy@contractor.example"})
    event["timeUnixNano"] = "1767607200000000000"   # 2026-01-05T10:00:00Z
    write_otel(tmp_path / "otel/l.json", [logs([event])])
    ingest(ledger, tmp_path / "claude", user="cy")
    ingest(ledger, tmp_path / "otel")
    rows = coverage(ledger).to_dicts()
    assert [(r["user"], r["team"], r["status"]) for r in rows] == [("cy", "(unassigned)", "covered")]
    assert rows[0]["reported_tokens"] == rows[0]["explained_tokens"] == 1262


def test_coverage_figures_are_rounded_like_every_report(ledger, tmp_path):
    # Ratios to 4 places (2.0 / 12.40 is 0.16129032258064516 unrounded), money to 6 (the usd macro).
    _setup(ledger, tmp_path)
    ana = next(r for r in coverage(ledger).to_dicts() if r["user"] == "ana")
    assert ana["cost_coverage"] == 0.1613 and ana["token_coverage"] == 0.3383
    assert repr(ana["missing_cost_usd"]) == "10.4"


def test_coverage_gaps_add_up_the_person_days_the_transcripts_do_not_explain(ledger, tmp_path):
    # ana is partial ($12.40 reported, $2.00 explained: $10.40 missing), bo has no detail ($12.40):
    # two person-days, $22.80 unexplained (Data health's warning).
    _setup(ledger, tmp_path)
    assert coverage_gaps(ledger).row(0, named=True) == {"gap_days": 2, "missing_cost_usd": 22.8}
    assert coverage_gaps(ledger, Filters(user="ana")).row(0, named=True) == {"gap_days": 1, "missing_cost_usd": 10.4}
