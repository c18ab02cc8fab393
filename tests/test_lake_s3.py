"""Object storage: laptops ship to s3://, the central loader reads them into a lake whose files are on s3://."""

from __future__ import annotations

import uuid

import duckdb

from agentledger.cli import main
from analytics.export import to_csv
from analytics.reports import run_report
from sample_data.paths import committed_transcripts_dir
from store import lake as lake_store
from store.config import LakeTarget
from store.db import reader

SAMPLE = committed_transcripts_dir()


def run(*argv) -> int:
    return main([str(a) for a in argv])


def test_batches_shipped_to_s3_load_into_a_lake_on_s3_with_the_raw_totals(lake, s3, tmp_path, monkeypatch):
    prefix = f"{s3}/run-{uuid.uuid4().hex[:8]}"
    dest = f"{prefix}/shipped"
    for user, host in (("jonas.patel", "laptop-a"), ("sami.andersen", "laptop-b")):
        monkeypatch.setenv("AGENTLEDGER_HOST_ID", host)
        assert run("ship", dest, SAMPLE / user, "--user", user, "--state", tmp_path / f"{host}.duckdb", "--no-progress") == 0
    on_s3 = LakeTarget(lake.catalog, f"{prefix}/lake", lake.schema)
    store = ["--store", on_s3.spec, "--data-path", on_s3.data_path]
    assert run("ingest", dest, *store, "--no-progress") == 0           # s3:// is a ship destination
    assert run("ingest", dest, "--shipped", *store, "--no-progress") == 0  # and again: nothing new

    raw = tmp_path / "raw.duckdb"
    for user in ("jonas.patel", "sami.andersen"):
        assert run("ingest", SAMPLE / user, "--user", user, "--db", raw, "--no-progress") == 0
    with reader(on_s3) as con, reader(raw) as ref:
        for kind in ("users", "sessions", "flags"):
            assert to_csv(run_report(con, kind, None)) == to_csv(run_report(ref, kind, None)), kind
        runs = con.execute("SELECT files_new, files_unchanged FROM ingest_runs ORDER BY run_id").fetchall()
    assert runs == [(2, 0), (0, 2)]

    # The lake's Parquet files really are in the bucket.
    con = lake_store.scratch(prefix)
    files = con.execute("SELECT count(*) FROM glob(?)", [f"{prefix}/lake/**/*.parquet"]).fetchall()[0][0]
    batches = con.execute("SELECT count(*) FROM glob(?)", [f"{dest}/*/*.parquet"]).fetchall()[0][0]
    con.close()
    assert files > 0 and batches == 2


def test_a_missing_bucket_is_one_clear_line(lake, s3, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("AGENTLEDGER_HOST_ID", "laptop-a")
    code = run("ship", "s3://no-such-bucket-here/shipped", SAMPLE / "jonas.patel", "--user", "jonas.patel",
               "--state", tmp_path / "a.duckdb", "--no-progress")
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("agentledger ship:")
    # Nothing was marked shipped: the next run with a working destination sends the run.
    con = duckdb.connect(str(tmp_path / "a.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM ingest_runs WHERE shipped_as IS NULL").fetchall()[0][0] == 1
    con.close()
