"""The DuckLake store: the same schema, the same reports, copies both ways, readers never blocked."""

from __future__ import annotations

import re
import tempfile
import threading
import time

import duckdb
import polars as pl
import pytest

from agentledger.cli import main
from agentledger.pipeline import ingest_and_refresh
from analytics.access.settings import CONFIG_ENV_VAR
from analytics.export import to_csv
from analytics.refresh import refresh_derived
from analytics.reports import REPORTS, run_report
from ingest.org import load_org, read_org_csv
from ingest.runner import IngestOptions
from sample_data.paths import committed_org_csv, committed_transcripts_dir
from store import audit
from store import lake as lake_store
from store.copy import CopyError, copy_into, export_parquet
from store.config import LakeTarget
from store.db import open_ledger, reader, writer
from store.lake import LakeError, translate
from store.sql import begin, commit
from tests.access_ledgers import access_file, email, roles_ledger  # noqa: F401


# The committed sample's requests: 220 in transcripts (ground_truth.json), 13 Codex token events,
# 8 OTel-only requests.
SAMPLE_REQUESTS = 241


def _load_sample(target) -> None:
    with open_ledger(target) as ledger:
        ingest_and_refresh(ledger, IngestOptions(paths=[committed_transcripts_dir()], user_from_dir=True, progress=False))
        members = read_org_csv(committed_org_csv())
        ledger.transact(lambda con: load_org(con, members))


def _reports(target) -> dict[str, bytes]:
    with reader(target) as con:
        return {kind: to_csv(run_report(con, kind, None)) for kind in REPORTS}


def _columns(con: duckdb.DuckDBPyConnection, database: str) -> set[tuple]:
    rows = con.execute(
        "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns"
        " WHERE table_catalog = ? AND table_schema = 'main' AND table_name NOT IN ('lake_writes')", [database]
    ).fetchall()
    return set(rows)


# -- the schema ------------------------------------------------------------------------------------

