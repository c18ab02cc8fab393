"""Every field of the records the Claude parser builds, from lines whose every value is distinct.

The parser builds its hot records (requests, tool calls, tool results) by position, not by keyword:
a value put in the wrong position would go unnoticed by msgspec (it does not check types when a
record is built). Here each record is compared, field by field, with one written by keyword and
worked out by hand, so any two fields swapped fail the test.
"""

from __future__ import annotations

import datetime as dt
import json

from ingest.batch import RecordBatch
from ingest.claude.parser import parse_lines
from ingest.context import FileContext
from ingest.hashing import normalized_input_hash, output_fingerprint, short_hash
from ingest.records import Request, ToolCall, ToolResult
from tests.claude_lines import assistant, envelope, tool_result, tool_use

T0, T1, T2 = "2026-03-01T10:00:00.000Z", "2026-03-01T10:00:05.250Z", "2026-03-01T10:00:07.000Z"
ENV = dict(session="sess_C", sidechain=True, parent="parent_N", cwd="/proj/D", version="2.1.114",
           gitBranch="branch_E", agentId="agent_P")
EDIT_INPUT = {"file_path": "/proj/D/x.py", "old_string": "a\nb", "new_string": "a\nc\nd"}
BASH_INPUT = {"command": "make test"}
TASK_INPUT = {"subagent_type": "reviewer", "prompt": "look"}
SKILL_INPUT = {"skill": "pdf"}


def _usage() -> dict:
    return {
        "input_tokens": 11, "output_tokens": 12, "cache_creation_input_tokens": 13, "cache_read_input_tokens": 16,
        "cache_creation": {"ephemeral_5m_input_tokens": 14, "ephemeral_1h_input_tokens": 15},
        "output_tokens_details": {"thinking_tokens": 17},
        "server_tool_use": {"web_search_requests": 18, "web_fetch_requests": 19},
        "service_tier": "tier_G", "speed": "speed_H",
    }


def _parse(lines: list[dict]) -> RecordBatch:
    ctx = FileContext(path="file_S", user_name="user_R", latest_ts=dt.datetime(2030, 1, 1), agent_type="type_Q")
    batch = RecordBatch()
    # Compact, as Claude Code writes its lines.
    parse_lines(b"\n".join(json.dumps(line, separators=(",", ":")).encode() for line in lines), 0, 0, ctx, batch)
    assert not batch.records["rejects"]
    return batch


def _call_line() -> dict:
    line = assistant(T0, "msg_A", "req_B", _usage(), [
        tool_use("toolu_edit", "Edit", EDIT_INPUT), tool_use("toolu_bash", "Bash", BASH_INPUT),
        tool_use("toolu_task", "Task", TASK_INPUT), tool_use("toolu_skill", "Skill", SKILL_INPUT),
    ], stop_reason="stop_I", model="model_F", **ENV)
    line.update(uuid="uuid_M", promptId="prompt_O", attributionPlugin="plug_J", attributionSkill="skill_K",
                attributionAgent="agent_L")
    return line


def test_a_request_holds_each_value_in_its_own_field():
    (request,) = _parse([_call_line()]).requests.rows()
    assert request == Request(
        request_key="msg_A:req_B", source="claude", ts=dt.datetime(2026, 3, 1, 10), message_id="msg_A",
        request_id="req_B", user_name="user_R", session_id="sess_C", agent_id="agent_P", is_sidechain=True,
        subagent_type="type_Q", project="/proj/D", git_branch="branch_E", agent_version="2.1.114", model="model_F",
        input_tokens=11, output_tokens=12, cache_creation_tokens=13, cache_creation_5m_tokens=14,
        cache_creation_1h_tokens=15, cache_read_tokens=16, reasoning_tokens=17, output_estimated=False,
        stop_reason="stop_I", speed="speed_H", service_tier="tier_G", web_search_requests=18, web_fetch_requests=19,
        attribution_plugin="plug_J", attribution_skill="skill_K", attribution_agent="agent_L", uuid="uuid_M",
        parent_uuid="parent_N", prompt_id="prompt_O", source_cost_usd=None, model_is_fallback=False,
        file_path="file_S", line_no=1,
    )


def test_a_streamed_request_is_an_estimate_without_a_stop_reason():
    line = assistant(T0, "msg_A", None, {"input_tokens": 3, "output_tokens": 1}, [], stop_reason=None)
    (request,) = _parse([line]).requests.rows()
    assert (request.request_key, request.output_estimated, request.stop_reason, request.cache_creation_5m_tokens,
            request.reasoning_tokens, request.web_search_requests) == ("msg_A", True, None, None, None, None)


