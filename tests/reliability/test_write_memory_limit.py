"""The writer's part of an ingest's memory is bounded by DuckDB's memory_limit while it writes a
batch and while it lets the file go (a checkpoint); what DuckDB cannot fit under it is done again
without it, so the limit never makes a run fail nor changes a stored value."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

import store.db as store_db
from ingest.runner import IngestOptions, run_ingest
from ingest.writer import LedgerWriter
from store.db import connect_writer, open_ledger
from store.ledger import HeldLedger
from tests.real_corpus import PROJECTS, available

pytestmark = pytest.mark.skipif(not available(), reason="needs ../shared/corpus")

# Two real projects: several files, requests, tool calls, a few MB of lines.
FOLDERS = ("-Users-dain-workspace-coderabbit-review-helper", "-src-deep-manifest")
FACTS = ("requests", "tool_calls", "tool_results", "session_events", "agents", "edit_lines", "rejects", "source_files")


def _limit(con: duckdb.DuckDBPyConnection) -> str:
    return con.execute("SELECT current_setting('memory_limit')").fetchone()[0]


def _load(con: duckdb.DuckDBPyConnection) -> None:
    run_ingest(HeldLedger(con), IngestOptions(paths=[PROJECTS / f for f in FOLDERS], user="dain", progress=False))


def _facts(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    out = {}
    for table in FACTS:
        names = [c[0] for c in con.execute(f"SELECT * FROM {table} LIMIT 0").description
                 if c[0] not in ("run_id", "last_seen_at", "first_run_id", "last_run_id")]
        out[table] = sorted(map(repr, con.execute(f"SELECT {', '.join(names)} FROM {table}").fetchall()))
    return out


def _recording_writes(monkeypatch) -> list[str]:
    """The memory_limit each batch write started under (one entry per attempt)."""
    seen: list[str] = []
    write = LedgerWriter.write

    def recording(self, batch):
        seen.append(_limit(self.con))
        return write(self, batch)

    monkeypatch.setattr(LedgerWriter, "write", recording)
    return seen


def test_a_batch_is_written_under_the_write_memory_limit_and_the_connection_gets_its_own_back(tmp_path, monkeypatch):
    con = connect_writer(tmp_path / "l.duckdb")
    con.execute("SET memory_limit = '3GiB'")
    seen = _recording_writes(monkeypatch)
    monkeypatch.setattr(store_db, "WRITE_MEMORY_LIMIT", "77MiB")
    _load(con)
    assert seen and set(seen) == {"77.0 MiB"}
    assert _limit(con) == "3.0 GiB"
    assert con.execute("SELECT count(*) FROM requests").fetchone()[0] > 0
    con.close()


def test_a_batch_duckdb_cannot_write_under_the_limit_is_written_again_without_it(tmp_path, monkeypatch):
    plain = connect_writer(tmp_path / "plain.duckdb")
    _load(plain)
    expected = _facts(plain)
    plain.close()
    assert expected["requests"] and expected["tool_calls"]

    con = connect_writer(tmp_path / "l.duckdb")
    con.execute("SET memory_limit = '3GiB'")
    seen = _recording_writes(monkeypatch)
    monkeypatch.setattr(store_db, "WRITE_MEMORY_LIMIT", "77MiB")
    refused: list[str] = []
    link = LedgerWriter._link_tool_calls

    def refusing(self, batch):
        link(self, batch)
        if _limit(self.con) == "77.0 MiB":
            # After every table's insert in the transaction: DuckDB refuses an operator it cannot spill.
            refused.append(_limit(self.con))
            raise duckdb.OutOfMemoryException("Out of Memory Error: failed to pin block")

    monkeypatch.setattr(LedgerWriter, "_link_tool_calls", refusing)
    _load(con)
    assert refused and seen[:2] == ["77.0 MiB", "3.0 GiB"]   # refused under the limit, then written without it
    assert _facts(con) == expected                          # nothing of the refused attempt is left behind
    assert _limit(con) == "3.0 GiB"
    con.close()


def _wal(db: Path) -> Path:
    return Path(f"{db}.wal")


@pytest.mark.parametrize("refuse", [False, True], ids=["fits", "cannot fit"])
def test_letting_the_file_go_checkpoints_under_the_limit_or_else_without_it(tmp_path, monkeypatch, refuse):
    """The let-go checkpoint runs under the limit; one DuckDB cannot fit there is done without it,
    and either way the log of commits is merged into the file."""
    db = tmp_path / "l.duckdb"
    checkpoints: list[str] = []
    run_sql = store_db.run_sql

    def recording(con, sql, params=None):
        if sql == "CHECKPOINT":
            checkpoints.append(_limit(con))
            if refuse and checkpoints[-1] == "77.0 MiB":
                raise duckdb.OutOfMemoryException("Out of Memory Error: failed to pin block")
        return run_sql(con, sql, params)

    monkeypatch.setattr(store_db, "run_sql", recording)
    monkeypatch.setattr(store_db, "WRITE_MEMORY_LIMIT", "77MiB")
    with open_ledger(db) as ledger:
        with ledger.window() as con:
            con.execute("CREATE TABLE big AS SELECT range AS n, repeat('x', 64) || range AS pad FROM range(200000)")
            assert _wal(db).exists()
    assert not _wal(db).exists()
    assert checkpoints[0] == "77.0 MiB"
    assert len(checkpoints) == (2 if refuse else 1)
    if refuse:
        assert checkpoints[1] != "77.0 MiB"
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*), count(DISTINCT pad) FROM big").fetchone() == (200000, 200000)


def test_a_file_read_in_several_blocks_is_counted_once(tmp_path):
    """Large files come back for their next block in later rounds: only the first counts the file."""
    from ingest.settings import IngestSettings

    source = PROJECTS / FOLDERS[0]
    biggest = max(source.rglob("*.jsonl"), key=lambda p: p.stat().st_size)
    assert biggest.stat().st_size > 64 * 1024
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / biggest.name).write_bytes(biggest.read_bytes())
    con = connect_writer(tmp_path / "l.duckdb")
    summary = run_ingest(HeldLedger(con), IngestOptions(
        paths=[tmp_path / "logs"], user="dain", progress=False,
        settings=IngestSettings(read_block_bytes=16 * 1024, batch_bytes=32 * 1024, parallel_min_bytes=1 << 40)))
    assert (summary.files_seen, summary.files_new, summary.files_changed) == (1, 1, 0)
    assert con.execute("SELECT offset_loaded FROM source_files").fetchone()[0] == biggest.stat().st_size
    con.close()


def test_no_batch_outlives_its_write(tmp_path, monkeypatch):
    """What a batch held (records, frames, files' cursors) is freed once it is written: the run
    keeps nothing of it, so memory holds a batch or two whatever the corpus size."""
    import gc
    import weakref

    from ingest.runner import IngestRun
    from ingest.settings import IngestSettings

    written: list[weakref.ref] = []
    alive_at_flush: list[int] = []
    flush = IngestRun._flush

    def recording(self, pending, parsing_workers=0):
        gc.collect()
        alive_at_flush.append(sum(ref() is not None for ref in written))
        written.append(weakref.ref(pending))
        return flush(self, pending, parsing_workers)

    monkeypatch.setattr(IngestRun, "_flush", recording)
    con = connect_writer(tmp_path / "l.duckdb")
    run_ingest(HeldLedger(con), IngestOptions(
        paths=[PROJECTS / f for f in FOLDERS], user="dain", progress=False,
        settings=IngestSettings(batch_bytes=256 * 1024, chunk_bytes=64 * 1024, parallel_min_bytes=1 << 40)))
    con.close()
    assert len(written) > 3
    assert alive_at_flush == [0] * len(written)
