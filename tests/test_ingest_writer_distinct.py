"""A batch's rows reach a table once per key: the first copy for first_wins tables, the last for
last_wins ones. Rows whose keys are all distinct pass through untouched (the writer checks their
keys' hashes instead of deduplicating every frame); a repeated key is deduplicated as always."""

from __future__ import annotations

import datetime as dt

import polars as pl

from ingest.records import TABLES, OtelRequest, ToolResult, columns
from ingest.writer import LedgerWriter, RunKeys, _distinct
from store.db import connect_writer
from store.sql import transaction

TS = dt.datetime(2026, 3, 1, 9, 30)


def _result(tool_use_id: str, result_bytes: int) -> ToolResult:
    return ToolResult(tool_use_id=tool_use_id, source="claude", session_id="s1", ts=TS, result_bytes=result_bytes)


def _otel(event_key: str, input_tokens: int) -> OtelRequest:
    return OtelRequest(event_key=event_key, ts=TS, input_tokens=input_tokens)


def test_distinct_keys_pass_through_as_the_same_frame():
    frame = columns(ToolResult, [_result("toolu_a", 1), _result("toolu_b", 2), _result("toolu_c", 3)])
    kept, hashes = _distinct(TABLES["tool_results"], frame, "first")
    assert kept is frame
    assert hashes.len() == 3


def test_a_repeated_key_keeps_the_first_copy_for_first_wins_and_the_last_for_last_wins():
    results = columns(ToolResult, [_result("toolu_a", 1), _result("toolu_b", 2), _result("toolu_a", 3)])
    kept, hashes = _distinct(TABLES["tool_results"], results, "first")
    assert kept.select("tool_use_id", "result_bytes").rows() == [("toolu_a", 1), ("toolu_b", 2)]
    assert hashes.len() == 2
    events = columns(OtelRequest, [_otel("e1", 10), _otel("e2", 20), _otel("e1", 30)])
    kept, _ = _distinct(TABLES["otel_requests"], events, "last")
    assert kept.select("event_key", "input_tokens").rows() == [("e2", 20), ("e1", 30)]


def _written(tmp_path, table: str, rows: list, run_keys: RunKeys | None) -> list[tuple]:
    con = connect_writer(tmp_path / f"{table}-{run_keys is not None}.duckdb")
    writer = LedgerWriter(con, 1, run_keys=run_keys)
    with transaction(con):
        writer._apply(TABLES[table], columns(TABLES[table].record, rows))
    key = TABLES[table].key[0]
    out = con.execute(f"SELECT {key}, {'result_bytes' if table == 'tool_results' else 'input_tokens'}"
                      f" FROM {table} ORDER BY {key}").fetchall()
    con.close()
    return out


def test_a_batch_repeating_a_key_stores_it_once_on_a_cold_and_on_a_warm_ledger(tmp_path):
    results = [_result("toolu_a", 1), _result("toolu_b", 2), _result("toolu_a", 3)]
    events = [_otel("e1", 10), _otel("e2", 20), _otel("e1", 30)]
    for run_keys in (None, RunKeys.of_empty_tables(TABLES)):
        assert _written(tmp_path, "tool_results", results, run_keys) == [("toolu_a", 1), ("toolu_b", 2)]
    for run_keys in (None, RunKeys.of_empty_tables(TABLES)):
        assert _written(tmp_path, "otel_requests", events, run_keys) == [("e1", 30), ("e2", 20)]


def test_hashes_handed_to_the_run_keys_are_the_kept_rows_keys():
    """After deduplication the run remembers the keys once, so the next batch repeating one is
    looked up (a hash counted twice would still be 'offered before', but never a missing one)."""
    results = columns(ToolResult, [_result("toolu_a", 1), _result("toolu_a", 2)])
    kept, hashes = _distinct(TABLES["tool_results"], results, "first")
    assert hashes.to_list() == kept.select("tool_use_id").hash_rows().to_list()
    assert pl.Series(hashes).n_unique() == 1
