"""Sample Claude Code OpenTelemetry exports (Collector file exporter, OTLP JSON lines).

Events mirror some of a user's transcript requests (same request ids, exact output tokens) and
add requests transcripts never show (auxiliary calls), so the reconciliation and the coverage
report have something to find. Numbers are sent as strings, as Claude Code does.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable


def _attr(key: str, value) -> dict:
    return {"key": key, "value": {"stringValue": str(value)}}


def _nanos(moment: datetime) -> str:
    return str(int(moment.replace(tzinfo=timezone.utc).timestamp() * 1_000_000_000))


def api_request_record(moment: datetime, session_id: str, email: str, request_id: str, model: str,
                       tokens: tuple[int, int, int, int], cost_usd: float, query_source: str = "main") -> dict:
    """One `claude_code.api_request` log record; tokens = (input, output, cache_read, cache_creation)."""
    inp, out, read, create = tokens
    attrs = {"event.name": "api_request", "session.id": session_id, "user.email": email, "model": model,
             "input_tokens": inp, "output_tokens": out, "cache_read_tokens": read, "cache_creation_tokens": create,
             "cost_usd": f"{cost_usd:.6f}", "request_id": request_id, "query_source": query_source,
             "event.timestamp": moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")}
    return {"timeUnixNano": _nanos(moment), "body": {"stringValue": "claude_code.api_request"},
            "attributes": [_attr(k, v) for k, v in attrs.items()]}


def logs_line(records: list[dict], team: str | None, version: str = "2.1.114") -> str:
    """One LogsData line; the team goes in the resource, as OTEL_RESOURCE_ATTRIBUTES puts it."""
    resource = [_attr("service.name", "claude-code"), _attr("service.version", version)]
    if team:
        resource.append(_attr("team", team))
    return json.dumps({"resourceLogs": [{"resource": {"attributes": resource}, "scopeLogs": [
        {"scope": {"name": "com.anthropic.claude_code.events"}, "logRecords": records}]}]})


def lines_metric_line(moment: datetime, email: str, added: int, removed: int) -> str:
    """One MetricsData line: lines of code, delta temporality (Claude Code's default)."""
    points = [{"startTimeUnixNano": _nanos(moment), "timeUnixNano": _nanos(moment), "asInt": str(n),
               "attributes": [_attr("user.email", email), _attr("type", kind)]}
              for kind, n in (("added", added), ("removed", removed))]
    return json.dumps({"resourceMetrics": [{"resource": {"attributes": [_attr("service.name", "claude-code")]},
                                            "scopeMetrics": [{"scope": {"name": "com.anthropic.claude_code"}, "metrics": [
                                                {"name": "claude_code.lines_of_code.count",
                                                 "sum": {"aggregationTemporality": 1, "isMonotonic": True, "dataPoints": points}}]}]}]})


def write_otel_day(out_file: Path, email: str, team: str | None, requests: Iterable[dict], rng: random.Random) -> Path:
    """Append one user-day of events to a collector file.

    `requests`: dicts with ts (datetime), session_id, request_id, model, input, output, cache_read,
    cache_creation, cost_usd, e.g. taken from the transcripts the generator wrote. About one in ten
    extra auxiliary requests (absent from transcripts) is added."""
    requests = list(requests)
    records = []
    for r in requests:
        records.append(api_request_record(r["ts"], r["session_id"], email, r["request_id"], r["model"],
                                          (r["input"], r["output"], r["cache_read"], r["cache_creation"]), r["cost_usd"]))
        if rng.random() < 0.1:
            records.append(api_request_record(r["ts"], r["session_id"], email, f"req_aux{rng.getrandbits(64):016x}",
                                              "claude-haiku-4-5", (400, 30, 0, 0), 0.0006, "auxiliary"))
    out_file.parent.mkdir(parents=True, exist_ok=True)
    with out_file.open("a") as handle:
        for i in range(0, len(records), 50):
            handle.write(logs_line(records[i:i + 50], team) + "\n")
        if requests:
            handle.write(lines_metric_line(requests[0]["ts"], email, rng.randrange(5, 200), rng.randrange(0, 60)) + "\n")
    return out_file
