"""A batch handed from a worker process arrives as it left: its requests still merge by the rule."""

from __future__ import annotations

import datetime as dt
import pickle

from ingest.batch import RecordBatch
from ingest.hashing import short_hash
from ingest.records import EditLine, Request, columns

T = dt.datetime(2026, 3, 1, 10)


def _request(key: str, message_id: str, output: int, sidechain: bool = False) -> Request:
    return Request(request_key=key, source="claude", ts=T, message_id=message_id, output_tokens=output,
                   is_sidechain=sidechain, file_path="f.jsonl", line_no=output)


def test_a_pickled_batch_keeps_its_requests_and_merges_later_copies_by_the_rule():
    batch = RecordBatch()
    for row in (_request("m1:r1", "m1", 5), _request("m2:r2", "m2", 7), _request("m1:r1", "m1", 9)):
        batch.requests.add(row)
    arrived = pickle.loads(pickle.dumps(batch))
    assert sorted((r.request_key, r.output_tokens) for r in arrived.requests.rows()) == [("m1:r1", 9), ("m2:r2", 7)]
    # A sidechain replay of m2 under a new request id finds the copy that came through the pickle.
    assert arrived.requests.add(_request("m2:r9", "m2", 50, sidechain=True)) is not None
    assert sorted((r.request_key, r.output_tokens) for r in arrived.requests.rows()) == [("m1:r1", 9), ("m2:r2", 7)]
    assert arrived.requests.add(_request("m1:r1", "m1", 11)) is not None
    assert sorted((r.request_key, r.output_tokens) for r in arrived.requests.rows()) == [("m1:r1", 11), ("m2:r2", 7)]


def test_an_edits_lines_are_one_row_per_file_and_distinct_normalised_line_with_its_count():
    batch = RecordBatch()
    # "x = 1" and "  x   =  1 " normalise alike; a blank line is no row; each file has its own rows.
    batch.add_edit_lines("toolu_1", "claude", "s1", {"/r/a.py": ["x = 1", "", "y", "  x   =  1 "], "/r/b.py": ["y"]})
    batch.add_edit_lines("toolu_2", "codex", None, {"/r/c.py": []})
    unfrozen = RecordBatch()
    unfrozen.add_edit_lines("toolu_3", "gemini", "s3", {"/r/d.py": ["z"]})
    batch.absorb(unfrozen)
    x, y, z = short_hash("x = 1"), short_hash("y"), short_hash("z")
    expected = [
        EditLine(tool_use_id="toolu_1", source="claude", session_id="s1", file_path="/r/a.py", line_hash=x, lines=2),
        EditLine(tool_use_id="toolu_1", source="claude", session_id="s1", file_path="/r/a.py", line_hash=y, lines=1),
        EditLine(tool_use_id="toolu_1", source="claude", session_id="s1", file_path="/r/b.py", line_hash=y, lines=1),
        EditLine(tool_use_id="toolu_3", source="gemini", session_id="s3", file_path="/r/d.py", line_hash=z, lines=1),
    ]
    # Handed over from a worker, the rows are exactly the records' frame (same columns, types, order).
    arrived = pickle.loads(pickle.dumps(batch))
    assert arrived.frame("edit_lines").equals(columns(EditLine, expected))
    assert batch.frame("edit_lines").equals(columns(EditLine, expected))
