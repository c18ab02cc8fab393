"""Which store a command uses: a file, or a lake its settings (store/settings.py) name.

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
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from store.settings import StoreSettings

LAKE_PREFIX = "ducklake:"
# The environment variable naming a lake (StoreSettings.store).
STORE_ENV_VAR = "AGENTLEDGER_STORE"


@lru_cache(maxsize=1)
def settings() -> StoreSettings:
    """The settings from the environment, read once per process (pydantic-settings imported then)."""
    from store.settings import StoreSettings

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
