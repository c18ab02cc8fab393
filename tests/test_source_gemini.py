"""Gemini CLI chat sessions: tokens per message, tool calls, rewrites in place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import ingest, shared_dir

SAMPLES = shared_dir() / "corpus/lanegrid__agtrace/crates/agtrace-providers/tests/samples"


def session(messages: list[dict]) -> dict:
    return {"sessionId": "g-1", "projectHash": "abc", "startTime": "2025-12-09T19:51:29.418Z",
            "lastUpdated": "2025-12-09T19:54:21.715Z", "messages": messages}


def gemini(mid: str, ts: str, tokens: dict, calls: list[dict] | None = None) -> dict:
    message = {"id": mid, "timestamp": ts, "type": "gemini", "content": "ok", "model": "gemini-2.5-flash", "tokens": tokens}
    if calls:
        message["toolCalls"] = calls
    return message


def shell_call(cid: str, command: str, exit_code: int) -> dict:
    output = f"Command: {command}\nOutput: x\nError: (none)\nExit Code: {exit_code}\nSignal: 0"
    return {"id": cid, "name": "run_shell_command", "args": {"command": command}, "status": "success",
            "timestamp": "2025-12-09T19:52:00.000Z",
            "result": [{"functionResponse": {"id": cid, "name": "run_shell_command", "response": {"output": output}}}]}


def write(path: Path, body: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body, indent=2))
    return path


def test_tokens_map_cached_into_cache_read_and_thoughts_into_output(ledger, tmp_path):
    tokens = {"input": 1000, "output": 50, "cached": 600, "thoughts": 30, "tool": 5, "total": 1085}
    write(tmp_path / "chats/session-1.json", session([
        {"id": "u1", "timestamp": "2025-12-09T19:51:29.418Z", "type": "user", "content": "do it"},
        gemini("m1", "2025-12-09T19:51:50.000Z", tokens)]))
    ingest(ledger, tmp_path)
    row = ledger.execute("SELECT source, input_tokens, cache_read_tokens, output_tokens, reasoning_tokens, model"
                         " FROM requests").fetchone()
    assert row == ("gemini", 405, 600, 80, 30, "gemini-2.5-flash")
    assert sum(row[1:4]) == tokens["total"]
    assert ledger.execute("SELECT kind, prompt_length FROM session_events").fetchall() == [("prompt", 5)]


def test_rewritten_file_is_read_whole_without_double_counting(ledger, tmp_path):
    first = gemini("m1", "2025-12-09T19:51:50.000Z", {"input": 100, "output": 10, "cached": 0, "thoughts": 0, "total": 110},
                   [shell_call("t1", "pytest", 1)])
    path = write(tmp_path / "chats/session-1.json", session([first]))
    ingest(ledger, tmp_path)
    second = gemini("m2", "2025-12-09T19:53:00.000Z", {"input": 200, "output": 20, "cached": 0, "thoughts": 0, "total": 220},
                    [shell_call("t2", "pytest", 0)])
    write(path, session([first, second]))
    ingest(ledger, tmp_path)
    assert ledger.execute("SELECT count(*), sum(input_tokens + output_tokens) FROM requests").fetchone() == (2, 330)
    assert ledger.execute("SELECT tool_use_id, is_error FROM tool_results ORDER BY 1").fetchall() == [("t1", True), ("t2", False)]
    assert ledger.execute("SELECT DISTINCT component FROM tool_calls").fetchall() == [("builtin:shell",)]


def test_a_half_written_file_is_quarantined(ledger, tmp_path):
    (tmp_path / "chats").mkdir()
    (tmp_path / "chats/session-1.json").write_text('{"sessionId": "g-1", "projectHash": "abc", "messages": [{"id"')
    summary = ingest(ledger, tmp_path)
    assert summary.rejects == 1
    assert ledger.execute("SELECT reason LIKE 'malformed JSON%' FROM rejects").fetchone() == (True,)


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="real corpus not found")
def test_real_gemini_session(ledger):
    ingest(ledger, SAMPLES / "gemini_session.json")
    # Seven gemini messages whose `total`s add up to 67,950.
    assert ledger.execute("SELECT count(*), sum(input_tokens + cache_read_tokens + output_tokens) FROM requests").fetchone() == (7, 67_950)
    assert ledger.execute("SELECT count(*), count(*) FILTER (WHERE is_error) FROM tool_results").fetchone() == (5, 1)
    assert ledger.execute("SELECT lines_added FROM tool_calls WHERE tool_name = 'write_file'").fetchone() == (1,)
    assert ledger.execute("SELECT count(*) FROM session_events WHERE kind = 'prompt'").fetchone() == (2,)
