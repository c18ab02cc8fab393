"""The refresh in chunks: whatever the chunk size and however the data arrived, the derived tables
are those of one refresh over everything; a re-derive after a price change is pending (and said
so) until it is done, chunk by chunk, and new data goes first."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import duckdb
import pytest

import analytics.refresh as refresh
from agentledger.cli import main
from analytics.config import AnalyticsSettings
from analytics.refresh import RefreshSettings, pending, refresh_derived, refresh_ledger
from ingest.runner import IngestOptions, run_ingest
from sample_data.generator import generate
from store.db import connect_writer, open_ledger
from store.ledger import HeldLedger
from store.key_hashes import key_hash

DERIVED = ("request_facts", "request_components", "session_day_facts", "component_day_facts", "flags", "flag_requests")


@pytest.fixture(scope="module")
def org(tmp_path_factory) -> Path:
    """Four people over two weeks: every planted behaviour, a usage spike, Codex and OTel too."""
    out = tmp_path_factory.mktemp("org")
    generate(out, users=4, days=14, seed=3, scale=0.4)
    return out


def _load(db: Path, *roots: Path):
    """The ledger facts alone (no refresh yet): the refresh under test does the deriving."""
    con = connect_writer(db)
    for root in roots:
        run_ingest(con, IngestOptions(paths=[root], user_from_dir=True, progress=False))
    return con


def _snapshot(con) -> dict[str, list]:
    """Every derived row; sums of floats added in another order differ in their last bits, so
    floats compare with a relative tolerance (Approx)."""
    def row(values):
        return tuple(Approx(v) if isinstance(v, float) else v for v in values)

    def order(values):
        return repr(tuple(None if isinstance(v, float) else v for v in values))

    return {t: sorted((row(r) for r in con.execute(f"SELECT * FROM {t}").fetchall()), key=order) for t in DERIVED}


class Approx(float):
    def __eq__(self, other):
        return isinstance(other, float) and math.isclose(float(self), float(other), rel_tol=1e-9, abs_tol=1e-12)

    __hash__ = float.__hash__


@pytest.fixture(scope="module")
def reference(org, tmp_path_factory) -> dict[str, list]:
    """One refresh over everything, in one chunk."""
    con = _load(tmp_path_factory.mktemp("ref") / "l.duckdb", org)
    summary = refresh_ledger(HeldLedger(con), options=RefreshSettings(derive_chunk_rows=10**9))
    assert summary.chunks == 1 and summary.full
    snapshot = _snapshot(con)
    con.close()
    assert {r[1] for r in snapshot["flags"]} >= {"loop", "discarded_work", "idle_burn", "usage_spike", "context_bloat"}
    return snapshot


@pytest.mark.parametrize("rows, list_filter_max", [(1, 256), (60, 256), (300, 0)],
                         ids=["a session per chunk", "a few sessions per chunk", "chunks selected by a join"])
def test_any_chunking_derives_what_one_chunk_does(org, reference, tmp_path, monkeypatch, rows, list_filter_max):
    monkeypatch.setattr(refresh, "LIST_FILTER_MAX", list_filter_max)
    con = _load(tmp_path / "l.duckdb", org)
    summary = refresh_ledger(HeldLedger(con), options=RefreshSettings(derive_chunk_rows=rows))
    assert summary.chunks > 3
    assert _snapshot(con) == reference
    assert pending(con).sessions == {}
    con.close()


def test_threads_change_no_derived_value_and_the_connection_gets_its_own_back(org, reference, tmp_path):
    con = _load(tmp_path / "l.duckdb", org)
    con.execute("SET threads = 3")
    refresh_ledger(HeldLedger(con), options=RefreshSettings(derive_chunk_rows=10**9, refresh_threads=2))
    assert _snapshot(con) == reference   # the reference derived with one thread (the default)
    assert con.execute("SELECT current_setting('threads')").fetchone()[0] == 3
    con.close()


def test_the_plan_runs_on_the_refresh_threads_and_the_connection_gets_its_own_back(org, tmp_path, monkeypatch):
    con = _load(tmp_path / "l.duckdb", org)
    con.execute("SET threads = 3")
    seen = []
    execute = refresh.queries.execute

    def spy(c, name, params=None):
        if name == "derive_queue":
            seen.append(c.execute("SELECT current_setting('threads')").fetchone()[0])
        return execute(c, name, params)

    monkeypatch.setattr(refresh.queries, "execute", spy)
    refresh_ledger(HeldLedger(con), options=RefreshSettings(refresh_threads=2))
    assert seen == [2]
    assert con.execute("SELECT current_setting('threads')").fetchone()[0] == 3
    con.close()


def _split(org: Path, into: Path) -> tuple[Path, Path]:
    """The org's transcripts in two deliveries: the last four days' sessions arrive later (their
    people's history, and so their usage spikes, change)."""
    truth = json.loads((org / "ground_truth.json").read_text())
    last_days = sorted({s["date"] for s in truth["sessions"]})[-4:]
    late = {f for s in truth["sessions"] if s["date"] in last_days for f in s["files"]}
    first, second = into / "first", into / "second"
    for path in org.rglob("*"):
        if path.is_file() and path.name not in ("ground_truth.json", "org.csv"):
            rel = path.relative_to(org)
            target = (second if str(rel) in late else first) / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    return first, second


def test_incremental_refreshes_as_data_arrives_derive_what_one_does(org, reference, tmp_path):
    first, second = _split(org, tmp_path / "deliveries")
    con = connect_writer(tmp_path / "l.duckdb")
    for part in (first, second):
        for path in sorted(part.rglob("*")):
            if path.is_file():  # the same files, in the same folders as the reference's
                target = tmp_path / "org" / path.relative_to(part)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
        run_ingest(con, IngestOptions(paths=[tmp_path / "org"], user_from_dir=True, progress=False))
        second_refresh = refresh_ledger(HeldLedger(con), options=RefreshSettings(derive_chunk_rows=40))
    assert not second_refresh.full and 0 < second_refresh.sessions
    # The files live under another root than the reference's: compare what does not name them.
    assert _snapshot(con) == reference
    con.close()


def _half_price(con, tmp_path: Path) -> AnalyticsSettings:
    """Negotiated prices: every priced model of the ledger at half its list price."""
    models = [m for (m,) in con.execute("SELECT DISTINCT model FROM model_prices").fetchall()]
    prices = tmp_path / "prices.toml"
    prices.write_text("\n".join(f'[[models]]\nmodel = "{m}"\ndiscount_pct = 50\n' for m in models))
    return AnalyticsSettings(prices_file=prices)


def test_a_price_change_is_redone_in_chunks_new_data_first_and_reports_say_what_is_stale(org, tmp_path, capsys):
    db = tmp_path / "l.duckdb"
    first, second = _split(org, tmp_path / "deliveries")
    con = _load(db, first)
    refresh_derived(con)
    first_sessions = [s for (s,) in con.execute("SELECT DISTINCT session_id FROM request_facts").fetchall()]
    cost_of_first = "SELECT sum(cost_usd) FROM request_facts WHERE list_contains(?, session_id)"
    cost_before = con.execute(cost_of_first, [first_sessions]).fetchone()[0]
    cheaper = _half_price(con, tmp_path)
    # A scheduled run after the price change, with no time for re-deriving: what is new is
    # derived (at the new prices); every other session waits, its figures the old ones.
    run_ingest(con, IngestOptions(paths=[second], user_from_dir=True, progress=False))
    scheduled = refresh_ledger(HeldLedger(con), cfg=cheaper, rederive_seconds=0)
    assert scheduled.full and scheduled.sessions > 0 and scheduled.pending > 0
    waiting = pending(con)
    assert set(waiting.sessions) == {"prices"} and waiting.stale == scheduled.pending
    assert "still show figures computed with the previous prices" in waiting.note()
    new_sessions = [r[0] for r in con.execute("SELECT DISTINCT coalesce(session_id, '(none)') FROM requests"
                                              " WHERE run_id = (SELECT max(run_id) FROM ingest_runs)").fetchall()]
    assert not con.execute("SELECT count(*) FROM derive_queue WHERE list_contains(?, session_id)",
                           [new_sessions]).fetchone()[0]
    con.close()
    assert main(["report", "users", "--db", str(db), "--format", "csv"]) == 0
    assert "previous prices" in capsys.readouterr().err
    # `agentledger refresh` finishes it, in chunks, with progress; then nothing is stale.
    with open_ledger(db) as ledger:
        seen = []
        done = refresh_ledger(ledger, cfg=cheaper, options=RefreshSettings(derive_chunk_rows=50),
                              progress=lambda n, total: seen.append((n, total)))
    assert done.chunks > 1 and done.pending == 0 and not done.full
    assert seen[-1][0] >= seen[-1][1] > 0 and [n for n, _ in seen] == sorted(n for n, _ in seen)
    con = connect_writer(db)
    assert pending(con).note() is None
    assert con.execute(cost_of_first, [first_sessions]).fetchone()[0] < cost_before * 0.6
    finished = _snapshot(con)
    con.close()
    # The same as deriving everything at once at the new prices.
    fresh = _load(tmp_path / "fresh.duckdb", first, second)
    refresh_derived(fresh, cfg=cheaper)
    assert _snapshot(fresh) == finished
    fresh.close()


def test_refresh_command_shows_progress_and_its_chunks(org, tmp_path, capsys, monkeypatch):
    db = tmp_path / "l.duckdb"
    _load(db, org).close()
    monkeypatch.setattr(refresh, "refresh_settings", lambda: RefreshSettings(derive_chunk_rows=100))
    assert main(["refresh", "--db", str(db), "--progress"]) == 0
    out, err = capsys.readouterr()
    assert "refresh" in err and "row" in err
    chunks = int(out.split(" in ")[1].split(" chunk")[0])
    assert chunks > 1 and out.startswith("refreshed ")


def test_every_refresh_setting_is_documented_with_its_default():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "architecture.md").read_text()
    for name, field in RefreshSettings.model_fields.items():
        assert f"| `{name}` | {field.default:g} |" in doc, f"docs/architecture.md lacks the row of {name}"
        assert field.description, name



