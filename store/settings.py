"""The store's settings as one pydantic-settings model (environment AGENTLEDGER_<NAME>); docs/lake.md
lists every field (a test checks it). Apart from store/config.py so that a command naming its --db
file (every scheduled ingest) never imports pydantic-settings: a no-op run's largest import.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class StoreSettings(BaseSettings):
    """Where the ledger lives when it is not one file, and how to reach object storage."""

    model_config = SettingsConfigDict(env_prefix="AGENTLEDGER_", extra="ignore", frozen=True)

    store: str | None = Field(
        None, description="A DuckLake catalog to use instead of the single-file ledger, e.g. "
        "`ducklake:postgres:dbname=ledger host=db.internal user=agentledger` (libpq's PGPASSWORD or "
        "~/.pgpass keep the password off the command line). Many ingest workers can write it at once."
    )
    data_path: str | None = Field(
        None, description="Where a new lake keeps its Parquet files: a folder, or `s3://bucket/prefix/`. "
        "Needed only when the lake is created; the catalog remembers it."
    )
    lake_schema: str | None = Field(
        None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="The PostgreSQL schema that holds the lake's "
        "catalog tables (DuckLake's METADATA_SCHEMA); unset: the database's default. Several lakes (staging, "
        "production, the test suite) can then share one database."
    )
    s3_endpoint: str | None = Field(
        None, description="host:port of an S3-compatible endpoint (MinIO, moto, Ceph); unset for AWS S3."
    )
    s3_key_id: str | None = Field(None, description="S3 access key id (for object storage paths).")
    s3_secret: SecretStr | None = Field(None, description="S3 secret access key.")
    s3_region: str = Field("us-east-1", description="S3 region.")
    s3_url_style: str = Field(
        "vhost", pattern="^(vhost|path)$", description="`path` for most S3-compatible endpoints, `vhost` for AWS."
    )
    s3_use_ssl: bool = Field(True, description="HTTPS to the S3 endpoint (false only for a local test endpoint).")
    lake_commit_tries: int = Field(
        60, ge=1, description="How often a lake writer tries one transaction whose commit conflicts with "
        "another writer's before the run fails (DuckLake commits optimistically; the loser redoes its "
        "transaction on the new snapshot, with a jittered back-off)."
    )
