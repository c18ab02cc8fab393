"""The usage_spike history a chunk reads (derive_spike_scope.sql): the person's other sessions as
stored; and, once the spikes are known (derive_spikes.sql), the stored requests of the spikes' other
sessions on their spike days, found through their people's rows first."""

from __future__ import annotations

import polars as pl

from analytics import queries
from analytics.refresh import CHUNK_STEPS, sql_params
from analytics.config import AnalyticsSettings
from store.db import connect_writer

SCOPE = [s for s in CHUNK_STEPS if s.name in ("derive_touched", "touched_filter", "derive_spike_scope", "shadow_derived")]
# The statement of derive_spikes.sql that looks the stored requests up.
SPIKE_REQUESTS = next(s for s in queries.statements("derive_spikes") if "TEMP TABLE _spike_requests AS" in s)

# (session, person, day, request): ann's chunk session s1; her history s2 (hers alone), s3 (shared
# with bob: one session, two people) and s4 (a request with no person, beside one of hers); bob's
# own session s5 and carl's s6 are no history of ann's.
REQUESTS = [
    ("s1", "ann", "2026-11-02", "r1"),
    ("s2", "ann", "2026-11-01", "r2"), ("s2", "ann", "2026-11-02", "r3"),
    ("s3", "ann", "2026-11-01", "r4"), ("s3", "bob", "2026-11-01", "r5"),
    ("s4", "ann", "2026-11-03", "r6"), ("s4", None, "2026-11-03", "r7"),
    ("s5", "bob", "2026-11-01", "r8"),
    ("s6", "carl", "2026-11-01", "r9"), ("s6", None, "2026-11-01", "r10"),
]


def _ledger(tmp_path):
    con = connect_writer(tmp_path / "l.duckdb")
    facts = pl.DataFrame(REQUESTS, schema=["session_id", "user_name", "day", "request_key"], orient="row")
    con.register("_facts", facts)
    con.execute("""
        INSERT INTO request_facts (request_key, source, session_id, thread, user_name, ts, day, input_tokens,
            output_tokens, cache_creation_tokens, cache_read_tokens, total_tokens, turn_no, outcome)
        SELECT request_key, 'claude', session_id, '', user_name, day::DATE::TIMESTAMP, day::DATE, 0, 0, 0, 0,
               10 * row_number() OVER (ORDER BY request_key), 0, 'kept' FROM _facts""")
    # The stored rollup: one row per session, day and person, as derive_rollups writes it.
    con.execute("""
        INSERT INTO session_day_facts BY NAME
        SELECT day, session_id, user_name, 'claude' AS source, min(ts) AS first_ts, max(ts) AS last_ts,
               count(*) AS requests, 0 AS unpriced_requests, 0 AS input_tokens, 0 AS output_tokens,
               0 AS cache_creation_tokens, 0 AS cache_read_tokens, sum(total_tokens) AS total_tokens,
               sum(total_tokens) AS kept_tokens, 0 AS looping_tokens, 0 AS discarded_tokens, 0 AS idle_tokens
        FROM request_facts GROUP BY day, session_id, user_name""")
    con.unregister("_facts")
    return con


def _scope(tmp_path):
    con = _ledger(tmp_path)
    con.register("chunk_sessions", pl.DataFrame({"session_id": ["s1"]}))
    params = sql_params(AnalyticsSettings())
    queries.prepare(con)   # the macros a refresh creates first (in_span)
    for step in SCOPE:
        step.run(con, params) if step.run else queries.execute(con, step.name, params)
    return con


def test_the_history_holds_the_persons_other_sessions(tmp_path):
    con = _scope(tmp_path)
    assert sorted(r[0] for r in con.execute("SELECT user_name FROM _spike_users").fetchall()) == ["ann"]
    assert sorted(con.execute("SELECT DISTINCT session_id FROM _spike_history").fetchall()) == [("s2",), ("s3",), ("s4",)]
    con.close()


def test_a_spikes_stored_requests_are_its_other_sessions_on_its_day_whoever_made_them(tmp_path):
    con = _scope(tmp_path)
    # Past shadow_derived the ledger's request_facts is hidden by the chunk's empty TEMP copy: the
    # lookup reads the ledger's rows through _stored_request_facts.
    assert con.execute("SELECT count(*) FROM request_facts").fetchone() == (0,)
    # Spikes on the chunk's s1 (its requests are the ones derived now, never the stored r1), on s2's
    # second day (r3, not r2 of the day before), on s3's day (bob's r5 too: the flag lists the
    # session's requests that day) and on s4's day (r7, with no person, too); s5 and s6 have none.
    con.execute("""CREATE TEMP TABLE _spikes AS SELECT * FROM (VALUES ('s1', DATE '2026-11-02'),
        ('s2', DATE '2026-11-02'), ('s3', DATE '2026-11-01'), ('s4', DATE '2026-11-03')) v(session_id, day)""")
    con.execute(SPIKE_REQUESTS)
    got = sorted(con.execute("SELECT session_id, day::VARCHAR, request_key, total_tokens FROM _spike_requests").fetchall())
    assert got == [("s2", "2026-11-02", "r3", 40), ("s3", "2026-11-01", "r4", 50), ("s3", "2026-11-01", "r5", 60),
                   ("s4", "2026-11-03", "r6", 70), ("s4", "2026-11-03", "r7", 80)]
    con.close()


