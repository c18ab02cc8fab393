"""Admin API Claude Code usage report: saved pages, cents to dollars, replacement, live fetch."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from ingest.admin_api.fetch import ENDPOINT, FetchError, fetch_day, main, save_day
from tests.helpers import ingest


def record(email: str = "ana@corp.example", day: str = "2026-01-05", *, remote: bool = False,
           cents: int = 1234, sessions: int = 3) -> dict:
    return {
        "date": f"{day}T00:00:00Z", "actor": {"type": "user_actor", "email_address": email},
        "organization_id": "org-1", "customer_type": "api", "subscription_type": None,
        "terminal_type": "vscode", "is_remote": remote,
        "core_metrics": {"num_sessions": sessions, "lines_of_code": {"added": 120, "removed": 30},
                         "commits_by_claude_code": 2, "pull_requests_by_claude_code": 1},
        "tool_actions": {"edit_tool": {"accepted": 10, "rejected": 2}, "write_tool": {"accepted": 3, "rejected": 1}},
        "model_breakdown": [
            {"model": "claude-sonnet-4-5", "tokens": {"input": 100, "output": 200, "cache_read": 3000, "cache_creation": 400},
             "estimated_cost": {"amount": cents, "currency": "USD"}},
            {"model": "claude-haiku-4-5", "tokens": {"input": 10, "output": 20, "cache_read": 0, "cache_creation": 0},
             "estimated_cost": {"amount": 6, "currency": "USD"}},
        ],
    }


def page(records: list[dict], **extra) -> dict:
    return {"data": records, "has_more": False, "next_page": None, **extra}


def write(path: Path, body: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body, indent=2))
    return path


def test_report_rows_cost_in_cents_become_dollars(ledger, tmp_path):
    write(tmp_path / "r/claude_code_usage-2026-01-05.json", page([record(), record(remote=True, cents=100)]))
    summary = ingest(ledger, tmp_path / "r", user="ignored")
    assert summary.rejects == 0
    local = ledger.execute(
        "SELECT user_name, num_sessions, lines_added, lines_removed, commits, pull_requests, tools_accepted,"
        " tools_rejected, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, cost_usd"
        " FROM admin_usage_daily WHERE NOT is_remote").fetchone()
    # 1234 + 6 cents = 12.40 USD; accept 10+3, reject 2+1
    assert local == ("ana@corp.example", 3, 120, 30, 2, 1, 13, 3, 110, 220, 3000, 400, pytest.approx(12.40))
    assert ledger.execute("SELECT count(*), sum(cost_usd) FROM admin_usage_models").fetchone() == (4, pytest.approx(12.40 + 1.06))
    assert ledger.execute("SELECT count(*) FROM requests").fetchone()[0] == 0   # no per-request detail


def test_a_refetched_day_replaces_the_earlier_figures(ledger, tmp_path):
    path = write(tmp_path / "r/day.json", page([record(sessions=1, cents=100)]))
    ingest(ledger, tmp_path / "r")
    write(path, page([record(sessions=4, cents=900)]))
    ingest(ledger, tmp_path / "r")
    assert ledger.execute("SELECT count(*), max(num_sessions), max(cost_usd) FROM admin_usage_daily").fetchone() == (
        1, 4, pytest.approx(9.06))


def test_bad_record_is_quarantined_and_the_rest_loads(ledger, tmp_path):
    bad = record("bo@corp.example")
    bad["actor"] = {"type": "user_actor"}
    write(tmp_path / "r/day.json", page([record(), bad]))
    summary = ingest(ledger, tmp_path / "r")
    assert summary.rejects == 1
    assert ledger.execute("SELECT reason FROM rejects").fetchone()[0] == "record without actor email_address or api_key_name"
    assert ledger.execute("SELECT count(*) FROM admin_usage_daily").fetchone()[0] == 1


class FakeHttp:
    """Two pages; records the URLs and headers it was asked for."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []

    def __call__(self, url: str, headers: dict) -> bytes:
        self.calls.append((url, headers))
        if "page=" not in url:
            return json.dumps(page([record()], has_more=True, next_page="cursor-2")).encode()
        return json.dumps(page([record("bo@corp.example")])).encode()


def test_fetch_follows_pages_with_admin_headers():
    http = FakeHttp()
    records = fetch_day("sk-ant-admin01-x", date(2026, 1, 5), get=http)
    assert [r["actor"]["email_address"] for r in records] == ["ana@corp.example", "bo@corp.example"]
    first, second = http.calls
    assert first[0].startswith(ENDPOINT + "?starting_at=2026-01-05&limit=1000")
    assert second[0].endswith("&page=cursor-2")
    assert first[1] == {"x-api-key": "sk-ant-admin01-x", "anthropic-version": "2023-06-01"}


def test_fetch_refuses_a_non_admin_key():
    with pytest.raises(FetchError):
        fetch_day("sk-ant-api03-x", date(2026, 1, 5), get=FakeHttp())


def test_fetched_file_ingests(ledger, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ANTHROPIC_ADMIN_KEY", "sk-ant-admin01-x")
    assert main(["--day", "2026-01-05", "--out", str(tmp_path / "reports")], get=FakeHttp()) == 0
    ingest(ledger, tmp_path / "reports")
    assert ledger.execute("SELECT count(*) FROM admin_usage_daily").fetchone()[0] == 2
    assert save_day([], tmp_path / "reports", date(2026, 1, 6)).name == "claude_code_usage-2026-01-06.json"
