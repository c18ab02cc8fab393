"""A file loaded over several runs gives the ledger one run would: what links a line to an earlier
one (a call to its request, a sidechain line to its thread) survives the cut between runs, and
which copy of a duplicated request is kept does not depend on which file came first."""

from __future__ import annotations

import json

from tests.claude_lines import assistant, prompt, text, usage, write_jsonl
from tests.helpers import ingest
from tests.test_source_codex import line, meta, rollout, tokens, turn, write
from tests.test_source_codex import usage as codex_usage

T0 = "2026-03-01T10:00:00.000Z"


def test_a_codex_call_whose_token_count_comes_in_the_next_run_gets_its_request(tmp_path, ledger):
    path = rollout(tmp_path)
    call = line("2025-11-22T20:48:10.000Z", "response_item", {
        "type": "function_call", "name": "shell", "call_id": "c1", "arguments": json.dumps({"command": ["ls"]})})
    head = [meta(), turn(), call]
    write(path, head)
    ingest(ledger, tmp_path)
    assert ledger.execute("SELECT request_key FROM tool_calls").fetchall() == [(None,)]
    write(path, head + [tokens("2025-11-22T20:48:11.000Z", codex_usage(100, 0, 10))])
    ingest(ledger, tmp_path)
    request_key = ledger.execute("SELECT request_key FROM requests").fetchone()[0]
    assert ledger.execute("SELECT request_key FROM tool_calls").fetchall() == [(request_key,)]


def _inline_sidechain() -> list[dict]:
    """Claude Code 1.0.x: sidechain lines carry no agentId; the thread is the chain of parentUuid."""
    root = prompt(T0, "look into the bug", sidechain=True, version="1.0.24")
    first = assistant(T0, "msg_s1", "req_s1", usage(1, 2), [text()], sidechain=True, parent=root["uuid"], version="1.0.24")
    second = assistant(T0, "msg_s2", "req_s2", usage(3, 4), [text()], sidechain=True, parent=first["uuid"], version="1.0.24")
    third = assistant(T0, "msg_s3", "req_s3", usage(5, 6), [text()], sidechain=True, parent=second["uuid"], version="1.0.24")
    return [prompt(T0, "go", version="1.0.24"), root, first, second, third]


def test_an_inline_sidechain_split_across_runs_stays_one_thread(tmp_path, ledger):
    lines = _inline_sidechain()
    path = write_jsonl(tmp_path / "p" / "s.jsonl", lines[:3])
    ingest(ledger, tmp_path)
    write_jsonl(path, lines)
    ingest(ledger, tmp_path)
    threads = ledger.execute("SELECT DISTINCT agent_id FROM requests").fetchall()
    assert threads == [(f"sidechain:{lines[1]['uuid']}",)]


def test_which_copy_of_a_request_is_kept_does_not_depend_on_load_order(tmp_path_factory):
    from store.db import connect_writer

    def copy(cwd: str) -> list[dict]:
        line = assistant(T0, "msg_same", "req_same", usage(1, 2, 3, 4), [text()], cwd=cwd)
        line["uuid"] = "00000000-0000-4000-8000-00000000abcd"
        return [line]

    seen = []
    for order in (("a", "b"), ("b", "a")):
        root = tmp_path_factory.mktemp("order")
        con = connect_writer(root / "l.duckdb")
        for name in order:  # a resumed session copies the earlier file's lines into a new file
            write_jsonl(root / "logs" / f"{name}.jsonl", copy(f"/work/{name}"))
            ingest(con, root / "logs")
        seen.append(con.execute("SELECT project, session_id, count(*) FROM requests GROUP BY ALL").fetchall())
        con.close()
    assert seen[0] == seen[1] == [("/work/a", "s1", 1)]