def test_no_spike_looks_nothing_up(tmp_path):
    con = _scope(tmp_path)
    con.execute("CREATE TEMP TABLE _spikes AS SELECT 's2' AS session_id, DATE '2026-11-02' AS day LIMIT 0")
    con.execute(SPIKE_REQUESTS)
    assert con.execute("SELECT count(*) FROM _spike_requests").fetchone() == (0,)
    con.close()


# derive_spikes.sql's first two statements: the person-days (history and chunk) and the spikes.
SPIKE_DAYS, SPIKES = queries.statements("derive_spikes")[:2]

# (session, person, day, model, cost USD, tokens, kept tokens) rows of session_day_facts, one per
# session x day x model. Each of ann and the person-less requests (None) spend 1 USD on days 1 and
# 2, then 7 USD on day 3 (> 3 x the median of 1) with a useful share of 0.1 (< 0.5): a spike. On
# day 3 their sessions are s3/n3 (two models: 1 + 4 USD) and s2/n2, which also ran on day 2 (its day-2
# row is no part of the day-3 flag). bob works on day 3 too, in s2: the spike is ann's, not his.
DAYS = [
    ("s1", "ann", 1, "m", 1.0, 100, 100), ("s2", "ann", 2, "m", 1.0, 100, 100),
    ("s3", "ann", 3, "m", 1.0, 200, 20), ("s3", "ann", 3, "o", 4.0, 800, 80), ("s2", "ann", 3, "m", 2.0, 200, 20),
    ("n1", None, 1, "m", 1.0, 100, 100), ("n2", None, 2, "m", 1.0, 100, 100),
    ("n3", None, 3, "m", 5.0, 1000, 100), ("n2", None, 3, "m", 2.0, 200, 20),
    ("s2", "bob", 3, "m", 9.0, 900, 900),
]


def test_a_spikes_sessions_are_summed_over_the_spike_day_alone_a_person_less_day_too(tmp_path):
    con = connect_writer(tmp_path / "l.duckdb")
    queries.prepare(con)
    con.register("_days", pl.DataFrame(DAYS, schema=["session_id", "user_name", "d", "model", "cost", "tokens", "kept"],
                                       orient="row"))
    con.execute("""
        INSERT INTO session_day_facts BY NAME
        SELECT DATE '2026-11-01' + (d - 1)::INTEGER AS day, session_id, user_name, 'claude' AS source, model,
               (DATE '2026-11-01' + (d - 1)::INTEGER)::TIMESTAMP + to_hours(d) AS first_ts,
               (DATE '2026-11-01' + (d - 1)::INTEGER)::TIMESTAMP + to_hours(d + 1) AS last_ts,
               1 AS requests, 0 AS unpriced_requests, 0 AS input_tokens, 0 AS output_tokens,
               0 AS cache_creation_tokens, 0 AS cache_read_tokens, tokens AS total_tokens, cost AS cost_usd,
               kept AS kept_tokens, 0 AS looping_tokens, 0 AS discarded_tokens, 0 AS idle_tokens
        FROM _days""")
    con.execute("CREATE TEMP TABLE _spike_history AS SELECT user_name, day, session_id, source, project, first_ts,"
                " last_ts, total_tokens, kept_tokens, overhead_tokens, cost_usd, unpriced_requests"
                " FROM session_day_facts LIMIT 0")
    params = sql_params(AnalyticsSettings())
    for sql in (SPIKE_DAYS, SPIKES):
        con.execute(sql, queries.bind(sql, params) or None)
    got = con.execute("SELECT session_id, user_name, day::VARCHAR, tokens, round(cost, 6), kept, started_at::VARCHAR,"
                      " ended_at::VARCHAR FROM _spikes ORDER BY ALL").fetchall()
    assert got == [
        ("n2", None, "2026-11-03", 200, 2.0, 20, "2026-11-03 03:00:00", "2026-11-03 04:00:00"),
        ("n3", None, "2026-11-03", 1000, 5.0, 100, "2026-11-03 03:00:00", "2026-11-03 04:00:00"),
        ("s2", "ann", "2026-11-03", 200, 2.0, 20, "2026-11-03 03:00:00", "2026-11-03 04:00:00"),
        ("s3", "ann", "2026-11-03", 1000, 5.0, 100, "2026-11-03 03:00:00", "2026-11-03 04:00:00"),
    ]
    evidence = con.execute("SELECT evidence FROM _spikes WHERE session_id = 's3'").fetchone()[0]
    assert evidence == ("day spend 7.0 USD = 7.0x this person's median of 1.0 USD over 2 active day(s); useful ratio"
                        " that day 0.1; this session 0.0 M tokens, useful ratio 0.1")
    con.close()
