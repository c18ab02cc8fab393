"""Claude Code OpenTelemetry (Collector file exporter): events, metrics, identity, reconciliation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.settings import IngestSettings
from tests.claude_lines import assistant, text, tool_result, tool_use, usage, write_jsonl
from tests.helpers import ingest

NS = 1_768_557_417_000_000_000   # 2026-01-16T09:56:57Z


def attr(key: str, value) -> dict:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    return {"key": key, "value": {"stringValue": value}}


def logs(records: list[dict], resource: dict | None = None) -> dict:
    resource = {"service.name": "claude-code", "service.version": "2.1.7", **(resource or {})}
    return {"resourceLogs": [{"resource": {"attributes": [attr(k, v) for k, v in resource.items()]},
                              "scopeLogs": [{"scope": {"name": "com.anthropic.claude_code.events"},
                                             "logRecords": records}]}]}


def event(name: str, offset_s: int = 0, **attrs) -> dict:
    merged = {"event.name": name, "session.id": "s1", **attrs}
    return {"timeUnixNano": str(NS + offset_s * 1_000_000_000), "body": {"stringValue": f"claude_code.{name}"},
            "attributes": [attr(k.replace("__", "."), v) for k, v in merged.items()]}


def api_request(request_id: str, output: int = 200, cost: str = "0.0123", **attrs) -> dict:
    # Numbers as strings, the way Claude Code sends many of them (P11).
    base = {"user.email": "ana@corp.example", "model": "claude-sonnet-4-5", "input_tokens": "12",
            "output_tokens": str(output), "cache_read_tokens": "1000", "cache_creation_tokens": "50",
            "cost_usd": cost, "request_id": request_id, "prompt.id": "p1"}
    base.update(attrs)
    return event("api_request", **base)


def metric(name: str, temporality: int, points: list[tuple[int, int, float | str]], **attrs) -> dict:
    data_points = [{"startTimeUnixNano": str(NS + start * 10**9), "timeUnixNano": str(NS + t * 10**9),
                    ("asDouble" if isinstance(v, float) else "asInt"): v,
                    "attributes": [attr(k, val) for k, val in {"user.email": "ana@corp.example", **attrs}.items()]}
                   for start, t, v in points]
    return {"resourceMetrics": [{"resource": {"attributes": [attr("service.name", "claude-code")]},
                                 "scopeMetrics": [{"scope": {"name": "com.anthropic.claude_code"}, "metrics": [
                                     {"name": name, "sum": {"aggregationTemporality": temporality, "isMonotonic": True,
                                                            "dataPoints": data_points}}]}]}]}


def write_otel(path: Path, objects: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(o) + "\n" for o in objects))
    return path


def test_api_request_becomes_a_request_with_exact_tokens_cost_and_user(ledger, tmp_path):
    write_otel(tmp_path / "otel/logs.json", [logs([api_request("req_1"), api_request("req_2", output=7, cost="0.5")])])
    summary = ingest(ledger, tmp_path / "otel", user="the-cron-user")
    assert summary.requests_new == 2
    rows = ledger.execute("SELECT request_key, source, user_name, input_tokens, output_tokens, cache_read_tokens,"
                          " cache_creation_tokens, source_cost_usd, prompt_id, session_id FROM requests ORDER BY 1").fetchall()
    assert rows[0] == ("otel:req_1", "otel", "ana@corp.example", 12, 200, 1000, 50, 0.0123, "p1", "s1")
    assert rows[1][4] == 7 and rows[1][7] == 0.5


def test_user_falls_back_to_account_uuid_then_enduser_id(ledger, tmp_path):
    a = api_request("req_a"); b = api_request("req_b")
    for record, keep in ((a, "user.account_uuid"), (b, None)):
        record["attributes"] = [x for x in record["attributes"] if x["key"] != "user.email"]
        if keep:
            record["attributes"].append(attr(keep, "acct-1"))
    write_otel(tmp_path / "o.json", [logs([a]), logs([b], resource={"enduser.id": "bob"})])
    ingest(ledger, tmp_path)
    assert ledger.execute("SELECT user_name FROM requests ORDER BY request_key").fetchall() == [("acct-1",), ("bob",)]


def _transcript(tmp_path: Path, request_id: str, output: int) -> Path:
    # A split response whose only line is a mid-stream flush: output is a placeholder.
    line = assistant("2026-01-16T09:56:55.000Z", "msg_1", request_id, usage(12, output, 50, 1000), [text()],
                     stop_reason=None)
    return write_jsonl(tmp_path / "claude/p/s1.jsonl", [line])


def _one_request(con) -> tuple:
    rows = con.execute("SELECT source, output_tokens, output_estimated, source_cost_usd, count(*) OVER ()"
                       " FROM requests").fetchall()
    assert len(rows) == 1, rows
    return rows[0]


def test_transcript_then_otel_counts_once_with_exact_output(ledger, tmp_path):
    _transcript(tmp_path, "req_9", output=3)
    write_otel(tmp_path / "otel/l.json", [logs([api_request("req_9", output=321)])])
    ingest(ledger, tmp_path / "claude")
    ingest(ledger, tmp_path / "otel")
    assert _one_request(ledger) == ("claude", 321, False, 0.0123, 1)


def test_otel_then_transcript_gives_the_same_row(ledger, tmp_path):
    _transcript(tmp_path, "req_9", output=3)
    write_otel(tmp_path / "otel/l.json", [logs([api_request("req_9", output=321)])])
    ingest(ledger, tmp_path / "otel")
    ingest(ledger, tmp_path / "claude")
    assert _one_request(ledger) == ("claude", 321, False, 0.0123, 1)


def test_both_in_one_run_count_once(ledger, tmp_path):
    _transcript(tmp_path, "req_9", output=3)
    write_otel(tmp_path / "otel/l.json", [logs([api_request("req_9", output=321)])])
    ingest(ledger, tmp_path)
    assert _one_request(ledger) == ("claude", 321, False, 0.0123, 1)


def test_team_attribute_adds_unknown_users_to_the_directory_only(ledger, tmp_path):
    ledger.execute("INSERT INTO org_users VALUES ('bo', 'bo@corp.example', 'Bo', 'platform', NULL)").fetchall()
    bo = api_request("req_b", **{"user.email": "bo@corp.example"})
    write_otel(tmp_path / "o.json", [logs([api_request("req_a")], resource={"team": "payments", "cost_center": "CC-7"}),
                                     logs([bo], resource={"department": "growth"})])
    ingest(ledger, tmp_path)
    assert ledger.execute("SELECT user_name, team FROM org_users ORDER BY 1").fetchall() == [
        ("ana@corp.example", "payments"), ("bo", "platform")]
    # A directory email match names the user as transcripts do.
    assert ledger.execute("SELECT user_name FROM requests WHERE request_id = 'req_b'").fetchone() == ("bo",)
    assert ledger.execute("SELECT cost_center FROM otel_requests WHERE request_id = 'req_a'").fetchone() == ("CC-7",)


def test_tool_result_and_decision_events(ledger, tmp_path):
    write_otel(tmp_path / "o.json", [logs([
        event("tool_result", tool_name="Bash", tool_use_id="toolu_1", success="false", tool_result_size_bytes="512",
              **{"user.email": "ana@corp.example"}),
        event("tool_result", 1, tool_name="mcp_tool", tool_use_id="toolu_2", success="true",
              tool_parameters=json.dumps({"mcp_server_name": "github", "mcp_tool_name": "create_pr"})),
        event("tool_decision", 2, tool_name="Edit", tool_use_id="toolu_3", decision="reject", source="user_reject"),
    ])])
    ingest(ledger, tmp_path)
    assert ledger.execute("SELECT tool_use_id, is_error, result_bytes FROM tool_results ORDER BY 1").fetchall() == [
        ("otel:toolu_1", True, 512), ("otel:toolu_2", False, 0)]
    assert ledger.execute("SELECT component FROM tool_calls ORDER BY 1").fetchall() == [("builtin:Bash",), ("mcp:github",)]
    assert ledger.execute("SELECT tool_name, decision, decision_source FROM tool_decisions").fetchall() == [
        ("Edit", "reject", "user_reject")]


def test_metrics_delta_and_cumulative_sum_to_the_same_total(ledger, tmp_path):
    write_otel(tmp_path / "o.json", [
        # delta: 10 + 5 (one value as a string, as some exporters send it)
        metric("claude_code.lines_of_code.count", 1, [(0, 60, 10), (60, 120, "5")], type="added"),
        # cumulative: 4, 9, 12 -> 12; then a restart (new start time) 3 -> total 15
        metric("claude_code.lines_of_code.count", 2, [(0, 60, 4), (0, 120, 9), (0, 180, 12.0), (200, 260, 3)], type="removed"),
    ])
    ingest(ledger, tmp_path)
    totals = dict(ledger.execute("SELECT type, sum(delta) FROM otel_metric_deltas GROUP BY 1").fetchall())
    assert totals == {"added": 15.0, "removed": 15.0}


def test_bad_record_quarantines_its_line_but_keeps_the_others(ledger, tmp_path):
    bad = api_request("req_bad", input_tokens="-5")
    path = write_otel(tmp_path / "o.json", [logs([api_request("req_ok"), bad])])
    with path.open("a") as handle:
        handle.write('{"somethingElse": 1}\n')
    summary = ingest(ledger, tmp_path)
    assert summary.rejects == 2
    assert ledger.execute("SELECT request_id FROM requests").fetchall() == [("req_ok",)]
    reasons = [r[0] for r in ledger.execute("SELECT reason FROM rejects ORDER BY line_no").fetchall()]
    assert reasons == ["api_request with a negative token count (1 bad record(s) in this line)",
                       "neither resourceLogs nor resourceMetrics"]


def test_sample_generator_otel_ingests_and_reconciles(ledger, tmp_path):
    import random
    from datetime import datetime

    from sample_data.otel_gen import write_otel_day

    requests = [{"ts": datetime(2026, 1, 5, 9, i), "session_id": "s1", "request_id": f"req_{i}", "model": "claude-sonnet-4-5",
                 "input": 10, "output": 100, "cache_read": 1000, "cache_creation": 0, "cost_usd": 0.01} for i in range(20)]
    write_otel_day(tmp_path / "otel/logs.json", "ana@corp.example", "payments", requests, random.Random(3))
    summary = ingest(ledger, tmp_path / "otel")
    assert summary.rejects == 0
    main = ledger.execute("SELECT count(*), sum(output_tokens) FROM requests WHERE request_id LIKE 'req\\_%' ESCAPE '\\' "
                          "AND request_id NOT LIKE 'req_aux%'").fetchone()
    assert main == (20, 2000)
    assert ledger.execute("SELECT team FROM org_users").fetchall() == [("payments",)]


def _aux_beside_transcript(tmp_path: Path) -> None:
    # req_9 is the transcript's request; req_aux ran in the same session and only OTel saw it.
    _transcript(tmp_path, "req_9", output=3)
    write_otel(tmp_path / "otel/l.json", [logs([api_request("req_9", output=321), api_request("req_aux", output=30)],
                                               resource={"team": "payments"})])


@pytest.mark.parametrize("order", ["transcript_first", "otel_first", "one_run"])
def test_otel_only_request_counts_under_its_sessions_transcript_user(ledger, tmp_path, order):
    # OTel names the person by email, the transcript by --user: the session they share says it is one person.
    _aux_beside_transcript(tmp_path)
    paths = {"transcript_first": [tmp_path / "claude", tmp_path / "otel"],
             "otel_first": [tmp_path / "otel", tmp_path / "claude"], "one_run": [tmp_path]}[order]
    for path in paths:
        ingest(ledger, path, user="alice")
    rows = ledger.execute("SELECT source, request_id, user_name, output_tokens FROM requests ORDER BY 2").fetchall()
    assert rows == [("claude", "req_9", "alice", 321), ("otel", "req_aux", "alice", 30)]


def test_team_attribute_adopts_the_transcript_user_not_the_email(ledger, tmp_path):
    _aux_beside_transcript(tmp_path)
    ingest(ledger, tmp_path, user="alice")
    assert ledger.execute("SELECT user_name, email, team FROM org_users").fetchall() == [
        ("alice", "ana@corp.example", "payments")]


# Every file its own batch: a run's later batches meet what its earlier ones wrote.
ONE_FILE_A_BATCH = {"settings": IngestSettings(batch_bytes=1, chunk_bytes=1, parallel_min_bytes=1 << 40)}


@pytest.mark.parametrize("runs", ["one run, a batch each", "two runs"])
def test_an_event_reported_again_in_another_file_counts_once(ledger, tmp_path, runs):
    """The collector rotated its file and wrote the same events again: one 'otel:' row, counted once,
    whether the second file comes in a later batch of the same run (where the first file's rows
    were written without lookups) or in a later run."""
    records = [api_request("req_1", output=5),
               event("tool_result", 1, tool_name="Bash", tool_use_id="toolu_1", success="true")]
    write_otel(tmp_path / "otel/a/l.json", [logs(records)])
    write_otel(tmp_path / "otel/b/l.json", [logs(records)])
    if runs == "two runs":
        new = ingest(ledger, tmp_path / "otel/a").requests_new + ingest(ledger, tmp_path / "otel").requests_new
    else:
        new = ingest(ledger, tmp_path / "otel", **ONE_FILE_A_BATCH).requests_new
    assert new == 1
    assert ledger.execute("SELECT request_key, output_tokens FROM requests").fetchall() == [("otel:req_1", 5)]
    assert ledger.execute("SELECT tool_use_id FROM tool_results").fetchall() == [("otel:toolu_1",)]


def test_a_transcript_in_a_later_batch_replaces_the_otel_rows_of_its_tool_call(ledger, tmp_path):
    """OTel's tool_result (batch 1) and the transcript's call and result of the same tool use
    (batch 2, same run): the transcript's rows stay, the 'otel:' ones give way."""
    write_otel(tmp_path / "a-otel/l.json", [logs([
        event("tool_result", tool_name="Bash", tool_use_id="toolu_7", success="true",
              **{"user.email": "ana@corp.example"})])])
    write_jsonl(tmp_path / "b-claude/p/s1.jsonl", [
        assistant("2026-01-16T09:56:55.000Z", "msg_1", "req_9", usage(12, 30, 50, 1000),
                  [tool_use("toolu_7", "Bash", {"command": "ls"})]),
        tool_result("2026-01-16T09:56:56.000Z", "toolu_7", "a b c"),
    ])
    ingest(ledger, tmp_path, **ONE_FILE_A_BATCH)
    for table in ("tool_calls", "tool_results"):
        assert ledger.execute(f"SELECT tool_use_id, source FROM {table}").fetchall() == [("toolu_7", "claude")], table
