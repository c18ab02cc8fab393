"""`store copy` into a single file runs its one transaction under the writer's memory limit: DuckDB
keeps what it likes of the rows a transaction writes (an 80x180 ledger copied file to file peaked
at 1.25 GB, 2.8 GB at 4x its size); under the limit it spills them to disk instead. Into a lake it
commits range by range, on one thread, under the same limit (the 4x ledger in one transaction:
1.5 GB)."""

from __future__ import annotations

import pytest

import store.copy as copy
from store import lake as lake_store
from sample_data.paths import committed_transcripts_dir
from store.copy import CopyError, copy_into
from store.db import WRITE_MEMORY_LIMIT, connect_writer
from store.sql import run_sql
from tests.helpers import ingest
from tests.test_ingest_key_hashes import _facts


def test_a_copy_into_a_file_writes_under_the_memory_limit_and_gives_the_connection_its_own_back(
        tmp_path, monkeypatch):
    source = connect_writer(tmp_path / "source.duckdb")
    ingest(source, committed_transcripts_dir())
    stored = _facts(source)
    source.close()
    limits: set[str] = set()

    def recording(con, sql, params=None):
        if sql.startswith("INSERT INTO"):
            limits.add(con.execute("SELECT current_setting('memory_limit')").fetchone()[0])
        return run_sql(con, sql, params)

    monkeypatch.setattr(copy, "run_sql", recording)
    con = connect_writer(tmp_path / "copy.duckdb")
    con.execute("SET memory_limit = '3GiB'")
    try:
        summary = copy_into(con, tmp_path / "source.duckdb")
        assert summary.tables["requests"] == len(stored["requests"])
        assert limits == {WRITE_MEMORY_LIMIT.replace("MiB", ".0 MiB")}
        assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == "3.0 GiB"
        assert _facts(con) == stored
    finally:
        con.close()


def test_a_copy_into_a_lake_commits_range_by_range_on_one_thread_under_the_limit(lake, tmp_path, monkeypatch):
    """Into a lake: each range of the source's rows is its own committed transaction (a lake holds
    what one transaction writes until it commits), on one thread under the writer's memory limit;
    the connection gets both settings back, and every row arrives as it was."""
    source = connect_writer(tmp_path / "source.duckdb")
    ingest(source, committed_transcripts_dir())
    stored = _facts(source)
    source.close()
    monkeypatch.setattr(copy, "LAKE_COPY_ROWS", 64)
    inserts: list[tuple[str, int, str, str]] = []

    def recording(con, sql, params=None):
        result = run_sql(con, sql, params)
        if sql.startswith("INSERT INTO"):
            settings = con.execute("SELECT current_setting('memory_limit'), current_setting('threads')").fetchone()
            inserts.append((sql.split()[2], result[0][0], *settings))
        return result

    monkeypatch.setattr(copy, "run_sql", recording)
    con = lake_store.connect(lake)
    con.execute("SET memory_limit = '3GiB'")
    con.execute("SET threads = 2")
    try:
        before = con.execute("SELECT count(*) FROM ducklake_snapshots(?)", [lake_store.LAKE]).fetchone()[0]
        summary = copy_into(con, tmp_path / "source.duckdb")
        snapshots = con.execute("SELECT count(*) FROM ducklake_snapshots(?)", [lake_store.LAKE]).fetchone()[0]
        requests = [rows for table, rows, _, _ in inserts if table == "requests"]
        assert len(requests) > 1 and max(requests) <= 64 and sum(requests) == summary.tables["requests"] == len(stored["requests"])
        assert snapshots - before == len(inserts)                    # one commit per range
        assert {(limit, threads) for _, _, limit, threads in inserts} == {
            (WRITE_MEMORY_LIMIT.replace("MiB", ".0 MiB"), 1)}
        assert con.execute("SELECT current_setting('memory_limit'), current_setting('threads')").fetchone() == (
            "3.0 GiB", 2)
        assert _facts(con) == stored
    finally:
        con.close()


def test_a_copy_refuses_a_lake_that_a_stopped_copy_left_rows_in(lake, tmp_path, monkeypatch):
    """A copy into a lake that stopped part-way committed some ranges: the next copy into it
    refuses it, whichever table those rows are in, rather than store them twice."""
    source = connect_writer(tmp_path / "source.duckdb")
    ingest(source, committed_transcripts_dir())
    source.close()
    real = copy._copy_range

    def stop(con, insert, low, high):
        if " requests " in insert.split("SELECT")[0] + " ":
            raise KeyboardInterrupt
        return real(con, insert, low, high)

    monkeypatch.setattr(copy, "_copy_range", stop)
    con = lake_store.connect(lake)
    try:
        with pytest.raises(KeyboardInterrupt):
            copy_into(con, tmp_path / "source.duckdb")
        assert con.execute("SELECT count(*) FROM requests").fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM agents").fetchone()[0] > 0
        monkeypatch.undo()
        with pytest.raises(CopyError, match=r"already holds a ledger \(rows in .*agents"):
            copy_into(con, tmp_path / "source.duckdb")
    finally:
        con.close()
