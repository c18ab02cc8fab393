"""Bad input never stops a run and never loses the good lines around it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.claude_lines import assistant, prompt, text, usage, write_jsonl
from tests.helpers import ingest, totals

T0 = "2026-03-01T10:00:00.000Z"


def _bad_file(path: Path) -> Path:
    good_assistant = assistant(T0, "msg_A", "req_A", usage(1, 20, 300, 4000), [text()])
    wrong_type = assistant(T0, "msg_B", "req_B", usage(1, 2), [text()])
    wrong_type["message"]["usage"]["input_tokens"] = "many"
    negative = assistant(T0, "msg_C", "req_C", usage(-5, 2), [text()])
    unknown_field = prompt(T0, "hello again")
    unknown_field["shinyNewField"] = {"x": 1}
    return write_jsonl(path, [
        prompt(T0, "hello"),                                    # 1 good
        '{"type": "assistant", "message": {',                   # 2 malformed JSON
        wrong_type,                                             # 3 wrong type
        {"type": "hologram", "uuid": "h1"},                     # 4 unknown record type: counted, not rejected
        b"\x00\xff\xfe\x01 binary junk \x89PNG",                # 5 binary junk
        "[1, 2, 3]",                                            # 6 not an object
        good_assistant,                                         # 7 good
        negative,                                               # 8 negative tokens
        b'{"type":"user","message":{"content":"bad \xff utf8"}}',  # 9 invalid UTF-8
        unknown_field,                                          # 10 good, with an unknown field
    ])


def test_bad_lines_are_quarantined_and_good_lines_kept(tmp_path, ledger):
    _bad_file(tmp_path / "s1.jsonl")
    # Opted in to prompt text: a rejected line keeps its first bytes (else only its hash and length).
    summary = ingest(ledger, tmp_path, store_prompts=True)
    assert totals(ledger) == (1, 20, 300, 4000)
    assert ledger.execute("SELECT count(*) FROM session_events WHERE kind = 'prompt'").fetchone()[0] == 2
    rejects = ledger.execute("SELECT line_no, reason, head FROM rejects ORDER BY line_no").fetchall()
    assert [r[0] for r in rejects] == [2, 3, 5, 6, 8, 9]
    reasons = {line: reason for line, reason, _ in rejects}
    assert reasons[2].startswith("malformed JSON")
    assert reasons[3].startswith("wrong type") and "input_tokens" in reasons[3]
    assert reasons[6] == "not a JSON object"
    assert reasons[8] == "negative token count"
    assert all(len(head.encode()) <= 200 * 3 for _, _, head in rejects)
    assert summary.rejects == 6 and summary.lines == 10
    assert summary.unknown_types == 1
    drift = dict(ledger.execute("SELECT name, occurrences FROM schema_drift").fetchall())
    assert drift == {"hologram": 1, "user.shinyNewField": 1}


def test_rejects_are_not_duplicated_by_a_rerun_of_a_rewritten_file(tmp_path, ledger):
    path = _bad_file(tmp_path / "s1.jsonl")
    ingest(ledger, tmp_path)
    path.write_bytes(path.read_bytes() + b"\n")  # grows by an empty line: read from the offset
    ingest(ledger, tmp_path)
    assert ledger.execute("SELECT count(*) FROM rejects").fetchone()[0] == 6


def test_reject_head_is_the_first_200_bytes(tmp_path, ledger):
    line = '{"type":"user","x":"' + "x" * 500
    write_jsonl(tmp_path / "s1.jsonl", [line])
    ingest(ledger, tmp_path, store_prompts=True)
    assert ledger.execute("SELECT head FROM rejects").fetchone()[0] == line[:200]


def test_a_file_no_source_recognises_is_skipped_and_remembered(tmp_path, ledger):
    write_jsonl(tmp_path / "history.jsonl", [{"display": "a prompt", "project": "/x"}])
    first = ingest(ledger, tmp_path)
    second = ingest(ledger, tmp_path)
    assert (first.files_skipped, first.files_failed, first.rejects) == (1, 0, 0)
    assert (second.files_skipped, second.files_unchanged) == (0, 1)
    assert ledger.execute("SELECT source FROM source_files").fetchall() == [("unrecognised",)]
    assert ledger.execute("SELECT files_skipped FROM ingest_runs ORDER BY run_id").fetchall() == [(1,), (0,)]


def test_unreadable_file_is_reported_and_the_run_goes_on(tmp_path, ledger, monkeypatch):
    write_jsonl(tmp_path / "a.jsonl", [assistant(T0, "msg_A", "req_A", usage(1, 1), [text()])])
    locked = write_jsonl(tmp_path / "b.jsonl", [assistant(T0, "msg_B", "req_B", usage(2, 2), [text()])])
    real_open = Path.open

    def guarded_open(self, *args, **kwargs):
        if self == locked:
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", guarded_open)
    summary = ingest(ledger, tmp_path)
    assert summary.files_failed == 1 and summary.files_seen == 2
    assert totals(ledger) == (1, 1, 0, 0)
    assert ledger.execute("SELECT path, line_no, reason FROM rejects").fetchall() == [
        (str(locked), 0, "unreadable: Permission denied")
    ]
    monkeypatch.setattr(Path, "open", real_open)
    ingest(ledger, tmp_path)  # readable again: now it loads
    assert totals(ledger) == (3, 3, 0, 0)


def test_truncated_file_loads_its_complete_lines(tmp_path, ledger):
    complete = json.dumps(assistant(T0, "msg_A", "req_A", usage(1, 1), [text()]))
    cut = json.dumps(assistant(T0, "msg_B", "req_B", usage(2, 2), [text()]))[:40]
    (tmp_path / "s1.jsonl").write_text(complete + "\n" + cut)
    summary = ingest(ledger, tmp_path)
    assert totals(ledger) == (1, 1, 0, 0)
    assert summary.rejects == 0


def _cli(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "agentledger.cli", *args], capture_output=True, text=True, **kwargs)


def test_cli_exit_code_is_zero_with_rejects_and_prints_one_summary_line(tmp_path):
    _bad_file(tmp_path / "logs" / "s1.jsonl")
    result = _cli("ingest", str(tmp_path / "logs"), "--db", str(tmp_path / "l.duckdb"), "--user", "al")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1 and "6 rejects" in result.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["ingest", "/no/such/place"], "no such file or directory: /no/such/place"),
        (["org", "load", "/no/such.csv"], "cannot read"),
    ],
)
def test_cli_cannot_run_gives_one_line_and_nonzero_exit(tmp_path, args, message):
    result = _cli(*args, "--db", str(tmp_path / "l.duckdb"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr


def test_cli_reports_an_unopenable_database_in_one_line(tmp_path):
    (tmp_path / "logs").mkdir()
    not_a_db = tmp_path / "junk.duckdb"
    not_a_db.write_bytes(b"this is not a duckdb file" * 100)
    result = _cli("ingest", str(tmp_path / "logs"), "--db", str(not_a_db))
    assert result.returncode != 0
    assert result.stderr.count("\n") == 1 and str(not_a_db) in result.stderr


def test_a_rejected_line_is_stored_at_the_byte_where_it_starts_in_the_file(tmp_path, ledger):
    # Blank lines, long lines and a second read that starts mid-file all move where a bad line sits;
    # the offset is the only thing that finds it again in a file of many thousand lines.
    path = write_jsonl(tmp_path / "s1.jsonl", [
        prompt(T0, "x" * 5000),
        "",
        '{"type": "assistant", "message": {',
        "   ",
        assistant(T0, "msg_A", "req_A", usage(1, 2), [text()]),
        "[1, 2, 3]",
    ])
    ingest(ledger, tmp_path)
    with path.open("ab") as handle:  # a later run reads on from the cursor
        handle.write(b'{"type": "user", "message": \n' + json.dumps(prompt(T0, "ok")).encode() + b"\nnot json\n")
    ingest(ledger, tmp_path)
    lines = path.read_bytes().split(b"\n")
    starts = [sum(len(line) + 1 for line in lines[:i]) for i in range(len(lines))]
    rejects = ledger.execute("SELECT line_no, byte_offset, line_bytes FROM rejects ORDER BY line_no").fetchall()
    assert [r[0] for r in rejects] == [3, 6, 7, 9]
    for line_no, byte_offset, line_bytes in rejects:
        assert (byte_offset, line_bytes) == (starts[line_no - 1], len(lines[line_no - 1]))