GIT_TABLES = ("session_repos", "git_links", "git_claims", "edit_outcomes", "commit_agent_lines", "git_turns")


def _limit(con) -> str:
    return con.execute("SELECT current_setting('memory_limit')").fetchone()[0]


def test_the_links_to_git_are_derived_under_the_refresh_memory_limit(org, tmp_path, monkeypatch):
    """The git phase is one window over every session after a re-derive: DuckDB's memory_limit
    (refresh_memory_mb) must hold there as in a chunk, so that it spills instead of growing with
    the ledger; the connection's own limit comes back afterwards."""
    con = _load(tmp_path / "l.duckdb", org)
    con.execute("SET memory_limit = '3GiB'")
    seen: dict[str, str] = {}
    execute = refresh.queries.execute

    def recording(con, name, *args, **kwargs):
        seen[name] = _limit(con)
        return execute(con, name, *args, **kwargs)

    monkeypatch.setattr(refresh.queries, "execute", recording)
    summary = refresh_ledger(HeldLedger(con), options=RefreshSettings(refresh_memory_mb=77))
    assert summary.git_sessions > 0
    assert {step.name for step in refresh.GIT_PHASE} <= set(seen)
    assert {seen[step.name] for step in refresh.GIT_PHASE} == {"77.0 MiB"}
    assert _limit(con) == "3.0 GiB"
    con.close()