def test_translate_drops_keys_and_indexes_and_keeps_everything_else():
    sql = ("CREATE TABLE a (\n    k VARCHAR PRIMARY KEY,   -- the key\n    n INTEGER NOT NULL DEFAULT 0,\n"
           "    u VARCHAR UNIQUE,\n    PRIMARY KEY (k, n)\n);\nCREATE INDEX a_n ON a (n);\nCREATE UNIQUE INDEX a_u ON a (u);\n"
           "ALTER TABLE a ADD COLUMN h HUGEINT;")
    out = translate(sql)
    assert "PRIMARY" not in out and "UNIQUE" not in out and "INDEX" not in out
    assert "k VARCHAR NOT NULL," in out and "n INTEGER NOT NULL DEFAULT 0" in out and "ADD COLUMN h HUGEINT" in out
    con = duckdb.connect()
    con.execute(out)
    assert [r[0] for r in con.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'a'").fetchall()] == ["k", "n", "u", "h"]


def test_translate_drops_check_constraints_of_columns_and_of_the_table():
    sql = ("CREATE TABLE r (\n    who VARCHAR PRIMARY KEY,\n"
           "    role VARCHAR NOT NULL CHECK (role IN ('admin', 'manager')),\n"
           "    n INTEGER DEFAULT 1 CHECK (n > (0)),\n    CONSTRAINT few CHECK (n < 9)\n);")
    out = translate(sql)
    assert "CHECK" not in out and "CONSTRAINT" not in out
    con = duckdb.connect()
    con.execute(out)
    con.execute("INSERT INTO r VALUES ('a', 'nobody', 12)")   # the lake takes what a CHECK would refuse...
    assert con.execute("SELECT * FROM r").fetchall() == [("a", "nobody", 12)]
    with pytest.raises(duckdb.ConstraintException):
        con.execute("INSERT INTO r (who, n) VALUES ('b', 1)")   # ...but keeps NOT NULL


def test_translate_refuses_a_sequence():
    with pytest.raises(LakeError, match="sequence"):
        translate("CREATE SEQUENCE ids START 1;")


def test_the_lake_has_the_single_files_tables_column_for_column(lake, tmp_path):
    with writer(tmp_path / "file.duckdb") as con:
        file_columns = _columns(con, "file")
    with open_ledger(lake) as ledger:
        lake_columns = _columns(ledger.con, lake_store.LAKE)
    assert lake_columns == file_columns
    assert len({t for t, *_ in lake_columns}) >= 20


def test_migrating_a_lake_twice_changes_nothing(lake):
    with open_ledger(lake) as ledger:
        first = ledger.con.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    with open_ledger(lake) as ledger:
        again = ledger.con.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
        tables = ledger.con.execute("SELECT count(*) FROM lake_writes").fetchall()[0][0]
    assert first == again and len(first) >= 7
    assert tables == 1


# -- the same reports ------------------------------------------------------------------------------

def test_the_sample_gives_the_single_files_reports_byte_for_byte(lake, tmp_path):
    _load_sample(lake)
    _load_sample(tmp_path / "file.duckdb")
    assert _reports(lake) == _reports(tmp_path / "file.duckdb")


def test_ingesting_again_adds_nothing_and_a_full_refresh_changes_no_report(lake):
    _load_sample(lake)
    before = _reports(lake)
    with open_ledger(lake) as ledger:
        again = ingest_and_refresh(ledger, IngestOptions(paths=[committed_transcripts_dir()], user_from_dir=True,
                                                         progress=False)).ingest
        ledger.transact(lambda con: refresh_derived(con, full=True))
        runs = ledger.con.execute("SELECT run_id, status FROM ingest_runs ORDER BY run_id").fetchall()
    assert again.requests_new == 0 and again.files_unchanged == again.files_seen
    assert _reports(lake) == before
    assert runs == [(1, "ok"), (2, "ok")]


# -- copies and exports ----------------------------------------------------------------------------

def test_store_copy_moves_a_file_into_a_lake_and_back_with_the_same_reports(lake, tmp_path):
    original = tmp_path / "original.duckdb"
    _load_sample(original)
    with writer(lake) as con:
        into_lake = copy_into(con, original)
    back = tmp_path / "back.duckdb"
    with writer(back) as con:
        into_file = copy_into(con, lake)
    assert into_lake.tables == into_file.tables and into_lake.tables["requests"] == SAMPLE_REQUESTS
    assert _reports(lake) == _reports(original) == _reports(back)


def test_a_lake_keeps_the_roles_and_report_as_sees_the_same_scope_audited_outside_the_lake(
        lake, roles_ledger, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(CONFIG_ENV_VAR, str(access_file(tmp_path / "access.toml")))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data-home"))
    with writer(lake) as con:
        copied = copy_into(con, roles_ledger.db)
    assert copied.tables["org_roles"] == 2   # ngozi.adeyemi's and root's explicit roles

    def teams(*ledger: str) -> str:
        assert main(["report", "teams", *ledger, "--format", "csv", "--as", email("claire.bennett")]) == 0
        return capsys.readouterr().out

    on_lake = teams("--store", lake.spec)
    assert [line.split(",")[0] for line in on_lake.splitlines()[1:]] == ["Web"]
    assert on_lake == teams("--db", str(roles_ledger.db))
    # No file to sit beside: the lake's audit log is in this account's data folder, named by a digest
    # of catalog and schema (never the connection string, which may hold a password).
    log = audit.audit_path_for(lake.spec)
    assert log.parent == tmp_path / "data-home" / "agentledger"
    assert re.fullmatch(r"lake-[0-9a-f]{16}" + re.escape(audit.SUFFIX), log.name)
    events = audit.read(log)
    assert events["viewer"].to_list() == [email("claire.bennett")] and events["target"].to_list() == ["report:teams"]
    assert audit.verify(log).intact


def test_store_copy_refuses_a_destination_that_holds_a_ledger(lake, tmp_path):
    original = tmp_path / "original.duckdb"
    _load_sample(original)
    _load_sample(lake)
    with writer(lake) as con, pytest.raises(CopyError, match="already holds a ledger"):
        copy_into(con, original)


def test_export_writes_hive_partitioned_parquet_that_reads_back_to_the_same_totals(lake, tmp_path):
    _load_sample(lake)
    with reader(lake) as con:
        written = export_parquet(con, tmp_path / "export")
        expected = con.execute("SELECT day, round(sum(cost_usd), 6), sum(total_tokens) FROM session_day_facts"
                               " GROUP BY day ORDER BY day").fetchall()
    assert written["requests"] == SAMPLE_REQUESTS
    assert sorted(p.name for p in (tmp_path / "export/requests").iterdir()) == [
        "day=2026-10-01", "day=2026-10-02", "day=2026-10-05"]
    glob = str(tmp_path / "export/session_day_facts/**/*.parquet")
    got = duckdb.sql(f"SELECT day, round(sum(cost_usd), 6), sum(total_tokens) FROM read_parquet('{glob}',"
                     " hive_partitioning = true) GROUP BY day ORDER BY day").fetchall()
    assert got == expected
    org = pl.read_parquet(tmp_path / "export/org_users/data.parquet")
    assert org.height == 3


# -- readers ---------------------------------------------------------------------------------------

def test_a_reader_reads_the_last_commit_while_a_writer_holds_a_transaction_open(lake):
    _load_sample(lake)
    with reader(lake) as con:
        before = con.execute("SELECT count(*) FROM requests").fetchall()[0][0]
    with open_ledger(lake) as ledger:
        ledger.con.execute("BEGIN TRANSACTION")
        ledger.con.execute("DELETE FROM requests")
        answers: list[int] = []

        def read() -> None:
            with reader(lake) as con:
                answers.append(con.execute("SELECT count(*) FROM requests").fetchall()[0][0])

        thread = threading.Thread(target=read)
        thread.start()
        thread.join(timeout=30)
        ledger.con.execute("ROLLBACK")
    assert answers == [before] == [SAMPLE_REQUESTS]


def test_concurrent_writers_of_the_same_new_keys_conflict_and_the_loser_redoes_its_work(lake):
    """Two transactions inserting the same key: without the claimed row DuckLake would commit both."""
    with open_ledger(lake) as first, open_ledger(lake) as second:
        tries: list[int] = []

        def insert(ledger, name: str):
            def work(con):
                tries.append(1)
                begin(con)
                con.execute("INSERT INTO org_users (user_name) SELECT ? WHERE NOT EXISTS"
                            " (SELECT 1 FROM org_users WHERE user_name = ?)", [name, name])
                if len(tries) == 1:
                    # A writer on another machine (so not taking this machine's turn) commits the
                    # same key while this transaction is open.
                    lake_store._retry(second.con, insert(second, name), second.stats)
                commit(con)
            return work

        first.transact(insert(first, "ada"))
        assert first.stats.conflicts == 1 and len(tries) == 3
        count = first.con.execute("SELECT count(*) FROM org_users WHERE user_name = 'ada'").fetchall()[0][0]
    assert count == 1


def test_every_store_setting_is_documented():
    from pathlib import Path

    from store.settings import StoreSettings

    doc = (Path(__file__).resolve().parents[1] / "docs/lake.md").read_text()
    for name, field in StoreSettings.model_fields.items():
        assert f"| `{name}` |" in doc, f"docs/lake.md lacks the row of {name}"
        assert field.description, name


def test_writers_on_one_machine_take_turns_instead_of_redoing_each_others_work(lake):
    with open_ledger(lake) as first, open_ledger(lake) as second:
        order: list[str] = []

        def slow(con):
            begin(con)
            con.execute("INSERT INTO org_users (user_name) VALUES ('slow')")
            order.append("slow in")
            time.sleep(1.0)
            commit(con)
            order.append("slow committed")

        def quick(con):
            begin(con)
            order.append("quick in")
            con.execute("INSERT INTO org_users (user_name) VALUES ('quick')")
            commit(con)

        thread = threading.Thread(target=first.transact, args=(slow,))
        thread.start()
        while not order:
            time.sleep(0.01)
        second.transact(quick)
        thread.join(timeout=60)
        assert order == ["slow in", "slow committed", "quick in"]
        assert first.stats.conflicts == second.stats.conflicts == 0


def test_a_writers_turn_leaves_no_lock_file_behind(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    for schema in ("one", "two", "one"):
        with lake_store._host_turn(LakeTarget("postgres:dbname=ledger", schema=schema)):
            assert len(list(tmp_path.glob("agentledger-lake-*.lock"))) == 1
    assert list(tmp_path.iterdir()) == []


def test_writers_take_turns_while_the_lock_file_comes_and_goes(tmp_path, monkeypatch):
    # Each turn removes the file it locked: a writer that opened it meanwhile must not go on holding
    # a lock on a file that a later writer, finding no file, creates afresh and locks too.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    target = LakeTarget("postgres:dbname=ledger", schema="turns")
    inside, most, count = [0], [0], threading.Lock()

    def write() -> None:
        for _ in range(300):
            with lake_store._host_turn(target):
                with count:
                    inside[0] += 1
                    most[0] = max(most[0], inside[0])
                time.sleep(0)  # another thread's turn to try
                with count:
                    inside[0] -= 1

    writers = [threading.Thread(target=write) for _ in range(4)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(timeout=60)
    assert most[0] == 1
    assert list(tmp_path.iterdir()) == []
