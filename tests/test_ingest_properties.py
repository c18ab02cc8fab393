"""Invariants, checked over generated splits: ingesting twice equals once; any arrival order sums the same."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store.db import connect_writer
from tests.claude_lines import assistant, text, usage

T0 = "2026-03-01T10:00:00.000Z"


def _response_lines(n_responses: int) -> list[bytes]:
    lines = []
    for r in range(n_responses):
        final = usage(r + 1, 100 + r, 10 * r, 1000)
        for block in range(3):
            last = block == 2
            use = final if last else dict(final, output_tokens=3)
            lines.append(json.dumps(assistant(T0, f"msg_{r}", f"req_{r}", use, [text()],
                                              stop_reason="end_turn" if last else None)).encode())
    return lines



@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_split_of_appends_and_reruns_gives_the_one_shot_totals(tmp_path_factory, data):
    from tests.helpers import ingest, totals

    n = data.draw(st.integers(min_value=1, max_value=6), label="responses")
    lines = _response_lines(n)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(lines)), max_size=4), label="cuts")) + [len(lines)]
    folder = tmp_path_factory.mktemp("p")
    path = folder / "s.jsonl"
    con = connect_writer(folder / "l.duckdb")
    for cut in cuts:
        path.write_bytes(b"".join(line + b"\n" for line in lines[:cut]))
        ingest(con, folder)
        if data.draw(st.booleans(), label="rerun"):
            ingest(con, folder)
    expected = (
        sum(r + 1 for r in range(n)), sum(100 + r for r in range(n)), sum(10 * r for r in range(n)), 1000 * n
    )
    assert totals(con) == expected
    assert con.execute("SELECT count(*) FROM requests").fetchone()[0] == n
    assert con.execute("SELECT count(*) FROM requests WHERE output_estimated").fetchone()[0] == 0
    con.close()
