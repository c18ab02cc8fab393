"""A FileLedger that lets go of the file without vacuuming (store/db.py: a cold load's checkpoints)
leaves row groups that hold deleted rows as they are; one that vacuums merges them. What is stored
is the same either way, and the load turns vacuuming off only while it loads (ingest/runner.py)."""

import duckdb
import pytest

import ingest.runner as runner
from store.db import FileLedger

ROWS = 122_880  # DuckDB's row group


def _row_groups(path) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('t')").fetchone()[0]
    finally:
        con.close()


def _values(path) -> tuple:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT count(*), sum(i), min(i), max(i) FROM t").fetchone()
    finally:
        con.close()


@pytest.mark.parametrize("vacuum", [True, False])
def test_letting_go_without_vacuum_keeps_row_groups_with_deleted_rows(tmp_path, vacuum):
    path = tmp_path / "l.duckdb"
    ledger = FileLedger(path, 5.0)
    ledger.transact(lambda con: con.execute(f"CREATE TABLE t AS SELECT range AS i FROM range({3 * ROWS})"))
    ledger.close()
    assert _row_groups(path) == 3
    ledger = FileLedger(path, 5.0)
    ledger.vacuum = vacuum
    # Two thirds of the first two row groups go: what is left of them fits in one.
    ledger.transact(lambda con: con.execute(f"DELETE FROM t WHERE i < {2 * ROWS} AND i % 3 <> 0"))
    ledger.close()
    assert _values(path) == (ROWS + (2 * ROWS + 2) // 3, sum(range(0, 2 * ROWS, 3)) + sum(range(2 * ROWS, 3 * ROWS)),
                             0, 3 * ROWS - 1)
    assert _row_groups(path) == (2 if vacuum else 3)


def test_the_load_lets_go_without_vacuum_and_gives_it_back(tmp_path):
    ledger = FileLedger(tmp_path / "l.duckdb", 5.0)
    with runner._vacuum_after_the_load(ledger):
        assert ledger.vacuum is False
    assert ledger.vacuum is True
    with pytest.raises(RuntimeError):
        with runner._vacuum_after_the_load(ledger):
            raise RuntimeError("a batch failed")
    assert ledger.vacuum is True


def test_an_ingest_lets_go_without_vacuum_only_while_it_loads(tmp_path, monkeypatch):
    """Every window lets go (a memory bound of 0): the load's let-gos skip the vacuum, the start's
    and the end's do not."""
    from pathlib import Path

    import store.db as db
    from ingest.runner import IngestOptions, run_ingest

    seen = []
    let_go = db.FileLedger._let_go

    def recording(self):
        if self._held is not None:
            seen.append(self.vacuum)
        let_go(self)

    monkeypatch.setattr(db, "HELD_MEMORY_BYTES", 0)
    monkeypatch.setattr(db.FileLedger, "_let_go", recording)
    transcripts = Path(__file__).resolve().parent.parent / "sample_data" / "transcripts"
    with db.open_ledger(tmp_path / "l.duckdb") as ledger:
        summary = run_ingest(ledger, IngestOptions(paths=[transcripts], user_from_dir=True, progress=False,
                                                   batch_bytes=20_000))
        assert ledger.vacuum is True
    assert summary.requests_new > 0
    assert seen[0] is True and seen[-1] is True and False in seen