def test_links_to_git_that_duckdb_cannot_fit_under_the_limit_are_redone_without_it(org, tmp_path, monkeypatch):
    """DuckDB refuses a few operators it cannot spill: the git phase's transaction is then redone
    without the limit, and derives exactly what a refresh that never hit the limit does."""
    con = _load(tmp_path / "plain.duckdb", org)
    refresh_ledger(HeldLedger(con))
    expected = {t: sorted(map(repr, con.execute(f"SELECT * EXCLUDE (linked_at) FROM {t}" if t == "git_links"
                                                else f"SELECT * FROM {t}").fetchall())) for t in GIT_TABLES}
    con.close()
    assert expected["edit_outcomes"]

    con = _load(tmp_path / "l.duckdb", org)
    con.execute("SET memory_limit = '3GiB'")
    refused: list[str] = []
    execute = refresh.queries.execute

    def refusing(con, name, *args, **kwargs):
        result = execute(con, name, *args, **kwargs)
        if name == "derive_git_survival" and _limit(con) == "77.0 MiB":
            refused.append(name)   # at the end of the phase: every table already written in the transaction
            raise duckdb.OutOfMemoryException("Out of Memory Error: failed to pin block")
        return result

    monkeypatch.setattr(refresh.queries, "execute", refusing)
    summary = refresh_ledger(HeldLedger(con), options=RefreshSettings(refresh_memory_mb=77))
    assert refused and summary.git_sessions > 0
    got = {t: sorted(map(repr, con.execute(f"SELECT * EXCLUDE (linked_at) FROM {t}" if t == "git_links"
                                           else f"SELECT * FROM {t}").fetchall())) for t in GIT_TABLES}
    assert got == expected
    assert _limit(con) == "3.0 GiB"
    assert not con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchone()[0]
    con.close()



