"""`agentledger ingest --reread`: a ledger written by an older release gets what this release reads
from the same files, without touching spend, without losing what it cannot read again."""

from __future__ import annotations

import shutil

import pytest

from agentledger.cli import main
from analytics.refresh import refresh_derived
from ingest.reread import FACT_TABLES, reset_known_files
from store.db import reader
from store.sql import run_sql
from tests.claude_lines import assistant, prompt, tool_result, tool_use, usage, write_jsonl
from tests.helpers import ingest, shared_dir
from tests.transcript_builder import report

SPOTTER = shared_dir() / "corpus/pairs/marot__spotter/test/fixtures/transcripts"
SESSION = "4d5611e5-241a-462a-8d15-5122611a9569"

# What a release before migration 009 stored from the same lines: no kind on tool results, no parent
# on prompts, a background task's notice taken for a prompt, no reason on rejections.
PRE_009 = (
    "UPDATE tool_results SET result_kind = NULL",
    "UPDATE session_events SET parent_uuid = NULL",
    "UPDATE session_events SET kind = 'prompt', event_key = replace(event_key, ':notification', ':prompt')"
    " WHERE kind = 'notification'",
    "UPDATE session_events SET prompt_length = NULL, prompt_hash = NULL WHERE kind = 'rejection'",
)


def _as_an_older_release_stored_it(con) -> None:
    for statement in PRE_009:
        run_sql(con, statement)
    refresh_derived(con, full=True)


def _rows(con, table: str) -> list[tuple]:
    """Every row of a table as ingest wrote it, minus the run that wrote it."""
    names = [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? AND column_name <> 'run_id'"
        " ORDER BY ordinal_position", [table]).fetchall()]
    return con.execute(f"SELECT {', '.join(names)} FROM {table} ORDER BY ALL").fetchall()


def _facts(con) -> dict[str, list[tuple]]:
    return {table: _rows(con, table) for table in (*FACT_TABLES, "requests")}


def _read_errors(con) -> int:
    return next(r["errors"] for r in report(con, "plugins") if r["component"] == "builtin:Read" and r["level"] == "component")


@pytest.mark.skipif(not SPOTTER.is_dir(), reason="../shared/corpus not found")
def test_a_reread_gives_an_old_ledger_what_a_fresh_ingest_gives(ledger, tmp_path):
    # 4d5611e5 (spotter): a parallel batch of eight Reads, one missing file and seven "Sibling tool call
    # errored" cancellations, and background-task notices. An older release counted 8 Read errors.
    root = tmp_path / "spotter"
    root.mkdir()
    shutil.copy(SPOTTER / f"{SESSION}.jsonl", root / f"{SESSION}.jsonl")
    shutil.copytree(SPOTTER / SESSION, root / SESSION)
    ingest(ledger, root, user="spotter")
    fresh, fresh_flags, fresh_errors = _facts(ledger), report(ledger, "flags"), _read_errors(ledger)
    outcomes = _rows(ledger, "request_facts")

    _as_an_older_release_stored_it(ledger)
    assert _facts(ledger) != fresh
    assert _read_errors(ledger) > fresh_errors  # the cancelled siblings counted as failures again

    summary = ingest(ledger, root, user="spotter", reread=True)
    assert (summary.reread.files, summary.reread.sessions, summary.reread.sessions_kept) == (3, 1, 0)
    assert "re-read 3 known files: facts of 1 sessions read afresh, 0 kept" in summary.one_line()
    assert summary.requests_new == 0  # spend cannot change: requests are re-merged by their key
    assert _facts(ledger) == fresh
    assert _rows(ledger, "request_facts") == outcomes
    assert report(ledger, "flags") == fresh_flags
    assert _read_errors(ledger) == fresh_errors

    # twice is once
    ingest(ledger, root, user="spotter", reread=True)
    assert _facts(ledger) == fresh


TOKENIZER = (shared_dir() / "corpus/pairs/daaain__online-llm-tokenizer/test/test_data/real_projects"
             / "-Users-dain-workspace-danieldemmel-me-next/9e953218-585f-4692-89df-9e0747a31c68.jsonl")


@pytest.mark.skipif(not TOKENIZER.is_file(), reason="../shared/corpus not found")
def test_a_reread_repairs_the_edit_lines_and_commit_evidence_a_split_read_got_wrong(ledger, tmp_path):
    # The tokenizer session commits through `cd /Users/dain/workspace/online-llm-tokenizer && git commit`.
    # Read in two runs by a parser without the look-back, that commit's evidence had no directory, an
    # unrelated output could pass for a pull request, and an edit answered in the later read lost lines.
    root = tmp_path / "logs" / TOKENIZER.parent.name
    root.mkdir(parents=True)
    shutil.copy(TOKENIZER, root / TOKENIZER.name)
    ingest(ledger, tmp_path / "logs", user="dain")
    fresh = {table: _rows(ledger, table) for table in ("edit_lines", "commit_evidence")}
    assert ("/Users/dain/workspace/online-llm-tokenizer",) in {(row[-1],) for row in fresh["commit_evidence"]}

    run_sql(ledger, "UPDATE commit_evidence SET dir = NULL")
    run_sql(ledger, "INSERT INTO commit_evidence BY NAME SELECT 'spurious:0' AS evidence_key, tool_use_id, source,"
                    " session_id, ts, 'pr' AS kind, 'https://github.com/o/r/pull/1' AS detail, run_id"
                    " FROM commit_evidence LIMIT 1")
    run_sql(ledger, "DELETE FROM edit_lines WHERE tool_use_id = (SELECT min(tool_use_id) FROM edit_lines)")
    assert {table: _rows(ledger, table) for table in fresh} != fresh

    ingest(ledger, tmp_path / "logs", user="dain", reread=True)
    assert {table: _rows(ledger, table) for table in fresh} == fresh


