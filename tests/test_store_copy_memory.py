"""`store copy` into a single file runs its one transaction under the writer's memory limit: DuckDB
keeps what it likes of the rows a transaction writes (an 80x180 ledger copied file to file peaked
at 1.25 GB, 2.8 GB at 4x its size); under the limit it spills them to disk instead."""

from __future__ import annotations

import store.copy as copy
from sample_data.paths import committed_transcripts_dir
from store.copy import copy_into
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
