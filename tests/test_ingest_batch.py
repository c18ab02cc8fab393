"""A batch handed from a worker process arrives as it left: its requests still merge by the rule."""

from __future__ import annotations

import datetime as dt
import pickle

from ingest.batch import RecordBatch
from ingest.records import Request

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
