"""A migration's backfill (store/migrations/__init__.py; 014's key hashes): the UPDATEs after its
mark run over ranges of rows, each committed, under a memory limit, and the migration is recorded
only when no row is left. A run killed anywhere in the upgrade leaves a ledger the next run finishes
with exactly the values an uninterrupted upgrade gives; a ledger already upgraded is never touched."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

import store.migrations as migrations
from sample_data.paths import committed_transcripts_dir
from store import lake as lake_store
from store.db import connect_writer, open_ledger
from store.key_hashes import KEY_HASHES
from store.migrations import apply_migrations, split_backfill
from tests.helpers import ingest
from tests.test_ingest_key_hashes import _drop_hashes, _facts

REPO = Path(__file__).resolve().parents[1]
# Small ranges, so that the sample's few hundred rows per table take several transactions.
RANGE_ROWS = 64


def _old_ledger(path: Path) -> dict[str, list[str]]:
    """The committed sample ingested, then made a ledger of the release before 014; returns every
    row of the hashed tables as the ingest stored them (hashes computed on insert)."""
    con = connect_writer(path)
    ingest(con, committed_transcripts_dir())
    facts = _facts(con)
    assert all(len(rows) > RANGE_ROWS for table, rows in facts.items() if table != "session_events"), \
        {t: len(r) for t, r in facts.items()}
    _drop_hashes(con)
    con.close()
    return facts


def _hash_columns(path: Path) -> tuple[bool, dict[str, tuple[int, int]]]:
    """Whether 014 is recorded, and per hash column (rows with a key, rows whose hash is filled)."""
    con = duckdb.connect(str(path))
    try:
        recorded = bool(con.execute("SELECT count(*) FROM schema_migrations WHERE version = 14").fetchone()[0])
        present = {c for (c,) in con.execute("SELECT column_name FROM duckdb_columns()").fetchall()}
        filled = {}
        for table, hashes in KEY_HASHES.items():
            for name, key in hashes.items():
                if name in present:
                    filled[f"{table}.{name}"] = con.execute(
                        f"SELECT count({key}), count({name}) FROM {table}").fetchone()
        return recorded, filled
    finally:
        con.close()


def _filled_by_ranges(ranges: int, keys: list[int]) -> list[int]:
    """Rows filled per table, in the migration's order, once `ranges` ranges are committed (the
    sample's rowids run from 0 without gaps)."""
    filled = []
    for count in keys:
        taken = min(ranges, -(-count // RANGE_ROWS))
        filled.append(min(taken * RANGE_ROWS, count))
        ranges -= taken
    return filled


# A migration of a ledger older than 014 whose process dies (kill -9) at a point of the upgrade:
# after the Nth schema statement, after the Nth committed range, or in the last transaction (the
# one that records 014) just before its commit.
_KILLED = textwrap.dedent("""
    import os, signal, sys
    import store.migrations as m

    where, left = sys.argv[1], [int(sys.argv[2])]
    m.BACKFILL_ROWS = int(sys.argv[4])

    def die_after(real):
        def wrapped(*args, **kwargs):
            result = real(*args, **kwargs)
            left[0] -= 1
            if left[0] <= 0:
                os.kill(os.getpid(), signal.SIGKILL)
            return result
        return wrapped

    if where == "schema":
        m._once = die_after(m._once)
    elif where == "range":
        m._fill = die_after(m._fill)
    else:
        m.commit = lambda con: os.kill(os.getpid(), signal.SIGKILL)
    from store.db import connect_writer
    connect_writer(sys.argv[3])
""")


@pytest.mark.parametrize("where, nth", [("schema", 2), ("range", 1), ("range", 5), ("record", 1)])
def test_a_run_killed_during_the_upgrade_leaves_a_ledger_the_next_run_finishes(tmp_path, where, nth):
    db = tmp_path / "old.duckdb"
    stored = _old_ledger(db)
    script = tmp_path / "killed.py"
    script.write_text(_KILLED)
    killed = subprocess.run([sys.executable, str(script), where, str(nth), str(db), str(RANGE_ROWS)],
                            capture_output=True, text=True, timeout=300, cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    recorded, filled = _hash_columns(db)
    assert not recorded
    if where == "schema":          # two of the five columns added, none filled
        assert sorted(filled) == ["requests.message_id_hash", "requests.request_key_hash"]
        assert all(hashed == 0 for _, hashed in filled.values())
    elif where == "range":         # the ranges committed before the kill stay filled, the rest is left
        firsts = [f"{table}.{next(iter(hashes))}" for table, hashes in KEY_HASHES.items()]
        assert [filled[c][1] for c in firsts] == _filled_by_ranges(nth, [filled[c][0] for c in firsts])
        assert any(hashed < keys for keys, hashed in filled.values())
    else:                          # every range committed; only the record was lost
        assert all(hashed == keys for keys, hashed in filled.values())

    con = connect_writer(db)       # the next run
    try:
        assert con.execute("SELECT version, name FROM schema_migrations WHERE version = 14").fetchall() == [
            (14, "key_hashes")]
        assert _facts(con) == stored
    finally:
        con.close()


def test_the_backfill_commits_range_by_range_and_what_the_ranges_miss_is_filled_before_the_record(
        tmp_path, monkeypatch):
    db = tmp_path / "old.duckdb"
    stored = _old_ledger(db)
    monkeypatch.setattr(migrations, "BACKFILL_ROWS", RANGE_ROWS)
    committed: list[tuple[str, int, int]] = []
    real_fill, real_ranges = migrations._fill, migrations._ranges

    def fill(con, backfill, low, high):
        real_fill(con, backfill, low, high)
        committed.append((backfill[0], low, high))

    # The last range of each table is left out: as if rows arrived after the ranges were taken.
    monkeypatch.setattr(migrations, "_fill", fill)
    monkeypatch.setattr(migrations, "_ranges", lambda con, backfill: real_ranges(con, backfill)[:-1])
    con = connect_writer(db)
    try:
        requests = len(stored["requests"])
        spans = [(low, high) for table, low, high in committed if table == "requests"]
        assert spans == [(n * RANGE_ROWS, (n + 1) * RANGE_ROWS) for n in range((requests - 1) // RANGE_ROWS)]
        assert _facts(con) == stored
    finally:
        con.close()


def test_the_upgrade_runs_under_the_memory_limit_and_gives_the_connection_its_own_back(tmp_path, monkeypatch):
    db = tmp_path / "old.duckdb"
    _old_ledger(db)
    seen: list[str] = []
    real_fill = migrations._fill

    def fill(con, backfill, low, high):
        seen.append(con.execute("SELECT current_setting('memory_limit')").fetchone()[0])
        real_fill(con, backfill, low, high)

    monkeypatch.setattr(migrations, "_fill", fill)
    con = duckdb.connect(str(db))
    con.execute("SET memory_limit = '3GiB'")
    try:
        assert apply_migrations(con) == ["key_hashes"]
        assert seen and set(seen) == {"128.0 MiB"}
        assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == "3.0 GiB"
    finally:
        con.close()


def test_a_ledger_already_upgraded_is_never_touched_again(tmp_path, monkeypatch):
    """A stored hash changed by hand and a hash emptied by hand stay as they are: nothing of 014
    runs again (a backfill would refill the empty one)."""
    db = tmp_path / "new.duckdb"
    con = connect_writer(db)
    ingest(con, committed_transcripts_dir())
    con.execute("UPDATE tool_calls SET tool_use_hash = 12345 WHERE rowid = 0")
    con.execute("UPDATE tool_calls SET tool_use_hash = NULL WHERE rowid = 1")
    con.close()
    ran: list[str] = []
    monkeypatch.setattr(migrations, "_once", lambda *args: ran.append("schema"))
    monkeypatch.setattr(migrations, "_fill", lambda *args: ran.append("range"))
    with open_ledger(db) as ledger:
        with ledger.window() as con:
            assert con.execute("SELECT rowid, tool_use_hash FROM tool_calls WHERE rowid < 2 ORDER BY 1").fetchall() == [
                (0, 12345), (1, None)]
    assert apply_migrations(duckdb.connect(str(db))) == []
    assert ran == []


def test_the_backfill_is_read_from_the_migration_and_anything_but_an_update_after_the_mark_is_refused():
    con = duckdb.connect()
    ((_, _, sql),) = [m for m in migrations.migration_files() if m[0] == 14]
    schema, backfills = split_backfill(con, sql)
    assert schema.count("ADD COLUMN IF NOT EXISTS") == 5 and "UPDATE" not in schema
    assert [table for table, _, _ in backfills] == ["requests", "tool_calls", "tool_results", "session_events"]
    assert backfills[1][2] == "tool_use_hash IS NULL"
    assert split_backfill(con, "CREATE TABLE t (a INT);\n") == ("CREATE TABLE t (a INT);", [])
    with pytest.raises(ValueError, match="a backfill must be UPDATE"):
        split_backfill(con, "ALTER TABLE t ADD COLUMN b INT;\n-- backfill: fill b\nDELETE FROM t WHERE b IS NULL;\n")


class _Stop(Exception):
    """The run stopped (a crash, a timeout) in the middle of the upgrade."""


def test_a_lake_upgrade_is_one_transaction_that_a_stopped_run_leaves_undone_and_the_next_writer_does(
        lake, monkeypatch):
    with open_ledger(lake) as ledger:
        ingest(ledger.con, committed_transcripts_dir())
        stored = _facts(ledger.con)
        _drop_hashes(ledger.con)          # a lake of the release before 014
    monkeypatch.setattr(migrations, "BACKFILL_ROWS", RANGE_ROWS)
    ranges: list[int] = []
    monkeypatch.setattr(migrations, "_fill", lambda *args: ranges.append(1))

    def stopped(con):
        raise _Stop

    monkeypatch.setattr(migrations, "commit", stopped)   # the run stops just before 014 commits
    with pytest.raises(_Stop):
        open_ledger(lake).__enter__()
    monkeypatch.undo()
    con = lake_store.connect(lake, migrate=False)
    try:                                  # nothing of 014 stayed
        assert con.execute("SELECT count(*) FROM schema_migrations WHERE version = 14").fetchone() == (0,)
        assert "request_key_hash" not in {c[0] for c in con.execute("SELECT * FROM requests LIMIT 0").description}
    finally:
        con.close()
    with open_ledger(lake) as ledger:     # the next writer
        assert ledger.con.execute("SELECT count(*) FROM schema_migrations WHERE version = 14").fetchone() == (1,)
        assert _facts(ledger.con) == stored
    assert ranges == []
