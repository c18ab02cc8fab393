"""Every field of the request record the OTel parser builds, from an event whose every value is distinct.

The parser builds it by position, not by keyword (msgspec does not check types when a record is
built): each field is compared with a record written by keyword and worked out by hand, so any two
fields swapped fail the test.
"""

from __future__ import annotations

import datetime as dt
import json

from ingest.batch import RecordBatch
from ingest.context import FileContext
from ingest.otel.parser import parse_lines
from ingest.records import OtelRequest
from tests.test_source_otel import api_request, logs

ATTRS = {
    "user.email": "ana@corp.example", "user.account_uuid": "acct_U", "organization.id": "org_O",
    "session.id": "sess_S", "prompt.id": "prompt_P", "model": "model_M", "input_tokens": "11",
    "output_tokens": "12", "cache_read_tokens": "13", "cache_creation_tokens": "14", "cost_usd": "0.25",
    "duration_ms": "1500", "query_source": "source_Q", "speed": "speed_F", "effort": "effort_E",
    "agent.name": "agent_A", "skill.name": "skill_K", "plugin.name": "plugin_L", "mcp_server.name": "mcp_N",
    "app.version": "2.1.99", "terminal.type": "term_T",
}


def _requests(*records: dict, resource: dict | None = None) -> list[OtelRequest]:
    ctx = FileContext(path="otel_file", user_name=None, latest_ts=dt.datetime(2030, 1, 1))
    batch = RecordBatch()
    data = b"\n".join([b"{}", json.dumps(logs(list(records), resource)).encode()])  # the event on line 2
    parse_lines(data, 0, 0, ctx, batch)
    assert [reject.line_no for reject in batch.records["rejects"]] == [1]
    return batch.records["otel_requests"]


def test_an_api_request_holds_each_value_in_its_own_field():
    event = api_request("req_R", **{k.replace(".", "__"): v for k, v in ATTRS.items()})
    assert _requests(event, resource={"team": "team_X", "cost_center": "cc_Y"}) == [OtelRequest(
        event_key="req_R", ts=dt.datetime(2026, 1, 16, 9, 56, 57), request_id="req_R", user_name="ana@corp.example",
        email="ana@corp.example", account_uuid="acct_U", organization_id="org_O", session_id="sess_S",
        prompt_id="prompt_P", model="model_M", input_tokens=11, output_tokens=12, cache_read_tokens=13,
        cache_creation_tokens=14, cost_usd=0.25, duration_ms=1500, query_source="source_Q", speed="speed_F",
        effort="effort_E", agent_name="agent_A", skill_name="skill_K", plugin_name="plugin_L",
        mcp_server_name="mcp_N", agent_version="2.1.99", terminal_type="term_T", team="team_X",
        cost_center="cc_Y", file_path="otel_file", line_no=2,
    )]


def test_an_api_request_without_optional_attributes_leaves_their_fields_empty():
    event = api_request("req_R")
    (request,) = _requests(event)
    assert request == OtelRequest(
        event_key="req_R", ts=dt.datetime(2026, 1, 16, 9, 56, 57), request_id="req_R", user_name="ana@corp.example",
        email="ana@corp.example", session_id="s1", prompt_id="p1", model="claude-sonnet-4-5", input_tokens=12,
        output_tokens=200, cache_read_tokens=1000, cache_creation_tokens=50, cost_usd=0.0123,
        agent_version="2.1.7", file_path="otel_file", line_no=2,
    )


def test_numbers_arrive_in_any_shape_and_only_finite_ones_count():
    # Claude Code sends many numbers as strings; a value that is no finite number is no count.
    from ingest.otel.parser import to_int

    assert [to_int(v) for v in ("12", " 12.0 ", 3, 2.9, "inf", "-inf", "nan", float("-inf"), True, None, "x")] == \
        [12, 12, 3, 2, None, None, None, None, None, None, None]
