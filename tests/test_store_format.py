"""The storage format of the ledger file: new files in the current one, older files kept as they are."""

from __future__ import annotations

import duckdb

from store.db import STORAGE, connect_writer
from store.sql import run_sql

_VERSION = "SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = current_database()"


def test_a_new_ledger_is_created_in_the_pinned_storage_format(tmp_path):
    con = connect_writer(tmp_path / "ledger.duckdb")
    try:
        assert run_sql(con, _VERSION)[0][0] == STORAGE["storage_compatibility_version"] + "+"
    finally:
        con.close()


def test_a_ledger_in_an_older_format_is_opened_and_written_in_its_own(tmp_path):
    path = tmp_path / "old.duckdb"
    old = duckdb.connect(str(path), config={"storage_compatibility_version": "v1.0.0"})
    old.execute("CREATE TABLE kept AS SELECT 1 AS n")
    old.close()
    con = connect_writer(path)
    try:
        run_sql(con, "INSERT INTO kept VALUES (2)")
        run_sql(con, "CHECKPOINT")
        assert run_sql(con, _VERSION)[0][0] == "v1.0.0+"
        assert run_sql(con, "SELECT count(*) FROM requests")[0][0] == 0  # migrated all the same
    finally:
        con.close()
    reopened = duckdb.connect(str(path), read_only=True)
    assert reopened.execute("SELECT sum(n) FROM kept").fetchone()[0] == 3
    reopened.close()


def test_a_ledger_in_an_older_format_copied_into_a_new_file_is_in_the_pinned_one(tmp_path):
    from store.copy import copy_into

    older = tmp_path / "older.duckdb"
    raw = duckdb.connect(str(older), config={"storage_compatibility_version": "v1.0.0"})
    raw.close()
    con = connect_writer(older)
    run_sql(con, "INSERT INTO org_users (user_name, team) VALUES ('ada', 'core')")
    con.close()
    new = connect_writer(tmp_path / "new.duckdb")
    try:
        copy_into(new, older)
        assert run_sql(new, _VERSION)[0][0] == STORAGE["storage_compatibility_version"] + "+"
        assert run_sql(new, "SELECT team FROM org_users WHERE user_name = 'ada'")[0][0] == "core"
    finally:
        new.close()