def _session(root, *, agent: bool):
    """One session: a parallel batch whose second Read was cancelled and a background task's notice;
    with `agent`, a subagent file holding some of its requests."""
    write_jsonl(root / "-work-app" / "s1.jsonl", [
        prompt("2026-03-02T09:00:00.000Z", "look"),
        assistant("2026-03-02T09:00:05.000Z", "msg_1", "req_1", usage(3, 10, 0, 100),
                  [tool_use("toolu_a", "Read", {"file_path": "/work/app/x.py"}),
                   tool_use("toolu_b", "Read", {"file_path": "/work/app/y.py"})], stop_reason="tool_use"),
        tool_result("2026-03-02T09:00:06.000Z", "toolu_a", "<tool_use_error>File does not exist.</tool_use_error>",
                    is_error=True),
        tool_result("2026-03-02T09:00:06.000Z", "toolu_b", "<tool_use_error>Sibling tool call errored</tool_use_error>",
                    is_error=True),
        prompt("2026-03-02T09:00:08.500Z", "<task-notification>\n<task-id>b1</task-id>\n<status>completed</status>"),
        assistant("2026-03-02T09:00:09.000Z", "msg_2", "req_2", usage(3, 10, 0, 100), []),
    ])
    if agent:
        write_jsonl(root / "-work-app" / "s1" / "subagents" / "agent-a1b2c3d.jsonl", [
            prompt("2026-03-02T09:00:07.000Z", "check y.py", sidechain=True, agentId="a1b2c3d"),
            assistant("2026-03-02T09:00:08.000Z", "msg_s", "req_s", usage(3, 10, 0, 100), [], sidechain=True,
                      agentId="a1b2c3d"),
        ])


def test_a_session_whose_file_is_gone_keeps_what_was_ingested(ledger, tmp_path):
    # Claude Code deleted the subagent's file (30-day cleanup): the session cannot be read whole again,
    # so nothing of it is replaced, and its main file is not read again beside its old rows.
    root = tmp_path / "alice"
    _session(root, agent=True)
    ingest(ledger, root, user="alice")
    _as_an_older_release_stored_it(ledger)
    old = _facts(ledger)
    (root / "-work-app" / "s1" / "subagents" / "agent-a1b2c3d.jsonl").unlink()
    summary = ingest(ledger, root, user="alice", reread=True)
    assert (summary.reread.files, summary.reread.sessions, summary.reread.sessions_kept) == (0, 0, 1)
    assert _facts(ledger) == old


def test_a_run_that_dies_after_the_reset_loses_nothing(ledger, tmp_path):
    # The reset commits on its own; if the run then dies, the next run of any kind reads the files
    # from their start and the facts come back.
    root = tmp_path / "alice"
    _session(root, agent=False)
    ingest(ledger, root, user="alice")
    fresh = _facts(ledger)
    key = str(root / "-work-app" / "s1.jsonl")
    plan = reset_known_files(ledger, [key])
    assert (plan.files, plan.sessions) == (1, 1)
    assert ledger.execute("SELECT count(*) FROM tool_results").fetchone()[0] == 0
    summary = ingest(ledger, root, user="alice")  # the next scheduled run, without --reread
    assert summary.files_changed == 1
    assert _facts(ledger) == fresh
    assert {r[0]: r[1] for r in ledger.execute("SELECT tool_use_id, result_kind FROM tool_results").fetchall()} == {
        "toolu_a": "error", "toolu_b": "cancelled"}


def test_the_cli_rereads_and_says_what_it_did(tmp_path, capsys):
    root = tmp_path / "alice"
    _session(root, agent=False)
    db = tmp_path / "ledger.duckdb"
    assert main(["ingest", str(root), "--user", "alice", "--db", str(db), "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["ingest", str(root), "--user", "alice", "--db", str(db), "--no-progress", "--reread"]) == 0
    out = capsys.readouterr().out
    assert "1 changed" in out and "re-read 1 known files: facts of 1 sessions read afresh, 0 kept as ingested" in out
    with reader(db) as con:
        assert con.execute("SELECT result_kind FROM tool_results ORDER BY tool_use_id").fetchall() == [
            ("error",), ("cancelled",)]
