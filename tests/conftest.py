"""Shared fixtures: temporary ledgers."""

from __future__ import annotations

from pathlib import Path

import pytest

from store.db import connect_writer


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "ledger.duckdb"


@pytest.fixture
def ledger(db_path: Path):
    """An open, migrated writer connection on a fresh database."""
    con = connect_writer(db_path)
    yield con
    con.close()
