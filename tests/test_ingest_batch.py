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


def _keys_and_output(rows) -> list[tuple[str, int]]:
    return sorted((r.request_key, r.output_tokens) for r in rows)


def _chunk(*rows: Request) -> RecordBatch:
    """A worker's batch of `rows` as the writing process receives it (requests as a frame)."""
    batch = RecordBatch()
    for row in rows:
        batch.requests.add(row)
    return pickle.loads(pickle.dumps(batch))


def test_a_pickled_batch_keeps_its_requests_and_merges_later_copies_by_the_rule():
    arrived = _chunk(_request("m1:r1", "m1", 5), _request("m2:r2", "m2", 7), _request("m1:r1", "m1", 9))
    assert not arrived.requests.by_key and len(arrived.request_frames) == 1
    assert _keys_and_output(arrived.request_rows()) == [("m1:r1", 9), ("m2:r2", 7)]
    pending = RecordBatch()
    pending.absorb(arrived)
    # A sidechain replay of m2 under a new request id loses to the copy that came through the pickle.
    pending.absorb(_chunk(_request("m2:r9", "m2", 50, sidechain=True)))
    assert _keys_and_output(pending.request_rows()) == [("m1:r1", 9), ("m2:r2", 7)]
    # A larger copy of m1:r1 from a later chunk replaces it.
    pending.absorb(_chunk(_request("m1:r1", "m1", 11)))
    assert _keys_and_output(pending.request_rows()) == [("m1:r1", 11), ("m2:r2", 7)]


def _as_records(*chunks: list[Request]) -> RecordBatch:
    """The batches absorbed as records (parsed in-process): the rule applied copy by copy."""
    pending = RecordBatch()
    for rows in chunks:
        batch = RecordBatch()
        for row in rows:
            batch.requests.add(row)
        pending.absorb(batch)
    return pending


def _as_frames(*chunks: list[Request]) -> RecordBatch:
    pending = RecordBatch()
    for rows in chunks:
        pending.absorb(_chunk(*rows))
    return pending


def test_chunks_merged_as_frames_give_the_rows_and_the_order_records_give():
    def estimated(key: str, message_id: str, output: int) -> Request:
        return Request(request_key=key, source="claude", ts=T, message_id=message_id, output_tokens=output,
                       output_estimated=True, file_path="g.jsonl", line_no=output)

    cases = {
        # No key nor message id in two chunks: the frames are put together as they are.
        "distinct": ([_request("a:1", "a", 1), _request("b:1", None, 2)], [_request("c:1", "c", 3)],
                     [_request("d:1", "d", 4)]),
        # m1:r1 again, larger: it replaces the first copy and goes to the end, as RequestMerger puts it.
        "replaced": ([_request("m1:r1", "m1", 5), _request("m2:r2", "m2", 7)], [_request("m3:r3", "m3", 1)],
                     [_request("m1:r1", "m1", 9)]),
        # A sidechain replay under another request id, and an estimate met by a final copy.
        "replay": ([_request("m2:r2", "m2", 7), estimated("m4:r4", "m4", 3)],
                   [_request("m2:r9", "m2", 50, sidechain=True), _request("m4:r4", "m4", 3)]),
        # The same message id without a sidechain is two requests.
        "two requests": ([_request("m5:r1", "m5", 2)], [_request("m5:r2", "m5", 2)]),
    }
    for name, chunks in cases.items():
        by_records, by_frames = _as_records(*chunks), _as_frames(*chunks)
        assert by_frames.request_frame().equals(by_records.request_frame()), name
    assert [r.request_key for r in _as_frames(*cases["replaced"]).request_rows()] == ["m2:r2", "m3:r3", "m1:r1"]
    replay = {r.request_key: r for r in _as_frames(*cases["replay"]).request_rows()}
    assert sorted(replay) == ["m2:r2", "m4:r4"] and replay["m2:r2"].output_tokens == 7
    assert replay["m4:r4"].output_estimated is False
    assert [r.request_key for r in _as_frames(*cases["two requests"]).request_rows()] == ["m5:r1", "m5:r2"]


def test_records_parsed_in_process_and_frames_from_workers_keep_their_arrival_order():
    in_process = RecordBatch()
    in_process.requests.add(_request("x:1", "x", 8))
    pending = RecordBatch()
    pending.absorb(in_process)
    pending.absorb(_chunk(_request("y:1", "y", 1), _request("x:1", "x", 2)))
    later = RecordBatch()
    later.requests.add(_request("z:1", "z", 4))
    pending.absorb(later)
    # x:1 came first and is larger: the worker's copy loses; every other row keeps its place.
    assert [(r.request_key, r.output_tokens) for r in pending.request_rows()] == [("x:1", 8), ("y:1", 1), ("z:1", 4)]
    assert pending.request_columns("request_key")["request_key"].to_list() == ["x:1", "y:1", "z:1"]
    assert pending.session_ids() == [None]


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
