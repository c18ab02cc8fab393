"""A session's project without git evidence (git_sessions() in macros.sql, docs/metrics.md "A
session's project"): the working directory most of its requests ran in, then the one with most
spend, then the first by name. Hand-worked rows of session_day_facts, one per (day, project, model)."""

from __future__ import annotations

from analytics import queries

COLUMNS = "day, session_id, user_name, project, source, model, first_ts, last_ts, requests, unpriced_requests, " \
          "input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens, total_tokens, cost_usd, " \
          "kept_tokens, looping_tokens, discarded_tokens, idle_tokens"


def _day(con, session: str, project: str | None, requests: int, cost: float | None, day: str = "2026-01-05",
         model: str = "m") -> None:
    con.execute(f"INSERT INTO session_day_facts ({COLUMNS}) VALUES (?, ?, 'ann', ?, 'claude', ?, ?, ?, ?, 0, "
                "0, 0, 0, 0, 0, ?, 0, 0, 0, 0)",
                [day, session, project, model, f"{day} 10:00", f"{day} 11:00", requests, cost])


def _projects(con) -> dict[str, str | None]:
    queries.prepare(con)
    return dict(con.execute("SELECT session_id, project FROM git_sessions()").fetchall())


def test_a_session_without_evidence_takes_the_directory_most_of_its_requests_ran_in(ledger):
    # more rows for /a (three days, 1 request each = 3) than for /b (one day, 5 requests): /b.
    for day in ("2026-01-05", "2026-01-06", "2026-01-07"):
        _day(ledger, "s1", "/a", 1, 0.01, day)
    _day(ledger, "s1", "/b", 5, 0.01)
    # a tie on requests (2 and 2, in two rows of two models against one row): the most spend, $0.30 > $0.20.
    _day(ledger, "s2", "/a", 1, 0.10, model="m1")
    _day(ledger, "s2", "/a", 1, 0.10, model="m2")
    _day(ledger, "s2", "/z", 2, 0.30)
    # a tie on requests and spend (unpriced counts as $0): the first by name, whatever the insert order.
    _day(ledger, "s3", "/z", 4, None)
    _day(ledger, "s3", "/m", 4, 0.0)
    _day(ledger, "s3", "/q", 4, None)
    # a session whose requests carry no directory has no project.
    _day(ledger, "s4", None, 3, 0.05)
    assert _projects(ledger) == {"s1": "/b", "s2": "/z", "s3": "/m", "s4": None}


def test_the_tie_break_does_not_depend_on_the_order_rows_were_written(ledger):
    # mode() over these rows returned whichever tied value its hash table met first.
    for i in range(40):
        _day(ledger, f"s{i}", "/b" if i % 2 else "/a", 2, 0.5)
        _day(ledger, f"s{i}", "/a" if i % 2 else "/b", 2, 0.5)
    assert set(_projects(ledger).values()) == {"/a"}
