"""The real services the lake tests need: a PostgreSQL for DuckLake catalogs, an S3-compatible endpoint.

- PostgreSQL: $AGENTLEDGER_TEST_PG, a libpq connection string to a database in which the tests may
  create schemas (each test's lake gets its own METADATA_SCHEMA, dropped afterwards); without it,
  libpq's own defaults (PGHOST, PGUSER, PGPASSWORD, PGDATABASE, the local socket) are tried.
- S3: $AGENTLEDGER_TEST_S3_ENDPOINT (host:port, path-style, any key); without it, moto's server
  (a test dependency) is started on a free local port for the session.

`.ci/run` starts both and sets AGENTLEDGER_LAKE_TESTS=required: a service that is missing then fails
the tests that need it. On a developer machine without them, those tests skip, saying why.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import duckdb
import pytest

from store import lake as lake_store
from store.config import LakeTarget

REQUIRED_ENV = "AGENTLEDGER_LAKE_TESTS"
PG_ENV = "AGENTLEDGER_TEST_PG"
S3_ENV = "AGENTLEDGER_TEST_S3_ENDPOINT"
BUCKET = "agentledger-tests"


def unavailable(reason: str):
    """Skip, or fail when CI made the services mandatory."""
    if os.environ.get(REQUIRED_ENV) == "required":
        pytest.fail(f"{reason} (and {REQUIRED_ENV}=required)")
    pytest.skip(reason)


def _pg_con(conninfo: str) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    lake_store.load_extension(con, "duckdb_extension_postgres_scanner", "postgres_scanner")
    con.execute(f"ATTACH {lake_store.quote(conninfo)} AS pg (TYPE postgres)")
    return con


def find_postgres() -> str | None:
    """A conninfo that connects, or None."""
    candidates = [os.environ[PG_ENV]] if os.environ.get(PG_ENV) else ["", "dbname=postgres"]
    for conninfo in candidates:
        try:
            con = _pg_con(conninfo)
            con.execute("SELECT * FROM postgres_query('pg', 'SELECT 1')").fetchall()
            con.close()
            return conninfo
        except duckdb.Error:
            continue
    return None


def drop_schema(conninfo: str, schema: str) -> None:
    con = _pg_con(conninfo)
    try:
        con.execute(f"CALL postgres_execute('pg', 'DROP SCHEMA IF EXISTS {schema} CASCADE')")
    finally:
        con.close()


def new_lake(conninfo: str, data_path: Path | str) -> LakeTarget:
    """A lake of its own: a fresh catalog schema in the test database, files under `data_path`."""
    return LakeTarget(f"postgres:{conninfo}".rstrip(), str(data_path), f"t_{uuid.uuid4().hex[:12]}")


def lake_env(target: LakeTarget) -> dict[str, str]:
    """The environment a subprocess (a CLI worker, the dashboard) needs to use `target`."""
    env = {**os.environ, "AGENTLEDGER_STORE": target.spec, "AGENTLEDGER_LAKE_SCHEMA": target.schema or ""}
    if target.data_path:
        env["AGENTLEDGER_DATA_PATH"] = target.data_path
    env.pop("AGENTLEDGER_DB", None)
    return env


def forget_readers() -> None:
    """Close this process's cached read-only attachments (their schema is about to be dropped)."""
    with lake_store._READERS_LOCK:
        for con in lake_store._READERS.values():
            con.close()
        lake_store._READERS.clear()


# -- S3 ------------------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(endpoint: str) -> bool:
    try:
        urllib.request.urlopen(f"http://{endpoint}/", timeout=2).read()
        return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def start_moto() -> tuple[str, subprocess.Popen | None] | None:
    """(endpoint, the server we started or None) for an S3 endpoint that answers, or None."""
    if os.environ.get(S3_ENV):
        endpoint = os.environ[S3_ENV]
        return (endpoint, None) if _answers(endpoint) else None
    server = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or shutil.which("moto_server")
    if not server:
        return None
    port = _free_port()
    process = subprocess.Popen([server, "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if _answers(endpoint):
            return endpoint, process
        time.sleep(0.2)
    process.terminate()
    return None


def make_bucket(endpoint: str, bucket: str = BUCKET) -> None:
    request = urllib.request.Request(f"http://{endpoint}/{bucket}", method="PUT")
    try:
        urllib.request.urlopen(request, timeout=10).read()
    except urllib.error.HTTPError as error:
        if error.code != 409:  # already there
            raise


def s3_settings_env(endpoint: str) -> dict[str, str]:
    """The AGENTLEDGER_S3_* settings for the test endpoint."""
    return {"AGENTLEDGER_S3_ENDPOINT": endpoint, "AGENTLEDGER_S3_KEY_ID": "testing",
            "AGENTLEDGER_S3_SECRET": "testing", "AGENTLEDGER_S3_URL_STYLE": "path",
            "AGENTLEDGER_S3_USE_SSL": "false", "AGENTLEDGER_S3_REGION": "us-east-1"}
