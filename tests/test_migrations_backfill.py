"""A migration's backfill (store/migrations/__init__.py; 014's key hashes): the UPDATEs after its
mark run over ranges of rows (on a lake: groups of its data files), each committed, under a memory
limit (on a lake: on one thread), and the migration is recorded
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
    elif where == "files":
        m._fill_files = die_after(m._fill_files)
    else:
        m.commit = lambda con: os.kill(os.getpid(), signal.SIGKILL)
    if sys.argv[3] == "lake":             # the lake the environment names
        from store import lake
        from store.config import lake_target
        lake.connect(lake_target())
    else:
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


def test_a_lake_backfill_updates_whole_data_files_in_groups_each_committed(lake, monkeypatch):
    """Hand-worked: three inserts make three data files of 20, 30 and 40 rows; with groups of at
    most 64 rows the files go 20 + 30, then 40 (30 + 40 > 64); the first group's transaction fills
    exactly the rows of its two files, and an UPDATE of a group never touches another file."""
    monkeypatch.setattr(migrations, "BACKFILL_ROWS", RANGE_ROWS)
    con = lake_store.connect(lake)
    try:
        con.execute("CREATE TABLE t (k VARCHAR NOT NULL, h UBIGINT)")
        for start, count in [(0, 20), (20, 30), (50, 40)]:
            con.execute(f"INSERT INTO t SELECT 'k' || i, NULL FROM range({start}, {start + count}) r(i)")
        backfill = ("t", "h = ('0x' || md5(k)[1:16])::UBIGINT", "h IS NULL")
        groups = migrations._file_groups(con, backfill)
        assert [len(group) for group in groups] == [2, 1]
        files = dict(con.execute("SELECT filename, count(*) FROM t GROUP BY filename").fetchall())
        assert [sum(files[name] for name in group) for group in groups] == [50, 40]
        migrations._fill_files(con, backfill, groups[0])
        filled = con.execute("SELECT count(h), count(*) FILTER (h IS NULL), min(k) FILTER (h IS NULL) FROM t").fetchone()
        assert filled == (50, 40, "k50")
        assert con.execute("SELECT count(*) FROM t WHERE h IS DISTINCT FROM ('0x' || md5(k)[1:16])::UBIGINT"
                           " AND h IS NOT NULL").fetchone() == (0,)
        assert migrations._file_groups(con, backfill) == [groups[1]]
    finally:
        con.close()


def test_a_stopped_lake_upgrade_keeps_its_committed_files_and_the_next_writer_finishes_it(lake, monkeypatch):
    """The lake's upgrade: columns added and committed, then one committed transaction per group of
    data files, on one thread; a run stopped after its first group leaves those rows filled and 014
    unrecorded; the next writer fills only the rest, records 014, and every row is as ingested."""
    with open_ledger(lake) as ledger:
        ingest(ledger.con, committed_transcripts_dir())
        stored = _facts(ledger.con)
        _drop_hashes(ledger.con)          # a lake of the release before 014
    monkeypatch.setattr(migrations, "BACKFILL_ROWS", RANGE_ROWS)
    groups: list[tuple[str, int, str]] = []
    real_fill = migrations._fill_files

    def fill(con, backfill, files):
        rows = con.execute(f"SELECT count(*) FROM {backfill[0]} WHERE filename IN (SELECT unnest(?))", [files]).fetchone()[0]
        real_fill(con, backfill, files)
        groups.append((backfill[0], rows, con.execute("SELECT current_setting('threads')").fetchone()[0]))
        if len(groups) == 1:
            raise _Stop

    monkeypatch.setattr(migrations, "_fill_files", fill)
    with pytest.raises(_Stop):
        open_ledger(lake).__enter__()
    con = lake_store.connect(lake, migrate=False)
    try:
        assert con.execute("SELECT count(*) FROM schema_migrations WHERE version = 14").fetchone() == (0,)
        filled = groups[0][1]             # the rows of the first group's files, and no others
        assert 0 < filled < len(stored["requests"])
        assert con.execute("SELECT count(request_key_hash), count(*) FROM requests").fetchone() == (
            filled, len(stored["requests"]))
        assert con.execute("SELECT count(tool_use_hash) FROM tool_calls").fetchone() == (0,)
        threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    finally:
        con.close()
    with open_ledger(lake) as ledger:     # the next writer
        assert ledger.con.execute("SELECT count(*) FROM schema_migrations WHERE version = 14").fetchone() == (1,)
        assert _facts(ledger.con) == stored
        assert ledger.con.execute("SELECT current_setting('threads')").fetchone()[0] == threads
    assert groups[0][0] == groups[1][0] == "requests" and groups[-1][0] == "session_events"
    assert sum(rows for table, rows, _ in groups if table == "tool_calls") == len(stored["tool_calls"])
    assert {setting for _, _, setting in groups} == {1}


@pytest.mark.parametrize("where", ["files", "record"])
def test_a_lake_upgrade_killed_part_way_leaves_a_lake_the_next_writer_finishes(lake, tmp_path, where):
    """kill -9 after the first committed group of data files, or in the transaction that records
    014: nothing is recorded, the committed groups stay filled, and the next writer finishes."""
    from tests.lake_services import lake_env

    with open_ledger(lake) as ledger:
        ingest(ledger.con, committed_transcripts_dir())
        stored = _facts(ledger.con)
        _drop_hashes(ledger.con)
    script = tmp_path / "killed.py"
    script.write_text(_KILLED)
    killed = subprocess.run([sys.executable, str(script), where, "1", "lake", str(RANGE_ROWS)],
                            capture_output=True, text=True, timeout=300, cwd=REPO,
                            env={**lake_env(lake), "PYTHONPATH": str(REPO)})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    con = lake_store.connect(lake, migrate=False)
    try:
        assert con.execute("SELECT count(*) FROM schema_migrations WHERE version = 14").fetchone() == (0,)
        hashed = con.execute("SELECT count(request_key_hash) FROM requests").fetchone()[0]
        called = con.execute("SELECT count(tool_use_hash) FROM tool_calls").fetchone()[0]
    finally:
        con.close()
    if where == "files":                  # the first group only: some requests, no tool calls
        assert 0 < hashed < len(stored["requests"]) and called == 0
    else:                                 # every group committed; only the record was lost
        assert (hashed, called) == (len(stored["requests"]), len(stored["tool_calls"]))
    with open_ledger(lake) as ledger:     # the next writer
        assert ledger.con.execute("SELECT count(*) FROM schema_migrations WHERE version = 14").fetchone() == (1,)
        assert _facts(ledger.con) == stored


def test_one_thread_gives_the_connection_its_threads_back_even_when_the_work_fails():
    con = duckdb.connect()
    con.execute("SET threads = 3")
    assert migrations.one_thread(con, lambda c: c.execute("SELECT current_setting('threads')").fetchone()[0]) == 1
    with pytest.raises(_Stop):
        migrations.one_thread(con, lambda c: (_ for _ in ()).throw(_Stop()))
    assert con.execute("SELECT current_setting('threads')").fetchone()[0] == 3
