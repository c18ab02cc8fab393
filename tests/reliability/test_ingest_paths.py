"""Odd paths and odd files never stop or hang a run, never lose a good line, and never pull in
files from outside the folder being ingested."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb

from tests.claude_lines import assistant, prompt, text, usage, write_jsonl
from tests.helpers import ingest, totals

T0 = "2026-03-01T10:00:00.000Z"
SESSION = "0b6c1e0e-6f3c-4c39-9d5e-2a8a3f6f1c01"


def _cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "agentledger.cli", *args], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def _transcript(path: Path, n: int, tag: str = "") -> Path:
    lines = []
    for i in range(n):
        lines.append(prompt(T0, f"step {i}"))
        lines.append(assistant(T0, f"msg_{tag}{i}", f"req_{tag}{i}", usage(1, 10, 100, 1000), [text()]))
    return write_jsonl(path, lines)


def test_a_file_name_that_is_not_utf8_loads_and_is_named_printably(tmp_path, ledger):
    folder = tmp_path / "logs"
    folder.mkdir()
    _transcript(Path(os.fsdecode(bytes(folder) + b"/bad\xff\xfe.jsonl")), 2)
    first = ingest(ledger, folder)
    assert (first.files_new, first.files_failed, totals(ledger)) == (1, 0, (2, 20, 200, 2000))
    path = ledger.execute("SELECT path FROM source_files").fetchone()[0]
    assert path == f"{folder}/bad\\xff\\xfe.jsonl"
    second = ingest(ledger, folder)  # and a second run knows it is unchanged
    assert (second.files_unchanged, second.files_failed) == (1, 0)


def test_a_fifo_named_like_a_log_never_blocks_the_run(tmp_path):
    logs = tmp_path / "logs"
    _transcript(logs / "p" / "good.jsonl", 2)
    os.mkfifo(logs / "p" / "x.jsonl")
    db = tmp_path / "l.duckdb"
    result = _cli("ingest", str(logs), "--db", str(db), "--user", "al", timeout=60)
    assert result.returncode == 0, result.stderr
    assert "1 not logs" in result.stdout
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM requests").fetchone()[0] == 2
    assert con.execute("SELECT path, line_no, reason FROM rejects").fetchall() == [
        (str(logs / "p" / "x.jsonl"), 0, "not a regular file (a FIFO, socket or device): skipped")]


def test_a_link_out_of_the_tree_is_not_followed_unless_asked(tmp_path, ledger):
    outside = _transcript(tmp_path / "someone-else" / "secret.jsonl", 3, tag="x")
    logs = tmp_path / "logs"
    _transcript(logs / "p" / "mine.jsonl", 1)
    (logs / "p" / "link.jsonl").symlink_to(outside)
    (logs / "p" / "inside.jsonl").symlink_to(logs / "p" / "mine.jsonl")  # within the tree: fine
    summary = ingest(ledger, logs)
    assert ledger.execute("SELECT count(*) FROM requests").fetchone()[0] == 1
    assert summary.files_skipped == 1
    reason = ledger.execute("SELECT reason FROM rejects WHERE path LIKE '%link.jsonl'").fetchone()[0]
    assert reason.startswith(f"a link to {outside}, outside {logs}: not followed")
    ingest(ledger, logs, follow_symlinks=True)
    assert ledger.execute("SELECT count(*) FROM requests").fetchone()[0] == 4


def test_a_transcript_with_a_corrupt_first_line_is_still_a_transcript(tmp_path, ledger):
    path = tmp_path / "projects" / "-home-al-app" / f"{SESSION}.jsonl"
    _transcript(path, 44)
    lines = path.read_bytes().split(b"\n")
    path.write_bytes(b"\x00\x8b garbage from a crashed disk\n" + b"\n".join(lines[1:]))
    summary = ingest(ledger, tmp_path / "projects")
    assert ledger.execute("SELECT count(*) FROM requests").fetchone()[0] == 44
    assert (summary.files_new, summary.files_skipped, summary.rejects) == (1, 0, 1)
    assert ledger.execute("SELECT line_no, reason FROM rejects").fetchone() == (1, "not a JSON object")


def test_an_unknown_first_record_does_not_hide_the_rest_of_a_file(tmp_path, ledger):
    path = tmp_path / "logs" / "s.jsonl"
    _transcript(path, 3)
    path.write_bytes(json.dumps({"kind": "header", "format": 9}).encode() + b"\n" + path.read_bytes())
    ingest(ledger, tmp_path / "logs")
    assert ledger.execute("SELECT count(*) FROM requests").fetchone()[0] == 3


def test_a_fragment_without_newline_does_not_swallow_the_next_good_line(tmp_path, ledger):
    path = _transcript(tmp_path / "p" / "s.jsonl", 2)
    fragment = b'{"type":"assistant","message":{"id":"msg_cut","usage":{"input_tok'
    with path.open("ab") as handle:
        handle.write(fragment)  # the writer died here
    ingest(ledger, tmp_path)
    assert ledger.execute("SELECT count(*) FROM requests").fetchone()[0] == 2
    with path.open("ab") as handle:  # the agent restarted and appended complete lines
        handle.write(json.dumps(assistant(T0, "msg_next", "req_next", usage(7, 7), [text()])).encode() + b"\n")
        handle.write(json.dumps(assistant(T0, "msg_last", "req_last", usage(8, 8), [text()])).encode() + b"\n")
    summary = ingest(ledger, tmp_path)
    keys = {k for (k,) in ledger.execute("SELECT request_key FROM requests").fetchall()}
    assert {"msg_next:req_next", "msg_last:req_last"} <= keys and len(keys) == 4
    assert summary.rejects == 1
    line_no, line_bytes, reason = ledger.execute("SELECT line_no, line_bytes, reason FROM rejects").fetchone()
    assert (line_no, line_bytes) == (5, len(fragment))
    assert reason.startswith("incomplete line before a complete record (malformed JSON")


def test_ingest_of_a_path_that_does_not_exist_creates_no_ledger(tmp_path):
    db = tmp_path / "new" / "l.duckdb"
    result = _cli("ingest", str(tmp_path / "nowhere"), "--db", str(db))
    assert result.returncode == 2
    assert result.stderr.strip() == f"agentledger ingest: no such file or directory: {tmp_path / 'nowhere'}"
    assert not db.exists() and not db.parent.exists()


def test_a_folder_without_agent_logs_says_so_and_fails(tmp_path):
    empty, strangers, logs = tmp_path / "empty", tmp_path / "strangers", tmp_path / "logs"
    empty.mkdir()
    write_jsonl(strangers / "history.jsonl", [{"display": "a prompt", "project": "/x"}])
    _transcript(logs / "p" / "s.jsonl", 1)
    db = str(tmp_path / "l.duckdb")
    for folder in (empty, strangers):
        result = _cli("ingest", str(folder), "--db", db, "--user", "al")
        assert result.returncode == 2
        assert f"no agent logs found under {folder}" in result.stderr
    both = _cli("ingest", str(empty), str(logs), "--db", db, "--user", "al")
    assert both.returncode == 0, both.stderr
    assert f"no agent logs found under {empty}" in both.stderr
    again = _cli("ingest", str(logs), "--db", db, "--user", "al")  # unchanged logs are still logs
    assert again.returncode == 0 and "no agent logs" not in again.stderr
