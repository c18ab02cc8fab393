"""Shared fixtures: temporary ledgers."""

from __future__ import annotations

from pathlib import Path

import pytest

from store.db import connect_writer


@pytest.fixture(autouse=True)
def _walk_listings(tmp_path_factory, monkeypatch) -> None:
    """A walk's kept folder listings (ingest/discovery.py) go to the test's own folder, never the
    user's cache; a test that wants them elsewhere sets AGENTLEDGER_WALK_CACHE itself."""
    monkeypatch.setenv("AGENTLEDGER_WALK_CACHE", str(tmp_path_factory.mktemp("walk")))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "ledger.duckdb"


@pytest.fixture
def ledger(db_path: Path):
    """An open, migrated writer connection on a fresh database."""
    con = connect_writer(db_path)
    yield con
    con.close()


# -- the lake's real services (tests/lake_services.py says where they come from) ---------------

@pytest.fixture(scope="session")
def pg_conninfo() -> str:
    from tests import lake_services

    conninfo = lake_services.find_postgres()
    if conninfo is None:
        lake_services.unavailable(f"no PostgreSQL for DuckLake catalogs (set {lake_services.PG_ENV})")
    return conninfo


@pytest.fixture
def lake(pg_conninfo: str, tmp_path: Path, monkeypatch):
    """A fresh DuckLake lake (its own catalog schema, files under tmp_path), dropped afterwards."""
    from store.config import settings
    from tests import lake_services

    target = lake_services.new_lake(pg_conninfo, tmp_path / "lake-data")
    monkeypatch.setenv("AGENTLEDGER_LAKE_SCHEMA", target.schema)
    settings.cache_clear()
    yield target
    lake_services.forget_readers()
    lake_services.drop_schema(pg_conninfo, target.schema)
    settings.cache_clear()


@pytest.fixture(scope="session")
def s3_endpoint():
    """host:port of an S3-compatible endpoint with the test bucket."""
    from tests import lake_services

    found = lake_services.start_moto()
    if found is None:
        lake_services.unavailable(f"no S3-compatible endpoint (set {lake_services.S3_ENV}, or install moto[server])")
    endpoint, process = found
    lake_services.make_bucket(endpoint)
    yield endpoint
    if process is not None:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def s3(s3_endpoint: str, monkeypatch) -> str:
    """The AGENTLEDGER_S3_* settings pointed at the test endpoint; returns the bucket's URL."""
    from store.config import settings
    from tests import lake_services

    for name, value in lake_services.s3_settings_env(s3_endpoint).items():
        monkeypatch.setenv(name, value)
    settings.cache_clear()
    yield f"s3://{lake_services.BUCKET}"
    settings.cache_clear()
