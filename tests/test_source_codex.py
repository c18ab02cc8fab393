"""Codex CLI rollouts: every rule of formats.md §2 on hand-built rollouts, and the real corpus file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import ingest, shared_dir

SAMPLES = shared_dir() / "corpus/lanegrid__agtrace/crates/agtrace-providers/tests/samples"
SESSION = "019b0000-0000-7000-8000-000000000001"


def line(ts: str, kind: str, payload: dict) -> dict:
    return {"timestamp": ts, "type": kind, "payload": payload}


def meta(session: str = SESSION, source="cli", ts="2025-11-22T20:48:00.000Z") -> dict:
    return line(ts, "session_meta", {"id": session, "timestamp": ts, "cwd": "/w", "originator": "codex_cli_rs",
                                     "cli_version": "0.66.0", "source": source, "model_provider": "openai"})


def turn(model: str = "gpt-5.1-codex-max", ts="2025-11-22T20:48:01.000Z") -> dict:
    return line(ts, "turn_context", {"cwd": "/w", "approval_policy": "on-request", "model": model})


def usage(inp: int, cached: int, out: int, reasoning: int = 0) -> dict:
    return {"input_tokens": inp, "cached_input_tokens": cached, "output_tokens": out,
            "reasoning_output_tokens": reasoning, "total_tokens": inp + out}


def tokens(ts: str, total: dict | None, last: dict | None = None) -> dict:
    info = None if total is None else {"total_token_usage": total, "last_token_usage": last or total,
                                       "model_context_window": 258400}
    return line(ts, "event_msg", {"type": "token_count", "info": info, "rate_limits": None})


def write(path: Path, lines: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(item) + "\n" for item in lines))
    return path


def rollout(tmp_path: Path, name: str = "rollout-2025-11-22T20-48-00-a.jsonl", sub: str = "sessions/2025/11/22") -> Path:
    return tmp_path / sub / name


def sums(con) -> tuple:
    return con.execute(
        "SELECT count(*), sum(input_tokens), sum(cache_read_tokens), sum(output_tokens), sum(reasoning_tokens)"
        " FROM requests WHERE source = 'codex'").fetchone()


# -- tokens -------------------------------------------------------------------------------------
def test_only_advancing_totals_count_and_null_info_is_skipped(ledger, tmp_path):
    first, second = usage(1000, 600, 50, 20), usage(1500, 1200, 80, 30)
    both = usage(2500, 1800, 130, 50)
    write(rollout(tmp_path), [
        meta(), turn(),
        tokens("2025-11-22T20:48:02.000Z", None),
        tokens("2025-11-22T20:48:03.000Z", first),
        tokens("2025-11-22T20:48:04.000Z", first),            # re-emit: same total
        tokens("2025-11-22T20:48:05.000Z", both, second),
        tokens("2025-11-22T20:48:06.000Z", both, second),     # re-emit
    ])
    ingest(ledger, tmp_path)
    # input = input - cached (cached is part of input): (1000-600) + (1500-1200) = 700
    assert sums(ledger) == (2, 700, 1800, 130, 50)


def test_a_decreasing_total_is_a_reset_and_its_usage_counts(ledger, tmp_path):
    big, fresh = usage(5000, 0, 100), usage(800, 0, 40)
    write(rollout(tmp_path), [meta(), turn(), tokens("2025-11-22T20:48:03.000Z", big),
                              tokens("2025-11-22T20:49:00.000Z", fresh)])
    ingest(ledger, tmp_path)
    assert sums(ledger)[:2] == (2, 5800)


def test_model_comes_from_the_latest_turn_context_and_fallback_is_flagged(ledger, tmp_path):
    write(rollout(tmp_path, "rollout-a.jsonl"), [
        meta(), turn("gpt-5-codex"), tokens("2025-11-22T20:48:03.000Z", usage(10, 0, 1)),
        turn("gpt-5.1-codex-max", "2025-11-22T20:48:04.000Z"), tokens("2025-11-22T20:48:05.000Z", usage(30, 0, 3), usage(20, 0, 2)),
    ])
    write(rollout(tmp_path, "rollout-b.jsonl"), [meta("019b0000-0000-7000-8000-00000000000b"),
                                                  tokens("2025-11-22T20:48:03.000Z", usage(7, 0, 1))])
    ingest(ledger, tmp_path)
    rows = ledger.execute("SELECT model, model_is_fallback FROM requests ORDER BY ts, input_tokens").fetchall()
    assert sorted(rows) == [("gpt-5", True), ("gpt-5-codex", False), ("gpt-5.1-codex-max", False)]


def test_archived_copy_and_forked_replay_count_once(ledger, tmp_path):
    history = [meta(), turn(), tokens("2025-11-22T20:48:03.000Z", usage(1000, 0, 10)),
               tokens("2025-11-22T20:48:04.000Z", usage(3000, 0, 30), usage(2000, 0, 20))]
    write(rollout(tmp_path), history)
    write(rollout(tmp_path, sub="archived_sessions"), history)
    # A fork replays the parent's token_count history (new session id), then does its own work.
    fork = [meta("019b0000-0000-7000-8000-0000000000ff", ts="2025-11-23T09:00:00.000Z"), turn()] + history[2:] + [
        tokens("2025-11-23T09:00:05.000Z", usage(3500, 0, 35), usage(500, 0, 5))]
    write(rollout(tmp_path, "rollout-2025-11-23T09-00-00-fork.jsonl"), fork)
    ingest(ledger, tmp_path)
    assert sums(ledger)[:2] == (3, 3500)


def test_incremental_read_resumes_the_running_total(ledger, tmp_path):
    path = write(rollout(tmp_path), [meta(), turn(), tokens("2025-11-22T20:48:03.000Z", usage(1000, 0, 10))])
    ingest(ledger, tmp_path)
    with path.open("a") as handle:   # a re-emit, then one real advance
        handle.write(json.dumps(tokens("2025-11-22T20:48:04.000Z", usage(1000, 0, 10))) + "\n")
        handle.write(json.dumps(tokens("2025-11-22T20:48:05.000Z", usage(1600, 0, 16), usage(600, 0, 6))) + "\n")
    summary = ingest(ledger, tmp_path)
    assert summary.requests_new == 1
    assert sums(ledger)[:2] == (2, 1600)


# -- tools, prompts, interruptions ----------------------------------------------------------------
def test_tool_calls_components_patch_lines_and_errors(ledger, tmp_path):
    patch = "*** Begin Patch\n*** Update File: app.py\n@@\n-old = 1\n+new = 1\n+more = 2\n*** End Patch"
    ts = "2025-11-22T20:48:10.000Z"
    write(rollout(tmp_path), [
        meta(), turn(),
        line(ts, "response_item", {"type": "function_call", "name": "shell_command", "call_id": "c1",
                                   "arguments": json.dumps({"command": "pytest -q", "workdir": "/w"})}),
        line(ts, "response_item", {"type": "function_call_output", "call_id": "c1",
                                   "output": "Exit code: 1\nWall time: 0.4 seconds\nOutput:\nFAILED\n"}),
        line(ts, "response_item", {"type": "custom_tool_call", "status": "completed", "call_id": "c2",
                                   "name": "apply_patch", "input": patch}),
        line(ts, "response_item", {"type": "custom_tool_call_output", "call_id": "c2",
                                   "output": json.dumps({"output": "Success. Updated the following files:\nM app.py\n",
                                                         "metadata": {"exit_code": 0}})}),
        line(ts, "response_item", {"type": "function_call", "name": "github__create_issue", "call_id": "c3", "arguments": "{}"}),
        line(ts, "response_item", {"type": "function_call", "name": "mcp__linear__list_issues", "call_id": "c4", "arguments": "{}"}),
        line(ts, "response_item", {"type": "function_call_output", "call_id": "c4", "output": "failed to connect to server"}),
        line(ts, "response_item", {"type": "local_shell_call", "call_id": "c5", "status": "completed",
                                   "action": {"type": "exec", "command": ["ls", "-la"]}}),
        tokens("2025-11-22T20:48:11.000Z", usage(100, 0, 10)),
    ])
    ingest(ledger, tmp_path)
    calls = dict((r[0], r[1:]) for r in ledger.execute(
        "SELECT tool_use_id, component, command, lines_added, lines_removed, file_path, request_key IS NOT NULL"
        " FROM tool_calls").fetchall())
    assert calls["c1"] == ("builtin:shell", "pytest -q", None, None, None, True)
    assert calls["c2"] == ("builtin:apply_patch", None, 2, 1, "app.py", True)
    assert calls["c3"][0] == "mcp:github"
    assert calls["c4"][0] == "mcp:linear"
    assert calls["c5"][:2] == ("builtin:shell", "ls -la")
    errors = dict(ledger.execute("SELECT tool_use_id, is_error FROM tool_results").fetchall())
    assert errors == {"c1": True, "c2": False, "c4": True}


def test_same_failure_twice_hashes_the_same_despite_wall_time(ledger, tmp_path):
    ts = "2025-11-22T20:48:10.000Z"
    outputs = ["Exit code: 1\nWall time: 0.1 seconds\nOutput:\nboom\n", "Exit code: 1\nWall time: 2.7 seconds\nOutput:\nboom\n"]
    write(rollout(tmp_path), [meta()] + [
        line(ts, "response_item", {"type": "function_call_output", "call_id": f"o{i}", "output": text})
        for i, text in enumerate(outputs)])
    ingest(ledger, tmp_path)
    assert ledger.execute("SELECT count(DISTINCT result_hash) FROM tool_results").fetchone()[0] == 1


def test_prompts_keep_length_and_hash_only_and_interrupts_count(ledger, tmp_path):
    write(rollout(tmp_path), [
        meta(),
        line("2025-11-22T20:48:02.000Z", "event_msg", {"type": "user_message", "message": "secret plan", "images": []}),
        line("2025-11-22T20:48:09.000Z", "event_msg", {"type": "turn_aborted", "reason": "interrupted"}),
    ])
    ingest(ledger, tmp_path)
    rows = ledger.execute("SELECT kind, prompt_length, prompt_text, detail FROM session_events ORDER BY ts").fetchall()
    assert rows == [("prompt", 11, None, None), ("interrupt", None, None, "interrupted")]


def test_bad_lines_are_quarantined_with_a_reason(ledger, tmp_path):
    path = write(rollout(tmp_path), [meta(), turn()])
    with path.open("a") as handle:
        handle.write('{"timestamp":"2025-11-22T20:48:03.000Z","type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{"input_tokens":"many"}}}}\n')
        handle.write("not json\n")
    summary = ingest(ledger, tmp_path)
    assert summary.rejects == 2
    reasons = [r[0] for r in ledger.execute("SELECT reason FROM rejects ORDER BY line_no").fetchall()]
    assert reasons[0].startswith("wrong type") and reasons[1] == "not a JSON object"


# -- the real corpus ------------------------------------------------------------------------------
@pytest.mark.skipif(not SAMPLES.is_dir(), reason="real corpus not found")
def test_real_codex_rollout_totals_27148(ledger):
    ingest(ledger, SAMPLES / "codex_session.jsonl")
    count, uncached, cached, output, reasoning = sums(ledger)
    assert (count, uncached, cached, output, reasoning) == (7, 3828, 22912, 408, 128)
    assert uncached + cached + output == 27_148
    components = ledger.execute("SELECT component, count(*) FROM tool_calls GROUP BY 1 ORDER BY 1").fetchall()
    assert components == [("builtin:apply_patch", 1), ("builtin:shell", 4)]
    # `python hoge.py` failed twice (exit code 1) before `python3` worked.
    assert ledger.execute("SELECT count(*) FROM tool_results WHERE is_error").fetchone()[0] == 2


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="real corpus not found")
def test_real_review_subagent_rollout_is_a_sidechain(ledger):
    ingest(ledger, SAMPLES / "rollout-parent-019b88e0.jsonl", SAMPLES / "rollout-subagent-019b88e5.jsonl")
    assert ledger.execute("SELECT agent_id, subagent_type FROM agents").fetchall() == [
        ("019b88e5-a2e4-7b90-8953-38fce393c653", "review")]
    kinds = ledger.execute("SELECT kind, is_sidechain FROM session_events ORDER BY ts").fetchall()
    assert kinds == [("prompt", False), ("subagent_prompt", True)]


def test_sample_generator_rollouts_ingest_cleanly(ledger, tmp_path):
    import random
    from datetime import date

    from sample_data.codex_gen import uses_other_agents, write_codex_day

    paths = write_codex_day(tmp_path / "ana", date(2026, 1, 5), random.Random(1), sessions=2)
    summary = ingest(ledger, tmp_path)
    assert len(paths) == 2 and summary.rejects == 0
    # 3-4 model calls per rollout, each re-emitted half the time: counted once each.
    count = ledger.execute("SELECT count(*) FROM requests WHERE source = 'codex'").fetchone()[0]
    assert 6 <= count <= 8
    assert ledger.execute("SELECT count(*) FROM tool_results WHERE is_error").fetchone()[0] == 2
    share = sum(uses_other_agents(f"user{i}", 7) for i in range(1000)) / 1000
    assert 0.2 < share < 0.3


def test_a_rollout_written_anew_shorter_is_read_from_a_fresh_running_total(ledger, tmp_path):
    # The stored running total (1000) describes the old content; the file now holds other work, shorter,
    # whose first total is 1200: read on the old state it would count 200, not 1200.
    padding = [turn(ts=f"2025-11-22T20:48:0{n}.000Z") for n in range(5)]
    path = write(rollout(tmp_path), [meta(), turn(), tokens("2025-11-22T20:48:03.000Z", usage(1000, 0, 10)), *padding])
    ingest(ledger, tmp_path)
    size = path.stat().st_size
    no_last = tokens("2025-11-22T20:49:09.000Z", usage(1200, 0, 12))
    del no_last["payload"]["info"]["last_token_usage"]  # older CLIs: the usage is the total's advance
    write(path, [meta(), turn(), no_last])
    assert path.stat().st_size < size
    ingest(ledger, tmp_path)
    assert sums(ledger)[:2] == (2, 2200)
