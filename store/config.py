"""Which store a command uses, in one pydantic-settings model (env AGENTLEDGER_<NAME>), with why.

The single-file ledger (`--db FILE`) is the default and needs nothing else. A DuckLake lake is named
by `--store ducklake:<catalog>` (a PostgreSQL catalog: `ducklake:postgres:dbname=ledger host=db`)
and keeps its Parquet files under `--data-path` (a folder, or `s3://bucket/prefix/`). The CLI's
options override these; docs/lake.md lists every field (a test checks it).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

LAKE_PREFIX = "ducklake:"
# The environment variable naming a lake (StoreSettings.store).
STORE_ENV_VAR = "AGENTLEDGER_STORE"


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


@lru_cache(maxsize=1)
def settings() -> StoreSettings:
    """The settings from the environment, read once per process."""
    return StoreSettings()


_PASSWORD = re.compile(r"(password\s*=\s*)('[^']*'|[^\s\"]+)", re.I)


def mask(text: str) -> str:
    """`text` with every `password=…` of a connection string masked (error messages repeat them)."""
    return _PASSWORD.sub(r"\1***", text)


@dataclass(frozen=True)
class LakeTarget:
    """A DuckLake catalog (what follows `ducklake:`) and, for a new lake, where its files go."""

    catalog: str
    data_path: str | None = None
    schema: str | None = None            # the catalog's METADATA_SCHEMA

    @property
    def key(self) -> str:
        """What tells two lakes apart: the catalog and its schema."""
        return f"{self.spec}#{self.schema or ''}"

    @property
    def spec(self) -> str:
        """The `--store` value that names this lake."""
        return LAKE_PREFIX + self.catalog

    def display(self) -> str:
        """The spec with any password masked, to print or log."""
        return mask(self.spec)

    def __str__(self) -> str:
        return self.display()


def is_lake_spec(value: object) -> bool:
    """Whether a --db/--store value names a lake rather than a file."""
    return isinstance(value, LakeTarget) or (
        isinstance(value, (str, os.PathLike)) and os.fspath(value).startswith(LAKE_PREFIX))


def lake_target(db: object = None, data_path: str | None = None) -> LakeTarget | None:
    """The lake `db` names (a LakeTarget, or a `ducklake:` string); with no `db`, the lake
    AGENTLEDGER_STORE names; None when the store is the single file."""
    if isinstance(db, LakeTarget):
        return db
    if db is None:
        db = settings().store or os.environ.get("AGENTLEDGER_DB")
    if not is_lake_spec(db):
        return None
    catalog = os.fspath(db)[len(LAKE_PREFIX):].strip()
    if not catalog:
        raise ValueError("a lake is named ducklake:<catalog>, e.g. ducklake:postgres:dbname=ledger")
    return LakeTarget(catalog, data_path or settings().data_path, settings().lake_schema)
