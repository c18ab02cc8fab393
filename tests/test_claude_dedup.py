"""One row per API request: the duplicate-counting pitfalls of formats.md §1.6, each proven."""

from __future__ import annotations

from tests.claude_lines import assistant, prompt, text, tool_result, tool_use, usage, write_jsonl
from tests.helpers import ingest, totals

T0 = "2026-03-01T10:00:00.000Z"


def split_response(msg_id: str, req_id: str | None, final: dict, *, placeholder_out: int = 4, blocks: int = 3, **env):
    """A response written as one line per content block: early lines carry a placeholder output."""
    early = dict(final, output_tokens=placeholder_out)
    lines = [assistant(f"2026-03-01T10:00:0{i}.000Z", msg_id, req_id, early, [text(f"part {i}")], stop_reason=None, **env)
             for i in range(blocks - 1)]
    lines.append(assistant(f"2026-03-01T10:00:0{blocks}.000Z", msg_id, req_id, final, [text("last")], **env))
    return lines


def test_split_lines_count_once_with_the_final_usage(tmp_path, ledger):
    write_jsonl(tmp_path / "s1.jsonl", split_response("msg_A", "req_A", usage(3, 250, 1000, 20000)))
    ingest(ledger, tmp_path)
    assert ledger.execute("SELECT count(*) FROM requests").fetchone()[0] == 1
    assert totals(ledger) == (3, 250, 1000, 20000)
    assert ledger.execute("SELECT output_estimated FROM requests").fetchone()[0] is False


def test_all_placeholder_lines_mark_the_output_as_estimated(tmp_path, ledger):
    early = usage(3, 7, 10, 10)
    write_jsonl(tmp_path / "s1.jsonl", [
        assistant(T0, "msg_A", "req_A", early, [text()], stop_reason=None),
        assistant(T0, "msg_A", "req_A", early, [text()], stop_reason=None),
    ])
    ingest(ledger, tmp_path)
    assert ledger.execute("SELECT output_tokens, output_estimated FROM requests").fetchone() == (7, True)


def test_duplicates_across_files_count_once(tmp_path, ledger):
    # A resumed session copies the earlier history into the new file.
    lines = split_response("msg_A", "req_A", usage(3, 250, 1000, 20000))
    write_jsonl(tmp_path / "s1.jsonl", lines)
    write_jsonl(tmp_path / "s2.jsonl", lines + split_response("msg_B", "req_B", usage(1, 10, 0, 500), session="s2"))
    ingest(ledger, tmp_path)
    assert totals(ledger) == (4, 260, 1000, 20500)


def test_missing_request_id_falls_back_to_message_id(tmp_path, ledger):
    write_jsonl(tmp_path / "s1.jsonl", split_response("msg_A", None, usage(5, 100, 0, 0)))
    ingest(ledger, tmp_path)
    assert ledger.execute("SELECT request_key, output_tokens FROM requests").fetchall() == [("msg_A", 100)]


def test_sidechain_replay_under_a_new_request_id_keeps_the_main_copy(tmp_path, ledger):
    main = assistant(T0, "msg_A", "req_A", usage(3, 250, 1000, 20000), [text()])
    replay = assistant(T0, "msg_A", "req_REPLAY", usage(3, 250, 1000, 20000), [text()], sidechain=True)
    write_jsonl(tmp_path / "btw.jsonl", [replay])
    write_jsonl(tmp_path / "s1.jsonl", [main])
    ingest(ledger, tmp_path)
    assert ledger.execute("SELECT request_id, is_sidechain FROM requests").fetchall() == [("req_A", False)]


def test_sidechain_replay_arriving_in_a_later_run_is_still_dropped(tmp_path, ledger):
    write_jsonl(tmp_path / "s1.jsonl", [assistant(T0, "msg_A", "req_A", usage(3, 250, 0, 0), [text()])])
    ingest(ledger, tmp_path)
    write_jsonl(tmp_path / "btw.jsonl", [assistant(T0, "msg_A", "req_B", usage(3, 999, 0, 0), [text()], sidechain=True)])
    ingest(ledger, tmp_path)
    assert ledger.execute("SELECT request_id, output_tokens FROM requests").fetchall() == [("req_A", 250)]


def test_non_sidechain_copy_in_a_later_run_replaces_the_replay(tmp_path, ledger):
    write_jsonl(tmp_path / "btw.jsonl", [assistant(T0, "msg_A", "req_B", usage(3, 999, 0, 0), [text()], sidechain=True)])
    ingest(ledger, tmp_path)
    write_jsonl(tmp_path / "s1.jsonl", [assistant(T0, "msg_A", "req_A", usage(3, 250, 0, 0), [text()])])
    summary = ingest(ledger, tmp_path)
    assert ledger.execute("SELECT request_id, output_tokens FROM requests").fetchall() == [("req_A", 250)]
    assert summary.requests_new == 1


