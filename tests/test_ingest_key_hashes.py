"""The hashes the ledger keeps beside the keys the writer looks up (store/key_hashes.py, migration
014): a batch none of whose hashes is stored skips the lookup by key; a stored hash is only a maybe,
settled by the key, so what is stored never depends on them. Every path that inserts those rows
fills them with the same value: the writer, the OTel reconcile, the migration of an older ledger,
a copy from an older ledger."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest

from ingest.writer import LedgerWriter
from store.copy import copy_into
from store.db import connect_writer
from store.key_hashes import KEY_HASHES, key_hash, key_hash_sql
from tests.claude_lines import assistant, prompt, tool_result, tool_use, usage, write_jsonl
from tests.helpers import ingest
from tests.test_source_otel import api_request, logs, write_otel


def _turn(session: str, tool_id: str, msg_id: str, req_id: str, minute: int) -> list[dict]:
    """A prompt, a response calling Read, and its result."""
    at = f"2026-01-16T09:{minute:02d}:00.000Z"
    return [prompt(at, "read it", session=session),
            assistant(at, msg_id, req_id, usage(10, 20), [tool_use(tool_id, "Read", {"file_path": "/work/app/a.py"})],
                      stop_reason="tool_use", session=session),
            tool_result(at, tool_id, "1\tprint('hi')", session=session)]


def _stored_hashes(con) -> dict[str, list[tuple]]:
    """(key, stored hash) of every row, per hash column."""
    return {f"{table}.{name}": con.execute(f"SELECT {key}, {name} FROM {table} ORDER BY ALL").fetchall()
            for table, hashes in KEY_HASHES.items() for name, key in hashes.items()}


def _assert_hashes_of_keys(con) -> None:
    for column, rows in _stored_hashes(con).items():
        assert rows, column
        for key, stored in rows:
            assert stored == (None if key is None else key_hash(key)), (column, key)


def _facts(con) -> dict[str, list[str]]:
    """Every row of the tables with key hashes, hashes included (run ids aside)."""
    out = {}
    for table in KEY_HASHES:
        names = [c[0] for c in con.execute(f"SELECT * FROM {table} LIMIT 0").description if c[0] != "run_id"]
        out[table] = sorted(map(repr, con.execute(f"SELECT {', '.join(names)} FROM {table}").fetchall()))
    return out


@pytest.fixture
def answers(monkeypatch) -> list[tuple[str, bool]]:
    """What every hash lookup of the writer answered: (table, maybe stored)."""
    seen: list[tuple[str, bool]] = []
    lookup = LedgerWriter._hashes_may_be_stored

    def recording(self, table, frame):
        answer = lookup(self, table, frame)
        seen.append((table, answer))
        return answer

    monkeypatch.setattr(LedgerWriter, "_hashes_may_be_stored", recording)
    return seen


def test_the_stored_hash_is_the_first_16_hex_digits_of_md5_the_same_in_sql_and_in_python():
    # MD5("abc") = 900150983cd24fb0d6963f7d28e17f72 (RFC 1321, appendix A.5).
    assert key_hash("abc") == 0x900150983CD24FB0 == 10376663631224000432
    odd = ["abc", "", "it's", "naïve", "\U0001F600 grin", "a\nb", "toolu_01RwrE7ebeZ06EX8MPuehpze", "x" * 10_000]
    con = duckdb.connect()
    got = con.execute(f"SELECT k, {key_hash_sql('k')} FROM unnest(?::VARCHAR[]) t(k)", [odd]).fetchall()
    assert dict(got) == {key: key_hash(key) for key in odd}
    assert con.execute(f"SELECT {key_hash_sql('NULL::VARCHAR')}").fetchone() == (None,)


def test_the_hashes_answer_no_for_new_keys_and_maybe_for_stored_ones(ledger, tmp_path):
    ingest(ledger, write_jsonl(tmp_path / "p/s1.jsonl", _turn("s1", "toolu_a", "msg_a", "req_a", 0)))
    assert ledger.execute("SELECT request_key, message_id FROM requests").fetchall() == [("msg_a:req_a", "msg_a")]
    (event_key,) = ledger.execute("SELECT event_key FROM session_events").fetchone()
    may = LedgerWriter(ledger, run_id=99)._hashes_may_be_stored

    def requests(key, message_id):
        return pl.DataFrame({"request_key": [key], "message_id": [message_id]},
                            schema={"request_key": pl.String, "message_id": pl.String})

    for table in ("tool_calls", "tool_results"):
        assert may(table, pl.DataFrame({"tool_use_id": ["toolu_b", "toolu_a"]}))
        assert not may(table, pl.DataFrame({"tool_use_id": ["toolu_b", "toolu_c"]}))
    assert may("session_events", pl.DataFrame({"event_key": [event_key]}))
    assert not may("session_events", pl.DataFrame({"event_key": [event_key + "x"]}))
    assert may("requests", requests("msg_a:req_a", None))          # the key is stored
    assert may("requests", requests("msg_a:req_z", "msg_a"))       # another request of a stored message
    assert not may("requests", requests("msg_b:req_b", "msg_b"))
    assert not may("requests", requests("msg_b:req_b", None))      # no message id: the key alone decides
    assert may("edit_lines", pl.DataFrame({"tool_use_id": ["toolu_b"]}))  # no hashes kept: always a maybe
    _assert_hashes_of_keys(ledger)


def test_a_hash_shared_by_another_key_is_settled_by_the_key(ledger, tmp_path, answers):
    """The stored rows are given the hashes of the next session's keys (a collision, made by hand):
    the hashes say maybe, the lookup by key finds nothing, and the new rows are stored, once."""
    ingest(ledger, write_jsonl(tmp_path / "a/s1.jsonl", _turn("s1", "toolu_a", "msg_a", "req_a", 0)))
    ledger.execute("UPDATE tool_calls SET tool_use_hash = ?", [key_hash("toolu_b")])
    ledger.execute("UPDATE tool_results SET tool_use_hash = ?", [key_hash("toolu_b")])
    ledger.execute("UPDATE requests SET request_key_hash = ?, message_id_hash = ?",
                   [key_hash("msg_b:req_b"), key_hash("msg_b")])
    answers.clear()
    ingest(ledger, write_jsonl(tmp_path / "b/s2.jsonl", _turn("s2", "toolu_b", "msg_b", "req_b", 5)))
    assert ("requests", True) in answers and ("tool_calls", True) in answers and ("tool_results", True) in answers
    assert ledger.execute("SELECT request_key, message_id FROM requests ORDER BY 1").fetchall() == [
        ("msg_a:req_a", "msg_a"), ("msg_b:req_b", "msg_b")]
    assert ledger.execute("SELECT tool_use_id FROM tool_calls ORDER BY 1").fetchall() == [("toolu_a",), ("toolu_b",)]
    assert ledger.execute("SELECT tool_use_id FROM tool_results ORDER BY 1").fetchall() == [("toolu_a",), ("toolu_b",)]


def test_a_resumed_session_repeating_ids_in_another_file_is_stored_once(tmp_path, answers):
    """A resumed session's file starts with a copy of the first one's turn (same message, request
    and tool ids) and adds its own. Read in a later run the copy's hashes are found (a maybe) and
    the keys decide: the ledger equals the one that read both files in one run."""
    first = _turn("s1", "toolu_a", "msg_a", "req_a", 0)
    resumed = [dict(line, sessionId="s2") for line in first] + _turn("s2", "toolu_b", "msg_b", "req_b", 5)
    logs_dir = tmp_path / "logs"
    write_jsonl(logs_dir / "p" / "s1.jsonl", first)
    write_jsonl(logs_dir / "p" / "s2.jsonl", resumed)

    two_runs = connect_writer(tmp_path / "two.duckdb")
    ingest(two_runs, logs_dir / "p" / "s1.jsonl")
    answers.clear()
    ingest(two_runs, logs_dir / "p" / "s2.jsonl")
    assert ("tool_calls", True) in answers and ("requests", True) in answers
    one_run = connect_writer(tmp_path / "one.duckdb")
    ingest(one_run, logs_dir)

    assert two_runs.execute("SELECT count(*) FROM requests").fetchone() == (2,)
    assert two_runs.execute("SELECT count(*) FROM tool_calls").fetchone() == (2,)
    assert _facts(two_runs) == _facts(one_run)
    _assert_hashes_of_keys(two_runs)
    two_runs.close()
    one_run.close()


def test_bad_lines_and_odd_ids_keep_hashes_equal_to_their_keys(ledger, tmp_path):
    odd = "toolu_it's-na\u00efve-\U0001F600"
    path = write_jsonl(tmp_path / "p/s1.jsonl", ["{not json", *_turn("s1", odd, "msg_\u00e9", "req_'", 0), b"\xff\xfe"])
    summary = ingest(ledger, path)
    assert summary.rejects == 2
    assert ledger.execute("SELECT tool_use_id FROM tool_calls").fetchall() == [(odd,)]
    _assert_hashes_of_keys(ledger)


def _drop_hashes(con) -> None:
    """Make `con` a ledger as the release before the key hashes left it."""
    for table, hashes in KEY_HASHES.items():
        for name in hashes:
            con.execute(f"ALTER TABLE {table} DROP COLUMN {name}")
    con.execute("DELETE FROM schema_migrations WHERE version = 14")


def test_an_older_ledger_migrated_or_copied_gets_the_hashes_fresh_rows_get(tmp_path):
    """Transcript rows and an OTel-only request (the reconcile's own insert): their hashes, stored
    as they were written, equal those the migration computes for a ledger older than them, and
    those a copy from such a ledger computes."""
    write_jsonl(tmp_path / "logs/p/s1.jsonl", _turn("s1", "toolu_a", "msg_a", "req_a", 0))
    write_otel(tmp_path / "logs/otel/l.json", [logs([api_request("req_only_otel")])])
    con = connect_writer(tmp_path / "old.duckdb")
    ingest(con, tmp_path / "logs")
    fresh = _stored_hashes(con)
    assert ("otel:req_only_otel", key_hash("otel:req_only_otel")) in [
        (k, h) for k, h in fresh["requests.request_key_hash"]]
    _assert_hashes_of_keys(con)
    _drop_hashes(con)
    con.close()

    copy = connect_writer(tmp_path / "copy.duckdb")
    copy_into(copy, tmp_path / "old.duckdb")           # a source without the hashes
    assert _stored_hashes(copy) == fresh
    copy.close()

    con = connect_writer(tmp_path / "old.duckdb")      # migrates
    assert con.execute("SELECT name FROM schema_migrations WHERE version = 14").fetchone() == ("key_hashes",)
    assert _stored_hashes(con) == fresh
    con.close()
