"""While batches are loaded the collector leaves what existed before alone and runs less often;
the process gets its own settings back after the run, whether it ends well or fails."""

from __future__ import annotations

import gc

import pytest

from ingest.runner import LOAD_GC_THRESHOLD, IngestOptions, IngestRun, run_ingest
from store.db import connect_writer
from store.ledger import HeldLedger
from tests.real_corpus import PROJECTS, available

pytestmark = pytest.mark.skipif(not available(), reason="needs ../shared/corpus")

FOLDER = PROJECTS / "-src-deep-manifest"


def _run(tmp_path):
    con = connect_writer(tmp_path / "l.duckdb")
    try:
        return run_ingest(HeldLedger(con), IngestOptions(paths=[FOLDER], user="dain", progress=False))
    finally:
        con.close()


def test_batches_are_written_with_fewer_collections_and_the_defaults_come_back(tmp_path, monkeypatch):
    before = gc.get_threshold()
    during: list[tuple[int, int]] = []
    flush = IngestRun._flush

    def recording(self, pending, parsing_workers=0):
        during.append((gc.get_threshold()[0], gc.get_freeze_count()))
        return flush(self, pending, parsing_workers)

    monkeypatch.setattr(IngestRun, "_flush", recording)
    assert _run(tmp_path).requests_new > 0
    assert during and all(threshold == LOAD_GC_THRESHOLD and frozen > 0 for threshold, frozen in during)
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_a_failed_load_gives_the_collector_its_settings_back(tmp_path, monkeypatch):
    before = gc.get_threshold()

    def failing(self, pending, parsing_workers=0):
        raise OSError("disk full")

    monkeypatch.setattr(IngestRun, "_flush", failing)
    with pytest.raises(OSError):
        _run(tmp_path)
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
