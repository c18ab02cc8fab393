"""Incremental, idempotent, nothing lost: the manifest and the append-only ledger."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from ingest.manifest import HEAD_BYTES
from tests.claude_lines import assistant, prompt, tool_result, tool_use, usage, write_jsonl
from tests.helpers import ingest, shared_dir, totals

PROJECTS = shared_dir() / "corpus/iansherr__claude-code-log/test/test_data/real_projects"


def _session(n: int, start: int = 0) -> list[dict]:
    lines = []
    for i in range(start, start + n):
        lines.append(prompt(f"2026-03-01T10:{i:02d}:00.000Z", f"step {i}"))
        lines.append(assistant(f"2026-03-01T10:{i:02d}:05.000Z", f"msg_{i}", f"req_{i}", usage(1, 10 * (i + 1), 100, 1000),
                               [tool_use(f"toolu_{i}", "Bash", {"command": f"echo {i}"})]))
        lines.append(tool_result(f"2026-03-01T10:{i:02d}:06.000Z", f"toolu_{i}", f"{i}\n"))
    return lines


def _table_counts(con) -> dict[str, int]:
    tables = ["requests", "tool_calls", "tool_results", "session_events", "rejects", "source_files"]
    return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


def test_rerun_changes_nothing(tmp_path, ledger):
    write_jsonl(tmp_path / "p" / "s1.jsonl", _session(5))
    ingest(ledger, tmp_path)
    before = (_table_counts(ledger), totals(ledger))
    summary = ingest(ledger, tmp_path)
    assert (_table_counts(ledger), totals(ledger)) == before
    assert summary.files_unchanged == 1 and summary.lines == 0 and summary.bytes_read == 0


def test_rerun_on_the_real_corpus_changes_nothing(ledger):
    ingest(ledger, PROJECTS)
    before = (_table_counts(ledger), totals(ledger))
    second = ingest(ledger, PROJECTS)
    assert (_table_counts(ledger), totals(ledger)) == before
    assert second.files_unchanged == second.files_seen == 99


# What only a run that reads (or derives, or loads a lake or shipped batches) needs: a scheduled run
# with nothing new must not pay for importing them (pydantic-settings and Polars alone were half of
# it; the parsers a tenth; the batch, the file reader, msgspec and the process pool a tenth more).
READERS_ONLY = ("analytics", "concurrent.futures.process", "ingest.batch", "ingest.claude.parser", "ingest.file_reader",
                "loky", "msgspec", "polars", "pydantic", "pydantic_settings", "tqdm")


def _cli_ingest_loads(logs, db) -> tuple[str, list[str]]:
    """`agentledger ingest` in a process of its own: (its summary line, which of READERS_ONLY it imported)."""
    code = ("import sys\nfrom agentledger.cli import run\n"
            f"sys.argv = ['agentledger', 'ingest', {str(logs)!r}, '--user', 'alice', '--db', {str(db)!r}]\n"
            "assert run() == 0\n"
            f"print('loaded:' + ','.join(m for m in {READERS_ONLY!r} if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    summary, loaded = result.stdout.splitlines()
    return summary, [m for m in loaded.removeprefix("loaded:").split(",") if m]


def test_a_run_with_nothing_new_imports_nothing_only_reading_needs(tmp_path):
    write_jsonl(tmp_path / "logs" / "p" / "s1.jsonl", _session(3))
    summary, loaded = _cli_ingest_loads(tmp_path / "logs", tmp_path / "ledger.duckdb")
    # The check sees them when they are used (one small file is read without a pool of workers: no loky).
    assert "1 new" in summary and loaded == [m for m in READERS_ONLY if m != "loky"]
    summary, loaded = _cli_ingest_loads(tmp_path / "logs", tmp_path / "ledger.duckdb")
    assert "1 unchanged" in summary and loaded == []


def test_grown_file_is_read_from_the_stored_offset(tmp_path, ledger):
    lines = _session(3)
    path = write_jsonl(tmp_path / "s1.jsonl", lines)
    first = ingest(ledger, tmp_path)
    size_after_first = path.stat().st_size
    write_jsonl(path, lines + _session(2, start=3))
    second = ingest(ledger, tmp_path)
    assert second.files_changed == 1
    assert second.bytes_read == path.stat().st_size - size_after_first
    assert second.lines == 6 and first.lines == 9
    assert ledger.execute("SELECT count(*) FROM requests").fetchone()[0] == 5
    assert totals(ledger) == (5, 150, 500, 5000)


def test_incomplete_last_line_waits_until_complete(tmp_path, ledger):
    lines = _session(2)
    path = write_jsonl(tmp_path / "s1.jsonl", lines[:-1])
    with path.open("ab") as handle:
        handle.write(b'{"type":"user","half":')  # the agent is still writing this line
    ingest(ledger, tmp_path)
    assert ledger.execute("SELECT count(*) FROM rejects").fetchone()[0] == 0
    assert ledger.execute("SELECT count(*) FROM tool_results").fetchone()[0] == 1
    write_jsonl(path, lines)
    ingest(ledger, tmp_path)
    assert ledger.execute("SELECT count(*) FROM tool_results").fetchone()[0] == 2
    assert ledger.execute("SELECT count(*) FROM rejects").fetchone()[0] == 0
    offset = ledger.execute("SELECT offset_loaded, size FROM source_files").fetchone()
    assert offset[0] == offset[1]


def test_shrunk_or_rewritten_file_loses_nothing(tmp_path, ledger):
    path = write_jsonl(tmp_path / "s1.jsonl", _session(4))
    ingest(ledger, tmp_path)
    before = totals(ledger)
    # Claude Code rewrote the file on resume: shorter, different head.
    write_jsonl(path, _session(1, start=2))
    summary = ingest(ledger, tmp_path)
    assert summary.files_changed == 1
    assert totals(ledger) == before
    # Then it grows again with genuinely new work, which is added once.
    write_jsonl(path, _session(1, start=2) + _session(1, start=9))
    ingest(ledger, tmp_path)
    assert totals(ledger) == (5, before[1] + 100, 500, 5000)


def test_same_size_rewrite_with_a_new_head_is_reread(tmp_path, ledger):
    path = write_jsonl(tmp_path / "s1.jsonl", _session(2))
    ingest(ledger, tmp_path)
    data = path.read_bytes().replace(b"step 0", b"step X")
    path.write_bytes(data)
    os.utime(path, ns=(1, 1))
    summary = ingest(ledger, tmp_path)
    assert summary.files_changed == 1 and summary.lines == 6


def test_a_file_truncated_and_regrown_to_its_size_is_reread(tmp_path, ledger):
    lines = _session(20)
    path = write_jsonl(tmp_path / "s1.jsonl", lines)
    ingest(ledger, tmp_path)
    before = totals(ledger)
    # Cut back to its first 15 steps, then written on with other work: the same size and the same
    # first 4 KB (all the head hash covers), so only the changed mtime tells it from the old file.
    data = path.read_bytes()
    regrown = data.replace(b'"msg_18"', b'"msg_R8"').replace(b'"req_18"', b'"req_R8"')
    assert len(regrown) == len(data) and regrown[:HEAD_BYTES] == data[:HEAD_BYTES]
    os.truncate(path, len(data) // 2)
    path.write_bytes(regrown)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # a clock tick later, whatever the fs
    summary = ingest(ledger, tmp_path)
    assert summary.files_changed == 1 and summary.lines == len(lines)
    # Read whole again: the work it lost stays, the new request is added once, nothing twice.
    assert ledger.execute("SELECT count(*) FROM requests").fetchone()[0] == 21
    assert totals(ledger) == (21, before[1] + 190, 2100, 21000)
    assert ingest(ledger, tmp_path).files_unchanged == 1


def test_a_touched_file_of_the_same_size_loses_and_doubles_nothing(tmp_path, ledger):
    path = write_jsonl(tmp_path / "s1.jsonl", _session(20))
    ingest(ledger, tmp_path)
    before = (_table_counts(ledger), totals(ledger))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert ingest(ledger, tmp_path).files_changed == 1
    assert (_table_counts(ledger), totals(ledger)) == before


def test_deleted_source_files_keep_their_spend(tmp_path, ledger):
    folder = tmp_path / "projects"
    write_jsonl(folder / "p" / "s1.jsonl", _session(3))
    ingest(ledger, folder)
    before = totals(ledger)
    shutil.rmtree(folder / "p")
    summary = ingest(ledger, folder)
    assert totals(ledger) == before
    assert summary.files_missing == 1
    assert ledger.execute("SELECT missing FROM source_files").fetchone() == (True,)


def test_a_file_that_comes_back_unchanged_is_no_longer_missing(tmp_path, ledger):
    path = write_jsonl(tmp_path / "projects" / "p" / "s1.jsonl", _session(3))
    ingest(ledger, tmp_path / "projects")
    saved, stat = path.read_bytes(), path.stat()
    path.unlink()
    assert ingest(ledger, tmp_path / "projects").files_missing == 1
    path.write_bytes(saved)                                   # restored from a backup, as it was
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    summary = ingest(ledger, tmp_path / "projects")
    assert summary.files_unchanged == 1 and summary.files_missing == 0 and summary.lines == 0
    assert ledger.execute("SELECT missing FROM source_files").fetchone() == (False,)


def test_a_run_marks_missing_only_the_files_under_its_own_paths(tmp_path, ledger):
    # Two jobs feed one ledger; the second folder's name starts with the first's.
    ours, other = tmp_path / "projects", tmp_path / "projects-old"
    write_jsonl(ours / "p" / "s1.jsonl", _session(2))
    gone = write_jsonl(other / "p" / "s2.jsonl", _session(2, start=2))
    ingest(ledger, ours)
    ingest(ledger, other)
    gone.unlink()
    assert ingest(ledger, ours).files_missing == 0   # it never looks under projects-old
    assert ingest(ledger, other).files_missing == 1
    assert ledger.execute("SELECT path LIKE '%projects-old%' FROM source_files WHERE missing").fetchall() == [(True,)]


def test_every_row_knows_the_run_that_wrote_it(tmp_path, ledger):
    lines = _session(2)
    path = write_jsonl(tmp_path / "s1.jsonl", lines[:3])
    ingest(ledger, tmp_path)
    write_jsonl(path, lines)
    ingest(ledger, tmp_path)
    runs = ledger.execute("SELECT run_id, request_key FROM requests ORDER BY request_key").fetchall()
    assert runs == [(1, "msg_0:req_0"), (2, "msg_1:req_1")]
    recorded = ledger.execute("SELECT run_id, status, files_new, files_changed, requests_new FROM ingest_runs ORDER BY run_id").fetchall()
    assert recorded == [(1, "ok", 1, 0, 1), (2, "ok", 0, 1, 1)]


def test_user_from_dir_takes_the_first_folder_below_the_root(tmp_path, ledger):
    write_jsonl(tmp_path / "bob" / ".claude" / "projects" / "p" / "s1.jsonl", _session(1))
    write_jsonl(tmp_path / "carol" / "projects" / "p" / "s2.jsonl", _session(1, start=5))
    ingest(ledger, tmp_path, user=None, user_from_dir=True)
    users = ledger.execute("SELECT DISTINCT user_name FROM requests ORDER BY 1").fetchall()
    assert users == [("bob",), ("carol",)]


def test_opt_in_stores_prompt_text_otherwise_only_length_and_hash(tmp_path, ledger, db_path):
    write_jsonl(tmp_path / "s1.jsonl", [prompt("2026-03-01T10:00:00.000Z", "refactor the parser")])
    ingest(ledger, tmp_path)
    assert ledger.execute("SELECT prompt_text, prompt_length FROM session_events").fetchone() == (None, 19)
    write_jsonl(tmp_path / "s2.jsonl", [prompt("2026-03-01T11:00:00.000Z", "second", session="s2")])
    ingest(ledger, tmp_path / "s2.jsonl", store_prompts=True)
    assert ledger.execute("SELECT prompt_text FROM session_events WHERE session_id = 's2'").fetchone() == ("second",)


def test_collector_root_files_that_are_not_logs_are_not_failures_of_user_from_dir(tmp_path, ledger):
    write_jsonl(tmp_path / "bob" / "projects" / "p" / "s1.jsonl", _session(1))
    (tmp_path / "ground_truth.json").write_text('{"sessions": []}')
    first = ingest(ledger, tmp_path, user=None, user_from_dir=True)
    second = ingest(ledger, tmp_path, user=None, user_from_dir=True)
    assert (first.files_new, first.files_skipped, first.files_failed) == (1, 1, 0)
    assert (second.files_unchanged, second.files_failed) == (2, 0)  # the stranger now costs a stat


def test_a_log_directly_at_the_root_with_user_from_dir_is_reported(tmp_path, ledger):
    write_jsonl(tmp_path / "s1.jsonl", _session(1))
    summary = ingest(ledger, tmp_path, user=None, user_from_dir=True)
    assert summary.files_failed == 1 and totals(ledger) == (0, 0, 0, 0)
    reason = ledger.execute("SELECT reason FROM rejects").fetchone()[0]
    assert reason.startswith("--user-from-dir:") and "ROOT/<user>/" in reason


def test_line_numbers_continue_across_incremental_reads(tmp_path, ledger):
    lines = _session(2)                       # 6 lines
    path = write_jsonl(tmp_path / "s1.jsonl", lines)
    ingest(ledger, tmp_path)
    assert ledger.execute("SELECT lines_loaded FROM source_files").fetchall() == [(6,)]
    write_jsonl(path, lines + [prompt("2026-03-01T11:00:00.000Z", "more"), "{broken", ""] + _session(1, start=7))
    ingest(ledger, tmp_path)
    # The broken line is line 8 of the file, whatever run read it; the blank line 9 still counts.
    assert ledger.execute("SELECT line_no FROM rejects").fetchall() == [(8,)]
    assert ledger.execute("SELECT lines_loaded FROM source_files").fetchall() == [(12,)]
    last_request_line = ledger.execute("SELECT max(line_no) FROM requests").fetchone()[0]
    assert last_request_line == 11


def test_a_path_holding_only_unchanged_files_that_are_not_logs_still_has_no_logs(tmp_path, ledger):
    # The second run finds every file unchanged: whether a PATH held a log is then known from the
    # manifest alone (a stranger, here Claude Code's prompt history, is stored as unrecognised).
    logs, strangers = tmp_path / "logs", tmp_path / "strangers"
    write_jsonl(logs / "p" / "s1.jsonl", _session(2))
    write_jsonl(strangers / "history.jsonl", [{"display": "a prompt", "project": "/x"}])
    first = ingest(ledger, logs, strangers)
    assert (first.files_new, first.files_skipped, first.empty_roots) == (1, 1, [str(strangers)])
    again = ingest(ledger, logs, strangers)
    assert (again.files_unchanged, again.files_seen, again.empty_roots) == (2, 2, [str(strangers)])
    assert ingest(ledger, strangers, logs).empty_roots == [str(strangers)]  # whichever PATH comes first


def test_the_start_window_reads_the_manifest_on_one_thread_and_gives_the_connection_its_own_back(
        tmp_path, ledger, monkeypatch):
    import ingest.runner as runner

    write_jsonl(tmp_path / "p" / "s1.jsonl", _session(2))
    ledger.execute("SET threads = 3")
    seen = []
    load_known = runner.load_known

    def spy(con):
        seen.append(con.execute("SELECT current_setting('threads')").fetchone()[0])
        return load_known(con)

    monkeypatch.setattr(runner, "load_known", spy)
    ingest(ledger, tmp_path)
    assert ingest(ledger, tmp_path).files_unchanged == 1   # a no-op: the run is its start window alone
    assert seen == [1, 1]
    assert ledger.execute("SELECT current_setting('threads')").fetchone()[0] == 3