@pytest.mark.parametrize("list_filter_max", [256, 0], ids=["sessions listed", "sessions joined"])
def test_a_chunk_reads_its_fact_rows_within_their_span_and_nothing_of_the_span_is_left_out(org, tmp_path,
                                                                                          list_filter_max,
                                                                                          monkeypatch):
    """Ingest appends what is new after what it holds: a chunk of the sessions that came later spans
    the end of each fact table (its scans skip the rest by their zone maps), and the span holds
    every row the chunk selects."""
    monkeypatch.setattr(refresh, "LIST_FILTER_MAX", list_filter_max)
    first, second = _split(org, tmp_path / "deliveries")
    con = _load(tmp_path / "l.duckdb", first, second)
    late = [r[0] for r in con.execute("SELECT DISTINCT coalesce(session_id, '(none)') FROM tool_calls "
                                      "WHERE run_id = 2 ORDER BY 1").fetchall()]
    con.register("chunk_sessions", duckdb.sql("SELECT unnest(?::VARCHAR[]) AS session_id", params=[late]).arrow())
    refresh.queries.prepare(con)   # in_span
    refresh.queries.execute(con, "derive_touched", {})
    refresh._touched_filter(con, {})
    sessions = "in_touched(coalesce(session_id, '(none)'))"
    tables = {"requests": sessions, "tool_calls": sessions, "session_events": sessions,
              "tool_results": f"tool_use_id IN (SELECT tool_use_id FROM tool_calls WHERE {sessions})"}
    for table, chunk_rows in tables.items():
        lo, hi, n = con.execute(f"SELECT min(rowid), max(rowid), count(*) FROM {table} WHERE {chunk_rows}").fetchone()
        assert n > 0, table
        assert con.execute(f"SELECT getvariable('agentledger_span_{table}')").fetchone()[0] == [lo, hi], table
        assert con.execute(f"SELECT count(*) FROM {table} WHERE in_span('{table}', rowid) AND {chunk_rows}"
                           ).fetchone()[0] == n, table
        in_span, between = con.execute(f"SELECT count(*) FILTER (WHERE in_span('{table}', rowid)), "
                                       f"count(*) FILTER (WHERE rowid BETWEEN {lo} AND {hi}) FROM {table}").fetchone()
        assert in_span == between, table
        # Left out: at least the first delivery's transcript rows (OpenTelemetry's rows, which a
        # run writes after its transcripts, may name the late sessions too).
        outside, first_transcripts = con.execute(
            f"SELECT count(*) FILTER (WHERE rowid NOT BETWEEN {lo} AND {hi}), count(*) FILTER (WHERE run_id = 1 AND "
            f"{'source <> ' + repr('otel') if table == 'requests' else 'TRUE'}) FROM {table}").fetchone()
        assert outside >= first_transcripts > 0, table
    con.close()


