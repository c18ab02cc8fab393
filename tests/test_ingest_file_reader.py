"""Reading a block of a log: the same bytes `handle.read(n)` gives, whatever the file's size."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest import file_reader


@settings(max_examples=60, deadline=None)
@given(size=st.integers(0, 300), start=st.integers(0, 320), n=st.integers(1, 400))
def test_read_at_most_reads_what_read_n_reads(tmp_path_factory, size, start, n):
    path = tmp_path_factory.mktemp("f") / "log.jsonl"
    path.write_bytes(bytes(i % 251 for i in range(size)))
    with path.open("rb") as a, path.open("rb") as b:
        a.seek(start)
        b.seek(start)
        assert file_reader._read_at_most(a, n) == b.read(n)


@pytest.mark.parametrize("grown", [1, 50, 500])
def test_a_file_that_grew_after_its_size_was_taken_is_read_on_up_to_the_block(tmp_path, monkeypatch, grown):
    path = tmp_path / "log.jsonl"
    path.write_bytes(b"x" * 100 + b"y" * grown)
    real_fstat = os.fstat

    class Stale:  # the size the file had before the writer appended to it
        def __init__(self, fd):
            self.st_size = 100
            self.st_mode = real_fstat(fd).st_mode

    monkeypatch.setattr(file_reader.os, "fstat", Stale)
    with path.open("rb") as handle:
        assert file_reader._read_at_most(handle, 300) == (b"x" * 100 + b"y" * grown)[:300]
