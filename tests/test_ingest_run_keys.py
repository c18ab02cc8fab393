"""A run that starts on empty tables writes a batch of keys it has never offered without looking
them up (ingest/writer.py RunKeys); any key offered before, by an earlier batch of the run, goes
through the keyed statements. What is stored is the same either way."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from ingest.runner import IngestOptions, run_ingest
from ingest.settings import IngestSettings
from ingest.records import TABLES, EditLine, columns
from ingest.writer import LedgerWriter, RunKeys
from store.db import connect_writer
from store.ledger import HeldLedger
from store.sql import transaction
from tests.real_corpus import PROJECTS, available

pytestmark = pytest.mark.skipif(not available(), reason="needs ../shared/corpus")

# A real subagent transcript: 20 assistant lines of 6 messages, every line a sidechain.
AGENT = PROJECTS / "-src-deep-manifest" / "agent-c8d9b115.jsonl"
FACTS = ("requests", "tool_calls", "tool_results", "session_events", "agents", "edit_lines", "rejects", "source_files")
# Every file its own chunk and its own batch (one transaction each).
ONE_FILE_A_BATCH = IngestSettings(batch_bytes=1, chunk_bytes=1, parallel_min_bytes=1 << 40)


def _facts(db: Path) -> dict[str, list[str]]:
    con = connect_writer(db)
    out = {}
    for table in FACTS:
        names = [c[0] for c in con.execute(f"SELECT * FROM {table} LIMIT 0").description
                 if c[0] not in ("run_id", "last_seen_at", "first_run_id", "last_run_id")]
        out[table] = sorted(map(repr, con.execute(f"SELECT {', '.join(names)} FROM {table}").fetchall()))
    con.close()
    return out


def _ingest(logs: Path, db: Path) -> None:
    con = connect_writer(db)
    run_ingest(HeldLedger(con), IngestOptions(paths=[logs], user="dain", progress=False, settings=ONE_FILE_A_BATCH))
    con.close()


def _offers(monkeypatch, lookup_always: bool) -> list[tuple[str, bool]]:
    """Record every offer and its answer; `lookup_always`: answer False (the keyed statements
    every time, as a writer without RunKeys does)."""
    seen: list[tuple[str, bool]] = []
    offer = RunKeys.first_offer

    def recording(self, name, hashes):
        first = offer(self, name, hashes)
        first = first and not lookup_always
        seen.append((name, first))
        return first

    monkeypatch.setattr(RunKeys, "first_offer", recording)
    return seen


def _two_copies(tmp_path: Path, second: str) -> Path:
    logs = tmp_path / "logs"
    for folder, text in (("a", AGENT.read_text()), ("b", second)):
        (logs / folder).mkdir(parents=True)
        (logs / folder / AGENT.name).write_text(text)
    return logs


@pytest.mark.parametrize("second", ["same lines", "same messages under new request ids"])
def test_a_later_batch_repeating_a_key_is_looked_up_and_stored_as_without_run_keys(tmp_path, monkeypatch, second):
    """Two copies of one transcript, in two batches of one run on an empty ledger: the first
    batch is written without lookups, the second repeats its keys (or, with new request ids, only
    its message ids, which the sidechain rule merges on) and goes through the keyed statements.
    The ledger equals the one written with a lookup for every batch."""
    text = AGENT.read_text()
    if second != "same lines":
        assert text.count('"requestId":"req_') == 20
        text = text.replace('"requestId":"req_', '"requestId":"req_x')
    logs = _two_copies(tmp_path, text)

    with monkeypatch.context() as patch:
        _offers(patch, lookup_always=True)
        _ingest(logs, tmp_path / "looked-up.duckdb")
    offers = _offers(monkeypatch, lookup_always=False)
    _ingest(logs, tmp_path / "run-keys.duckdb")

    requests = [first for name, first in offers if name == "requests"]
    message_ids = [first for name, first in offers if name == "requests.message_id"]
    assert requests[0] and message_ids[0]                      # the first batch: nothing to look up
    assert not message_ids[1]                                  # the second repeats its message ids
    assert requests[1] == (second != "same lines")             # and, copied, its keys
    assert ("tool_calls", True) in offers and ("tool_calls", False) in offers
    looked_up, run_keys = _facts(tmp_path / "looked-up.duckdb"), _facts(tmp_path / "run-keys.duckdb")
    assert len(run_keys["requests"]) == 6                     # 20 lines of 6 messages, each stored once
    assert run_keys == looked_up


def test_a_ledger_with_rows_is_always_looked_up(tmp_path, monkeypatch):
    """A second run finds the tables filled by the first: every offer is answered by a lookup."""
    logs = _two_copies(tmp_path, AGENT.read_text())
    _ingest(logs / "a", tmp_path / "l.duckdb")
    offers = _offers(monkeypatch, lookup_always=False)
    _ingest(logs, tmp_path / "l.duckdb")
    assert offers and not any(first for name, first in offers if name in ("requests", "tool_calls", "source_files"))


def test_run_keys_remember_every_hash_offered_across_many_batches():
    """Hashes are kept in sorted runs merged like a binary counter; none is forgotten by a merge,
    and a table not empty at the start is never answered without a lookup."""
    keys = RunKeys.of_empty_tables(["tool_calls"])
    assert keys.first_offer("tool_calls", pl.Series([], dtype=pl.UInt64))
    for batch in range(37):
        assert keys.first_offer("tool_calls", pl.Series([batch * 1000 + i for i in range(batch + 1)], dtype=pl.UInt64))
    for batch in (0, 1, 17, 36):
        assert not keys.first_offer("tool_calls", pl.Series([10**9, batch * 1000 + batch], dtype=pl.UInt64))
    assert keys.first_offer("tool_calls", pl.Series([5 * 10**9, 2**63 + 7], dtype=pl.UInt64))
    assert not keys.first_offer("requests", pl.Series([1], dtype=pl.UInt64))
    assert set(RunKeys.of_empty_tables(["requests"])._seen) == {"requests", "requests.message_id"}


def test_a_hash_whose_bitmap_slot_is_taken_is_still_answered_exactly():
    """The bitmap in front of the sorted runs is indexed by a hash's top bits: hashes that share a
    slot with an offered one, but were never offered, are still answered not held (the runs settle
    it), across the bitmap's growth from 2**16 bits to ~2**19 for 40,000 hashes."""
    top = np.uint64(1 << 63)
    offered = (np.arange(40_000, dtype=np.uint64) * np.uint64(2**47)) | np.uint64(5)   # spread over the slots
    keys = RunKeys.of_empty_tables(["edit_lines"])
    for part in np.array_split(offered, 40):
        assert keys.first_offer("edit_lines", pl.Series(part))
    # The same slots (top bits), other low bits: never offered.
    strangers = offered + np.uint64(1)
    assert not keys.may_hold("edit_lines", pl.Series(strangers)).any()
    assert keys.may_hold("edit_lines", pl.Series(offered)).all()
    mixed = pl.Series(np.array([strangers[7], offered[39_999], top | np.uint64(3), offered[0]], dtype=np.uint64))
    assert keys.may_hold("edit_lines", mixed).to_list() == [False, True, False, True]
    assert keys.first_offer("edit_lines", pl.Series(strangers[:100]))
    assert not keys.first_offer("edit_lines", pl.Series(np.array([top | np.uint64(3), strangers[50]], dtype=np.uint64)))