def test_tool_calls_hold_each_value_in_their_own_fields():
    calls = {call.tool_use_id: call for call in _parse([_call_line()]).records["tool_calls"]}
    common = dict(source="claude", ts=dt.datetime(2026, 3, 1, 10), request_key="msg_A:req_B", message_id="msg_A",
                  user_name="user_R", session_id="sess_C", agent_id="agent_P", is_sidechain=True, input_bytes=None)
    assert calls == {
        # An edit of 2 lines into 3 (one kept): 2 added, 1 removed; a built-in tool takes the line's plugin.
        "toolu_edit": ToolCall(
            tool_use_id="toolu_edit", tool_name="Edit", component="builtin:Edit", component_kind="builtin",
            plugin="plug_J", input_hash=normalized_input_hash(EDIT_INPUT), file_path="/proj/D/x.py", command=None,
            lines_added=2, lines_removed=1, edit_before_hash=short_hash("a\nb"), edit_after_hash=short_hash("a\nc\nd"),
            subagent_type=None, skill_name=None, **common),
        "toolu_bash": ToolCall(
            tool_use_id="toolu_bash", tool_name="Bash", component="builtin:Bash", component_kind="builtin",
            plugin="plug_J", input_hash=normalized_input_hash(BASH_INPUT), file_path=None, command="make test",
            **common),
        "toolu_task": ToolCall(
            tool_use_id="toolu_task", tool_name="Task", component="subagent:reviewer", component_kind="subagent",
            input_hash=normalized_input_hash(TASK_INPUT), subagent_type="reviewer", **common),
        "toolu_skill": ToolCall(
            tool_use_id="toolu_skill", tool_name="Skill", component="skill:pdf", component_kind="skill",
            input_hash=normalized_input_hash(SKILL_INPUT), skill_name="pdf", **common),
    }


def test_tool_results_hold_each_value_in_their_own_fields():
    lines = [
        _call_line(),
        # A Bash call interrupted by the user (not an error), an edit refused with an error 5.25 s
        # later, a subagent that ran as agent_X.
        tool_result(T1, "toolu_bash", "partial output é", result={"interrupted": True}, **ENV),
        tool_result(T1, "toolu_edit", "Error: file changed", is_error=True, **ENV),
        tool_result(T2, "toolu_task", "done", result={"agentId": "agent_X", "agentType": "reviewer"}, **ENV),
    ]
    results = {result.tool_use_id: result for result in _parse(lines).records["tool_results"]}
    t1, t2 = dt.datetime(2026, 3, 1, 10, 0, 5, 250000), dt.datetime(2026, 3, 1, 10, 0, 7)
    assert results == {
        "toolu_bash": ToolResult(
            tool_use_id="toolu_bash", source="claude", ts=t1, session_id="sess_C", is_error=False, interrupted=True,
            result_bytes=len("partial output é".encode()), result_hash=output_fingerprint("partial output é"),
            spawned_agent_id=None, result_kind=None),
        "toolu_edit": ToolResult(
            tool_use_id="toolu_edit", source="claude", ts=t1, session_id="sess_C", is_error=True, interrupted=False,
            result_bytes=19, result_hash=output_fingerprint("Error: file changed"), result_kind="error"),
        "toolu_task": ToolResult(
            tool_use_id="toolu_task", source="claude", ts=t2, session_id="sess_C", result_bytes=4,
            result_hash=output_fingerprint("done"), spawned_agent_id="agent_X"),
    }


def test_a_line_without_optional_parts_leaves_their_fields_at_their_defaults():
    line = envelope("assistant", T0, message={"id": "msg_A", "model": "m", "content": [
        tool_use("toolu_read", "Read", {"file_path": "/proj/r.py"})], "usage": {"input_tokens": 1}})
    batch = _parse([line])
    (request,) = batch.requests.rows()
    assert request == Request(
        request_key="msg_A", source="claude", ts=dt.datetime(2026, 3, 1, 10), message_id="msg_A", user_name="user_R",
        session_id="s1", subagent_type="type_Q", project="/work/app", git_branch="main", agent_version="2.1.114",
        model="m", input_tokens=1, output_estimated=True, uuid=line["uuid"], file_path="file_S", line_no=1,
    )
    (call,) = batch.records["tool_calls"]
    assert (call.file_path, call.command, call.lines_added, call.edit_after_hash, call.plugin) == \
        ("/proj/r.py", None, None, None, None)
