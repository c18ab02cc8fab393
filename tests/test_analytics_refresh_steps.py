"""The refresh's ordered steps declare what they read and write, and the declarations match the SQL."""

from __future__ import annotations

import re

import pytest

from analytics import queries
from analytics.refresh import DERIVED, STEPS, STORED_VIEWS, TEMP_TABLES

_WRITES = re.compile(r"\b(?:CREATE\s+OR\s+REPLACE\s+TEMP\s+TABLE|INSERT\s+INTO|DELETE\s+FROM|UPDATE)\s+([A-Za-z_]\w*)", re.I)
_READS = re.compile(r"\b(?:FROM|JOIN)\s+([A-Za-z_]\w*)", re.I)
_CTES = re.compile(r"(?:\bWITH|,)\s*([A-Za-z_]\w*)\s+AS\s*(?:NOT\s+)?(?:MATERIALIZED\s*)?\(", re.I)


def _tables(name: str) -> tuple[set[str], set[str]]:
    """(tables read, tables written) by analytics/sql/<name>.sql; CTEs and its own outputs are not reads."""
    text = "\n".join(queries._strip_comments(s) for s in queries.statements(name))
    text = re.sub(r"\bDISTINCT\s+FROM\b", "DISTINCT_FROM", text, flags=re.I)  # a comparison, not a table
    writes = set(_WRITES.findall(text))
    reads = set(_READS.findall(text)) - set(_CTES.findall(text)) - writes
    return reads, writes


@pytest.mark.parametrize("step", [s for s in STEPS if s.sql], ids=lambda s: s.name)
def test_a_sql_steps_declaration_is_what_its_file_does(step):
    reads, writes = _tables(step.name)
    assert set(step.writes) == writes
    assert set(step.reads) == reads


def test_every_temp_table_is_written_before_a_step_reads_it():
    written: set[str] = set()
    for step in STEPS:
        early = [t for t in step.reads if t.startswith("_") and t not in written]
        assert early == [], f"{step.name} reads {early} before any step writes them"
        written |= set(step.writes)
    assert set(DERIVED) <= written


def test_the_temp_tables_dropped_afterwards_are_every_one_written():
    # The views of the ledger's own derived tables are dropped as views, after the tables.
    assert set(TEMP_TABLES) | set(STORED_VIEWS) == {t for s in STEPS for t in s.writes if t.startswith("_")}
    assert not set(TEMP_TABLES) & set(STORED_VIEWS)
    assert len(TEMP_TABLES) == 53


def test_the_check_notices_an_undeclared_read(monkeypatch):
    step = next(s for s in STEPS if s.name == "derive_loops")
    original = queries.statements

    def with_a_join(name):
        return original(name) + (("SELECT * FROM _calls JOIN _attr USING (request_key)",) if name == step.name else ())

    monkeypatch.setattr(queries, "statements", with_a_join)
    reads, _ = _tables(step.name)
    assert "_attr" in reads and "_attr" not in step.reads
