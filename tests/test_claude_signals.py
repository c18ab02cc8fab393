"""Claude Code's own messages read for what they are (ingest/claude/signals.py), and what the parser
records from them; each case is the shape of a real line of ../shared/corpus."""

from __future__ import annotations

import json

import pytest

from ingest.claude import signals
from tests.claude_lines import assistant, envelope, prompt, text, tool_result, tool_use, usage, write_jsonl
from tests.helpers import ingest

REJECTED = ("The user doesn't want to proceed with this tool use. The tool use was rejected (eg. if it was a file "
            "edit, the new_string was NOT written to the file). STOP what you are doing and wait for the user to "
            "tell you how to proceed.")
WITH_REASON = ("The user doesn't want to proceed with this tool use. The tool use was rejected (eg. if it was a file "
               "edit, the new_string was NOT written to the file). The user provided the following reason for the "
               "rejection:  keep the name of the py file")


@pytest.mark.parametrize("tool,version,text,waited,kind", [
    # 4d5611e5: the other calls of a parallel batch after one failed
    ("Read", "2.1.39", "<tool_use_error>Sibling tool call errored</tool_use_error>", 0.5, "cancelled"),
    ("Read", "2.1.39", "<tool_use_error>File does not exist.</tool_use_error>", 0.5, "error"),
    ("Edit", "2.0.5", "<tool_use_error>File has not been read yet. Read it first before writing to it.</tool_use_error>",
     0.1, "error"),
    ("MultiEdit", "1.0.43", REJECTED, 41, "rejected"),
    ("ExitPlanMode", "2.0.37", WITH_REASON, 153, "rejected"),
    # 9e953218: replies typed into the IDE extension's diff view
    ("Bash", "2.0.5", "please add transformer.js too first", 33.8, "rejected"),
    ("Bash", "2.0.5", "So if I do https://www.danieldemmel.me/tokenizer/index.html that works", 48.4, "rejected"),
    # a shell error without exit code, a hook's multi-line refusal, a permission rule
    ("Bash", "2.0.28", "error: target shim binary not found", 4.6, "error"),
    ("Bash", "2.1.39", "Pre-commit validation failed:\\n\\n[FORMAT] Code is not formatted.", 170.9, "error"),
    ("Bash", "2.1.17", "This command requires approval", 0.01, "denied"),
    ("Bash", "2.1.17", "ls in '~/.claude' was blocked. For security, Claude Code may only list files", 0.02, "denied"),
    ("Bash", "2.0.37", "Exit code 1\nResolved 4 packages in 55ms", 81, "error"),
    # 1.0.x wrote a failing command's raw output: no way to tell it from words, so never a reply
    ("Bash", "1.0.51", "grep: claude_code_log/renderer.py: No such file or directory", 12, "error"),
])
def test_result_kinds(tool, version, text, waited, kind):
    assert signals.result_kind(tool, version, text, True, waited) == kind


def test_a_successful_result_has_no_kind():
    assert signals.result_kind("Bash", "2.1.39", "ok", False, 1.0) is None


def test_the_users_reason_is_their_own_words_and_nothing_else():
    assert signals.rejection_reason("ExitPlanMode", "2.0.37", WITH_REASON) == "keep the name of the py file"
    assert signals.rejection_reason("MultiEdit", "1.0.43", REJECTED, 41) is None
    assert signals.rejection_reason("Bash", "2.0.5", "please add transformer.js too first", 33.8) == (
        "please add transformer.js too first")
    assert signals.rejection_reason("Bash", "2.0.5", "please add transformer.js too first", 3.0) is None


@pytest.mark.parametrize("agent_id,kind", [("acompact-e1f845", "compact"), ("aprompt_suggestion-33a4cf", "prompt_suggestion"),
                                           ("aside_question-94d26433f3755c77", "side_question"), ("a2898e3", None),
                                           ("a4ca7529859c158c2", None), (None, None)])
def test_harness_agents_are_named_in_their_id(agent_id, kind):
    assert signals.harness_agent_type(agent_id) == kind