# (tool_use_id, session) of tool_results in the order written (rowid 0, 1, ...): the chunk is
# session "a", whose calls are c1 and c2. x0 and b2 are other sessions' results. Rows are written
# with their key hashes, as ingest writes them, but for the calls' and "a result without its hash".
RESULTS = {
    "within its sessions": [("x0", "x"), ("c1", "a"), ("b2", "b"), ("c2", "a"), ("x4", "x")],
    # c2's result under another session's row, after: found by its call's id all the same.
    "a result under another session": [("x0", "x"), ("c1", "a"), ("b2", "b"), ("x3", "x"), ("c2", "b")],
    "a call with no result": [("x0", "x"), ("c1", "a"), ("b2", "b"), ("x3", "x")],
    # x5 was stored without its hash: nothing says it is not one of the calls' results.
    "a result without its hash": [("x0", "x"), ("c1", "a"), ("b2", "b"), ("c2", "a"), ("x4", "x"), ("x5", "x")],
}
SPAN = {"within its sessions": [1, 3], "a result under another session": [1, 4], "a call with no result": [1, 1],
        "a result without its hash": [1, 5]}


@pytest.mark.parametrize("case", list(RESULTS))
def test_the_span_of_a_chunks_results_is_found_through_its_calls_and_leaves_none_out(tmp_path, case):
    con = connect_writer(tmp_path / "l.duckdb")
    con.execute("INSERT INTO tool_calls (tool_use_id, source, session_id, is_sidechain, ts, tool_name, component, "
                "component_kind, run_id) SELECT id, 'claude', sid, FALSE, TIMESTAMP '2026-11-01 10:00', 'Bash', "
                "'Bash', 'builtin', 1 FROM (VALUES ('x9', 'x'), ('c1', 'a'), ('c2', 'a')) v(id, sid)")
    for tool_use_id, session in RESULTS[case]:
        con.execute("INSERT INTO tool_results (tool_use_id, source, session_id, is_error, interrupted, result_bytes, "
                    "run_id, tool_use_hash) VALUES (?, 'claude', ?, FALSE, FALSE, 1, 1, ?)",
                    [tool_use_id, session, None if tool_use_id == "x5" else key_hash(tool_use_id)])
    con.register("chunk_sessions", duckdb.sql("SELECT 'a' AS session_id").arrow())
    refresh.queries.prepare(con)   # in_span
    refresh.queries.execute(con, "derive_touched", {})
    refresh._touched_filter(con, {})
    assert con.execute("SELECT getvariable('agentledger_span_tool_results')").fetchone()[0] == SPAN[case]
    # Every result of the chunk's calls lies within it.
    lo, hi = SPAN[case]
    assert con.execute(f"SELECT count(*) FROM tool_results WHERE tool_use_id IN ('c1', 'c2') AND rowid NOT BETWEEN "
                       f"{lo} AND {hi}").fetchone()[0] == 0
    con.close()


def _wal_bytes(db: Path) -> int:
    wal = db.with_name(db.name + ".wal")
    return wal.stat().st_size if wal.exists() else 0