def test_a_batch_sharing_only_a_first_key_column_value_goes_through_the_anti_join(tmp_path):
    """A first_wins batch is looked up by its key's first column alone: none stored, it is inserted
    as it is; one stored (an edit line of a call already stored, another line), the anti-join
    on the whole key decides row by row, and a row stored before is never stored twice."""
    con = connect_writer(tmp_path / "l.duckdb")
    writer, policy = LedgerWriter(con, run_id=1), TABLES["edit_lines"]

    def frame(rows):
        return columns(EditLine, [EditLine(tool_use_id=t, source="claude", file_path=f, line_hash=h) for t, f, h in rows])

    def offer(rows):
        with transaction(con):
            return writer._first_wins(policy, frame(rows))

    assert offer([("toolu_a", "x.py", "h1")]) == 1
    assert writer._may_be_stored(policy, frame([("toolu_a", "y.py", "h9")]))
    assert not writer._may_be_stored(policy, frame([("toolu_b", "x.py", "h1")]))
    assert offer([("toolu_a", "x.py", "h2"), ("toolu_a", "x.py", "h1")]) == 1   # h1 is stored already
    assert offer([("toolu_b", "x.py", "h1")]) == 1
    assert offer([("toolu_b", "x.py", "h1"), ("toolu_a", "x.py", "h2")]) == 0
    rows = con.execute("SELECT tool_use_id, file_path, line_hash FROM edit_lines ORDER BY ALL").fetchall()
    assert rows == [("toolu_a", "x.py", "h1"), ("toolu_a", "x.py", "h2"), ("toolu_b", "x.py", "h1")]
    con.close()