def test_the_parser_records_kinds_reasons_parents_and_what_is_no_prompt(ledger, tmp_path):
    root = tmp_path / "alice"
    session = root / "-work-app" / "s1.jsonl"
    first = prompt("2026-03-02T09:00:00.000Z", "fix it")
    batch = [tool_use("toolu_a", "Read", {"file_path": "/work/app/x.py"}), tool_use("toolu_b", "Read", {"file_path": "/work/app/y.py"})]
    lines = [
        first,
        assistant("2026-03-02T09:00:05.000Z", "msg_1", "req_1", usage(3, 10, 0, 100), batch, stop_reason="tool_use"),
        tool_result("2026-03-02T09:00:06.000Z", "toolu_a", "<tool_use_error>File does not exist.</tool_use_error>", is_error=True),
        tool_result("2026-03-02T09:00:06.000Z", "toolu_b", "<tool_use_error>Sibling tool call errored</tool_use_error>",
                    is_error=True),
        assistant("2026-03-02T09:00:08.000Z", "msg_2", "req_2", usage(3, 10, 0, 100),
                  [tool_use("toolu_c", "ExitPlanMode", {"plan": "p"})], stop_reason="tool_use"),
        tool_result("2026-03-02T09:02:08.000Z", "toolu_c", WITH_REASON, is_error=True),
        prompt("2026-03-02T09:03:00.000Z", "<task-notification>\n<task-id>b1</task-id>\n<status>completed</status>"),
        prompt("2026-03-02T09:04:00.000Z", "and the tests", parent=first["uuid"]),
    ]
    write_jsonl(session, lines)
    warmup = write_jsonl(root / "-work-app" / "agent-3430b97e.jsonl", [
        assistant("2026-03-02T08:59:58.000Z", "msg_w", "req_w", usage(3, 40, 1200, 0), [text("Ready to help.")],
                  sidechain=True, agentId="3430b97e"),
    ])
    compact = write_jsonl(root / "-work-app" / "s1" / "subagents" / "agent-acompact-e1f845.jsonl", [
        envelope("user", "2026-03-02T09:05:00.000Z", sidechain=True, parent=first["uuid"], agentId="acompact-e1f845",
                 message={"role": "user", "content": "Summarise the conversation"}),
        assistant("2026-03-02T09:05:30.000Z", "msg_c", "req_c", usage(3, 8, 500, 9000), [text("Summary")],
                  sidechain=True, agentId="acompact-e1f845"),
    ])
    assert warmup.exists() and compact.exists()
    summary = ingest(ledger, root, user="alice")
    assert summary.rejects == 0
    kinds = dict(ledger.execute("SELECT tool_use_id, result_kind FROM tool_results").fetchall())
    assert kinds == {"toolu_a": "error", "toolu_b": "cancelled", "toolu_c": "rejected"}
    events = ledger.execute("SELECT kind, prompt_length, parent_uuid FROM session_events ORDER BY ts").fetchall()
    assert events == [("prompt", 6, None), ("rejection", len("keep the name of the py file"), None),
                      ("notification", None, None), ("prompt", 13, first["uuid"])]
    assert ledger.execute("SELECT agent_id, is_warmup FROM agents").fetchall() == [("3430b97e", True)]
    assert ledger.execute("SELECT DISTINCT subagent_type FROM requests WHERE agent_id = 'acompact-e1f845'").fetchall() == [
        ("compact",)]


def test_a_reply_typed_while_a_scheduled_run_read_the_call_is_still_the_users(ledger, tmp_path):
    # A run every 15 minutes reads the IDE's permission prompt before the person answers it: the
    # call and its reply arrive in two reads, and the 40 s the person took must still be known.
    root = tmp_path / "alice"
    session = root / "-work-app" / "s1.jsonl"
    call = assistant("2026-03-02T09:00:05.000Z", "msg_1", "req_1", usage(3, 10, 0, 100),
                     [tool_use("toolu_ide", "Bash", {"command": "npm run build"})], stop_reason="tool_use",
                     version="2.0.5")
    write_jsonl(session, [prompt("2026-03-02T09:00:00.000Z", "build it", version="2.0.5"), call])
    ingest(ledger, root, user="alice")
    pending = ledger.execute("SELECT parser_state FROM source_files").fetchone()[0]
    assert "toolu_ide" in pending
    reply = tool_result("2026-03-02T09:00:45.000Z", "toolu_ide", "please add transformer.js too first",
                        is_error=True, version="2.0.5")
    with session.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(reply) + "\n")
    ingest(ledger, root, user="alice")
    assert ledger.execute("SELECT result_kind FROM tool_results").fetchall() == [("rejected",)]
    assert ledger.execute("SELECT prompt_length FROM session_events WHERE kind = 'rejection'").fetchall() == [
        (len("please add transformer.js too first"),)]
    # answered: the call leaves the carried state
    assert "toolu_ide" not in (ledger.execute("SELECT parser_state FROM source_files").fetchone()[0] or "")