def test_lines_of_one_response_split_across_two_runs(tmp_path, ledger):
    # A cron run fires while the agent is mid-response: the placeholder line lands first.
    lines = split_response("msg_A", "req_A", usage(3, 250, 1000, 20000))
    path = write_jsonl(tmp_path / "s1.jsonl", lines[:1])
    ingest(ledger, tmp_path)
    assert ledger.execute("SELECT output_tokens, output_estimated FROM requests").fetchone() == (4, True)
    write_jsonl(path, lines)
    summary = ingest(ledger, tmp_path)
    assert ledger.execute("SELECT output_tokens, output_estimated FROM requests").fetchone() == (250, False)
    assert summary.requests_updated == 1 and summary.requests_new == 0
    assert totals(ledger) == (3, 250, 1000, 20000)


def test_synthetic_api_error_lines_are_errors_not_spend(tmp_path, ledger):
    error_line = assistant(T0, "msg_E", "req_E", usage(0, 0), [text("API Error: 529 overloaded")], model="<synthetic>",
                           isApiErrorMessage=True, error="overloaded")
    write_jsonl(tmp_path / "s1.jsonl", [error_line, assistant(T0, "msg_A", "req_A", usage(1, 2), [text()])])
    summary = ingest(ledger, tmp_path)
    assert ledger.execute("SELECT count(*) FROM requests").fetchone()[0] == 1
    assert summary.api_errors == 1
    assert ledger.execute("SELECT kind, detail FROM session_events WHERE kind = 'api_error'").fetchall() == [("api_error", "overloaded")]


def test_task_result_usage_is_never_added_to_spend(tmp_path, ledger):
    task = tool_use("toolu_T", "Task", {"description": "look", "prompt": "find it", "subagent_type": "Explore"})
    result = {"status": "completed", "agentId": "a1b2c3d", "agentType": "Explore", "totalTokens": 33854,
              "usage": {"input_tokens": 1, "output_tokens": 446, "cache_creation_input_tokens": 259,
                        "cache_read_input_tokens": 33148}}
    write_jsonl(tmp_path / "s1.jsonl", [
        prompt(T0, "please look"),
        assistant(T0, "msg_A", "req_A", usage(10, 20, 30, 40), [task]),
        tool_result(T0, "toolu_T", "found it", result=result),
    ])
    ingest(ledger, tmp_path)
    assert totals(ledger) == (10, 20, 30, 40)
    assert ledger.execute("SELECT subagent_type FROM agents WHERE agent_id = 'a1b2c3d'").fetchone() == ("Explore",)
    assert ledger.execute("SELECT spawned_agent_id FROM tool_results").fetchone() == ("a1b2c3d",)


def test_agent_progress_embeds_dedupe_against_the_subagent_file(tmp_path, ledger):
    sub_line = assistant(T0, "msg_S", "req_S", usage(2, 300, 50, 4000), [text()], sidechain=True, agentId="a42")
    progress = {"type": "progress", "parentUuid": None, "isSidechain": False, "sessionId": "s1", "cwd": "/work/app",
                "version": "2.1.17", "timestamp": T0, "uuid": "p1", "toolUseID": "x", "parentToolUseID": "toolu_T",
                "data": {"type": "agent_progress", "agentId": "a42",
                         "message": {"type": "assistant", "timestamp": T0, "requestId": "req_S", "isSidechain": True,
                                     "uuid": "e1", "message": sub_line["message"]}}}
    write_jsonl(tmp_path / "s1.jsonl", [progress])
    write_jsonl(tmp_path / "s1" / "subagents" / "agent-a42.jsonl", [sub_line])
    ingest(ledger, tmp_path)
    assert totals(ledger) == (2, 300, 50, 4000)
    assert ledger.execute("SELECT agent_id FROM requests").fetchone() == ("a42",)


def test_cache_creation_split_and_model_are_kept(tmp_path, ledger):
    write_jsonl(tmp_path / "s1.jsonl", [assistant(T0, "msg_A", "req_A", usage(1, 2, 1000, 0, cc_1h=600), [text()],
                                                  model="claude-opus-4-7")])
    ingest(ledger, tmp_path)
    row = ledger.execute("SELECT cache_creation_5m_tokens, cache_creation_1h_tokens, model, ts FROM requests").fetchone()
    assert row[:3] == (400, 600, "claude-opus-4-7")
    assert row[3].isoformat() == "2026-03-01T10:00:00"


def test_equal_copies_in_two_files_of_one_chunk_keep_the_first_place_whatever_the_read_order(tmp_path):
    # Files of a chunk are parsed into one batch: a copy read later from a file that sorts first
    # must still win the tie (the rule orders equal copies by file, then line, never by arrival).
    from datetime import datetime

    from ingest.file_reader import FileJob, ReadSettings, read_chunk

    line = assistant(T0, "msg_A", "req_A", usage(3, 250, 1000, 20000), [text()])
    paths = [write_jsonl(tmp_path / name, [prompt(T0, "go"), line]) for name in ("z.jsonl", "a.jsonl")]
    settings = ReadSettings("claude", False, datetime(2100, 1, 1), 1 << 20)
    for order in (paths, paths[::-1]):
        jobs = [FileJob(p, str(p), "u", p.stat().st_size, p.stat().st_mtime_ns, None) for p in order]
        kept = read_chunk(jobs, settings).requests.rows()
        assert [(r.file_path, r.line_no) for r in kept] == [(str(tmp_path / "a.jsonl"), 2)]