@pytest.mark.parametrize("merge_log_bytes", [0, 10**12], ids=["a large log is merged first", "a small log is kept"])
def test_a_file_ledger_derives_every_chunk_on_the_writers_connection(org, reference, tmp_path, monkeypatch,
                                                                     merge_log_bytes):
    """A chunk is derived in a write window, on the connection the writer holds: no read connection
    (each cost a checkpoint to let the file go and a cold cache), and the log of commits is merged
    into the file before a chunk only when it exceeds MERGE_LOG_BYTES (un-merged rows stay in memory
    beside what the chunk caches). The values are those of one refresh over everything."""
    db = tmp_path / "l.duckdb"
    _load(db, org).close()
    with open_ledger(db) as ledger:
        con = ledger._hold()   # the writer's connection; its log of commits gets a table of filler
        con.execute("CREATE TABLE log_filler AS SELECT range AS n FROM range(200000)")
        logged = _wal_bytes(db)
        assert logged > 0
        monkeypatch.setattr(refresh, "MERGE_LOG_BYTES", merge_log_bytes)
        merged: list[int] = []
        merge_log = refresh._merge_log
        monkeypatch.setattr(refresh, "_merge_log", lambda c: (merge_log(c), merged.append(_wal_bytes(db))))
        monkeypatch.setattr(type(ledger), "read", lambda self: pytest.fail("a chunk was derived on a read connection"))
        summary = refresh_ledger(ledger, options=RefreshSettings(derive_chunk_rows=400))
        assert summary.chunks > 1 and len(merged) == summary.chunks
        if merge_log_bytes:
            assert merged[0] >= logged       # nothing merged: the log only grew
        else:
            assert merged[0] < logged        # merged before the first chunk
        ledger._held[0].execute("DROP TABLE log_filler")
    con = duckdb.connect(str(db))
    assert _snapshot(con) == reference
    con.close()


@pytest.mark.parametrize("at_once", [1, 2], ids=["one at a time", "two at once"])
def test_a_chunk_over_held_chunk_rows_is_derived_on_a_read_connection(org, reference, tmp_path, monkeypatch,
                                                                      at_once):
    """A large chunk is computed outside any write window (readers go on meanwhile, and wait for its
    short write only); a small one in the writer's window. Two chunks of different people are
    computed at once on one read connection (derive_chunks_at_once). The values are the same either way."""
    db = tmp_path / "l.duckdb"
    _load(db, org).close()
    with open_ledger(db) as ledger:
        reads: list[int] = []
        read = type(ledger).read

        def counted(self):
            reads.append(1)
            return read(self)

        monkeypatch.setattr(type(ledger), "read", counted)
        # held_chunk_rows=0: every chunk (at most 400 rows each) is larger than what is held.
        summary = refresh_ledger(ledger, options=RefreshSettings(derive_chunk_rows=400, held_chunk_rows=0,
                                                                 derive_chunks_at_once=at_once))
        assert summary.chunks > 1 and len(reads) == summary.chunks - summary.together
        assert (summary.together > 0) == (at_once == 2)
    con = duckdb.connect(str(db))
    assert _snapshot(con) == reference
    con.close()


def test_a_step_without_join_filters_gives_the_connection_its_own_optimizers_back(tmp_path):
    con = connect_writer(tmp_path / "l.duckdb")
    con.execute("SET disabled_optimizers = 'build_side_probe_side'")
    with refresh._join_filters(con, False):
        assert con.execute("SELECT current_setting('disabled_optimizers')").fetchone()[0] == \
            "build_side_probe_side,join_filter_pushdown"
    assert con.execute("SELECT current_setting('disabled_optimizers')").fetchone()[0] == "build_side_probe_side"
    with refresh._join_filters(con, True):
        assert con.execute("SELECT current_setting('disabled_optimizers')").fetchone()[0] == "build_side_probe_side"
    con.close()


def _queue(con, rows: list[tuple[str, str, int, str | None]]) -> None:
    con.execute("DELETE FROM derive_queue")
    con.executemany("INSERT INTO derive_queue (session_id, reason, weight, user_name) VALUES (?, ?, ?, ?)", rows)


