"""Invariants, checked over generated splits: ingesting twice equals once; any arrival order sums the same."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store.db import connect_writer
from tests.claude_lines import assistant, prompt, text, usage

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


# -- any number of runs equals one run: Codex rollouts and inline sidechains ------------------------
SNAPSHOT_TABLES = ("requests", "tool_calls", "tool_results", "session_events", "agents", "rejects", "edit_lines",
                   "commit_evidence")
# Columns that say when or in which run a row was written, not what it says.
RUN_COLUMNS = ("run_id",)


def _snapshot(con) -> dict:
    snap = {}
    for table in SNAPSHOT_TABLES:
        names = [c[0] for c in con.execute(f"SELECT * FROM {table} LIMIT 0").description if c[0] not in RUN_COLUMNS]
        snap[table] = sorted(con.execute(f"SELECT {', '.join(names)} FROM {table}").fetchall(), key=repr)
    return snap


def _codex_lines(draw) -> list[dict]:
    from tests.test_source_codex import line, meta, tokens, turn
    from tests.test_source_codex import usage as codex_usage

    lines, total_in, total_out = [meta(), turn()], 0, 0
    for r in range(draw(st.integers(1, 5), label="codex requests")):
        ts = f"2025-11-22T20:{10 + r:02d}:00.000Z"
        for c in range(draw(st.integers(0, 2), label="calls")):
            # The second call of a request commits from a subdirectory: its output is commit evidence.
            command, output = (["echo", str(c)], "ok") if c == 0 else \
                (["bash", "-lc", "cd app && git commit -m fix"], f"[main {r:03x}{c:04x}] fix")
            lines.append(line(ts, "response_item", {"type": "function_call", "name": "shell", "call_id": f"c{r}_{c}",
                                                    "arguments": json.dumps({"command": command})}))
            lines.append(line(ts, "response_item", {"type": "function_call_output", "call_id": f"c{r}_{c}",
                                                    "output": f"Exit code: 0\nOutput:\n{output}\n"}))
        if draw(st.booleans(), label="token_count") or r == 0:
            total_in, total_out = total_in + 100 + r, total_out + 10 + r
            lines.append(tokens(ts, codex_usage(total_in, 50, total_out)))
    return lines


def _sidechain_lines(draw) -> list[dict]:
    lines = [prompt(T0, "go", version="1.0.24")]
    parent = None
    for r in range(draw(st.integers(1, 6), label="sidechain lines")):
        if r == 0 or draw(st.booleans(), label="new sidechain"):
            root = prompt(T0, "look into it", sidechain=True, version="1.0.24")
            lines.append(root)
            parent = root["uuid"]
        reply = assistant(T0, f"msg_{r}", f"req_{r}", usage(r + 1, 2, 3, 4), [text()], sidechain=True,
                          parent=parent, version="1.0.24")
        lines.append(reply)
        parent = reply["uuid"]
    return lines


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_number_of_runs_over_codex_and_sidechain_files_gives_the_one_run_tables(tmp_path_factory, data):
    from tests.helpers import ingest
    from tests.test_source_codex import rollout

    files = {"codex": _codex_lines(data.draw), "claude": _sidechain_lines(data.draw)}
    one = tmp_path_factory.mktemp("one")
    many = tmp_path_factory.mktemp("many")

    def paths(root):
        return {"codex": rollout(root), "claude": root / "p" / "s.jsonl"}

    def write(path, lines):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"".join(json.dumps(item).encode() + b"\n" for item in lines))

    for name, lines in files.items():
        write(paths(one)[name], lines)
    reference = connect_writer(one / "l.duckdb")
    ingest(reference, one)

    con = connect_writer(many / "l.duckdb")
    cuts = {name: sorted(data.draw(st.lists(st.integers(0, len(lines)), max_size=3), label=f"{name} cuts")) + [len(lines)]
            for name, lines in files.items()}
    # A cut between a commit's call and its output, whenever there is one: the call is in one run, the
    # evidence its output prints in the next.
    commit_calls = [i + 1 for i, item in enumerate(files["codex"]) if "git commit" in item["payload"].get("arguments", "")]
    if commit_calls:
        cuts["codex"] = sorted(cuts["codex"] + [data.draw(st.sampled_from(commit_calls), label="cut after a commit call")])
    for step in range(max(len(c) for c in cuts.values())):
        for name, lines in files.items():
            cut = cuts[name][min(step, len(cuts[name]) - 1)]
            write(paths(many)[name], lines[:cut])
        ingest(con, many)
    assert _snapshot(con) == _snapshot_relative(reference, one, many)
    con.close()
    reference.close()


def _snapshot_relative(con, old_root, new_root) -> dict:
    """The reference ledger's rows, with its folder's paths written as the other folder's."""
    snap = _snapshot(con)
    swap = lambda v: v.replace(str(old_root), str(new_root)) if isinstance(v, str) else v  # noqa: E731
    return {table: sorted((tuple(swap(v) for v in row) for row in rows), key=repr) for table, rows in snap.items()}