def test_the_chunk_derived_beside_another_is_the_queues_next_of_other_people(tmp_path):
    """Hand-worked: the first chunk (budget 7) holds ann's two sessions and bob's first; beside it
    go the next sessions of neither ann nor bob, about 7 rows (carol's, dan's, then nobody's); bob's
    second session waits for a later chunk. New sessions come first, as in any chunk."""
    con = connect_writer(tmp_path / "l.duckdb")
    _queue(con, [("s1", "full", 3, "ann"), ("s2", "full", 3, "ann"), ("s3", "full", 3, "bob"),
                 ("s4", "full", 3, "bob"), ("s5", "full", 3, "carol"), ("s6", "full", 3, None),
                 ("s7", "full", 3, None), ("s8", "full", 3, "dan")])
    first = refresh._next_chunk(con, 7, True)
    assert first.sessions == ["s1", "s2", "s3"]
    partner = refresh._partner(con, first, 7, True)
    assert sorted(partner.sessions) == ["s5", "s6", "s8"] and partner.weight == 9   # carol, dan, then nobody (NULLS LAST)
    assert refresh._partner(con, first, 7, False) is None     # a re-derive out of time: only what is new
    # Nobody's sessions are one person: a chunk holding one of them is derived beside none of them.
    _queue(con, [("s6", "new", 3, None), ("s1", "full", 3, "ann"), ("s7", "full", 3, None)])
    first = refresh._next_chunk(con, 1, True)
    assert first.sessions == ["s6"]
    assert refresh._partner(con, first, 7, True) == refresh.Chunk(["s1"], 3)
    assert refresh._partner(con, first, 7, False) is None
    # The first of two: about half a chunk's rows, then its people's other sessions up to a whole chunk's.
    _queue(con, [("s1", "full", 3, "ann"), ("s2", "full", 3, "bob"), ("s3", "full", 3, "bob"),
                 ("s4", "full", 3, "bob"), ("s5", "full", 3, "carol"), ("s6", "new", 3, "bob")])
    assert sorted(refresh._first_half(con, 7, 14, True).sessions) == ["s1", "s2", "s3", "s4", "s6"]   # s6 new: first
    assert sorted(refresh._first_half(con, 7, 14, False).sessions) == ["s6"]
    assert sorted(refresh._first_half(con, 4, 10, True).sessions) == ["s1", "s2", "s3", "s6"]   # bob goes on later
    # Every session left belongs to the first chunk's people.
    _queue(con, [("s1", "full", 3, "ann"), ("s2", "full", 9, "ann")])
    assert refresh._partner(con, refresh._next_chunk(con, 1, True), 7, True) is None
    con.close()


def test_chunks_derived_at_once_never_share_a_person_and_a_pair_that_does_is_derived_again(org, reference,
                                                                                           tmp_path, monkeypatch):
    """usage_spike reads a person's other days as stored: two chunks of one person derived at once
    would each miss the other's days. When the people the steps find meet (here: the partner forced
    to be the plain next chunk, whose first person is the first chunk's last), the second chunk's
    rows are dropped and it stays queued; the values equal one refresh over everything."""
    db = tmp_path / "l.duckdb"
    _load(db, org).close()

    def next_regardless_of_people(con, first, budget, rederive):
        con.register("_first_chunk", duckdb.sql("SELECT unnest(?::VARCHAR[]) AS session_id", params=[first.sessions]).arrow())
        rows = con.execute(refresh._NEXT_CHUNK.replace("WHERE reason", "WHERE session_id NOT IN "
                                                       "(SELECT session_id FROM _first_chunk) AND (reason") .replace(
                                                       "OR ?", "OR ?)"), [rederive, budget]).fetchall()
        con.unregister("_first_chunk")
        return refresh.Chunk([r[0] for r in rows], sum(r[1] for r in rows)) if rows else None

    met: list[bool] = []
    share_someone = refresh._share_someone
    monkeypatch.setattr(refresh, "_share_someone", lambda *people: met.append(share_someone(*people)) or met[-1])
    options = RefreshSettings(derive_chunk_rows=400, held_chunk_rows=0, derive_chunks_at_once=2)
    with open_ledger(db) as ledger:
        summary = refresh_ledger(ledger, options=options)
    # The queue's next chunk of other people: the people the steps find never meet.
    assert summary.together > 0 and met == [False] * summary.together

    met.clear()
    monkeypatch.setattr(refresh, "_partner", next_regardless_of_people)
    with open_ledger(db) as ledger:
        summary = refresh_ledger(ledger, full=True, options=options)
    assert True in met and summary.together == met.count(False) and summary.pending == 0
    con = duckdb.connect(str(db))
    assert _snapshot(con) == reference
    con.close()
