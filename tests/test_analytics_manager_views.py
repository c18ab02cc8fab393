"""The figures the manager dashboard shows, each on a hand-worked example (docs/metrics.md names these
tests): flagged spend counted once and how flags overlap, changes against the previous period, who
went silent, figures that are not exact, the named periods."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from analytics import periods, queries
from analytics.access.directory import scope_for_email
from analytics.access.scope import bind
from analytics.access.settings import AccessSettings
from analytics.filters import Filters
from analytics.reports import run_report
from store.db import reader
from tests.access_ledgers import PSEUDONYM_KEY, email, roles_ledger, truth  # noqa: F401
from tests.claude_lines import assistant, text, usage, write_jsonl
from tests.helpers import ingest
from tests.test_source_codex import meta, rollout, tokens, write
from tests.test_source_codex import usage as codex_usage

DAY = date(2026, 3, 9)


def _request(con, key: str, session: str, ts: str, outcome: str, cost: float, tokens_: int = 1000,
             user: str = "ana") -> None:
    con.execute(
        "INSERT INTO request_facts (request_key, source, session_id, thread, user_name, project, model, ts, day,"
        " input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens, total_tokens, cost_usd, turn_no,"
        " outcome) VALUES (?, 'claude', ?, '', ?, '/work/app', 'm', ?, ?::TIMESTAMP::DATE, ?, 0, 0, 0, ?, ?, 1, ?)",
        [key, session, user, ts, ts, tokens_, tokens_, cost, outcome],
    ).fetchall()


def _flag(con, session: str, flag: str, start: str, end: str, covers: dict[str, float], user: str = "ana") -> None:
    """A flag and the requests it covers ({request_key: share}), as derive_flags writes them: its own
    tokens and cost are the shares of its requests'."""
    flag_id = f"{flag}:{session}:{start}"
    con.execute(
        "INSERT INTO flag_requests SELECT ?, ?, r.session_id, r.day, r.request_key, c.share, r.total_tokens, r.cost_usd"
        " FROM request_facts r JOIN (SELECT unnest(?::VARCHAR[]) AS request_key, unnest(?::DOUBLE[]) AS share) c"
        " USING (request_key)",
        [flag_id, flag, list(covers), list(covers.values())],
    ).fetchall()
    con.execute(
        "INSERT INTO flags (session_id, flag, user_name, project, source, day, started_at, ended_at, tokens, cost_usd,"
        " evidence, flag_id) SELECT ?, ?, ?, '/work/app', 'claude', ?::TIMESTAMP::DATE, ?, ?,"
        " round(sum(share * tokens)), sum(share * cost_usd), ?, ? FROM flag_requests WHERE flag_id = ?",
        [session, flag, user, start, start, end, f"{flag} evidence", flag_id, flag_id],
    ).fetchall()


@pytest.fixture
def flagged(ledger):
    """Session s1: five requests under four overlapping flags; s2: a loop beside a kept request of
    another thread; s3: two context_bloat flags, each counting its component's part of a request."""
    for key, ts, outcome, cost in (("r1", "09:00", "kept", 1.00), ("r2", "09:01", "looping", 0.50),
                                   ("r3", "09:02", "looping", 0.50), ("r4", "09:03", "idle", 2.00),
                                   ("r5", "09:04", "idle", 2.00)):
        _request(ledger, key, "s1", f"2026-03-09 {ts}:00", outcome, cost)
    _flag(ledger, "s1", "loop", "2026-03-09 09:01:00", "2026-03-09 09:02:00", {"r2": 1, "r3": 1})
    _flag(ledger, "s1", "idle_burn", "2026-03-09 09:03:00", "2026-03-09 09:04:00", {"r4": 1, "r5": 1})
    _flag(ledger, "s1", "zero_output", "2026-03-09 09:00:00", "2026-03-09 09:04:00",
          {"r1": 1, "r2": 1, "r3": 1, "r4": 1, "r5": 1})
    # r3..r5 each consumed the results of this component and of another: the flag counts half of each.
    _flag(ledger, "s1", "context_bloat", "2026-03-09 09:02:00", "2026-03-09 09:04:00", {"r3": .5, "r4": .5, "r5": .5})
    for key, ts, outcome, cost in (("r6", "10:00:00", "looping", 0.30), ("r7", "10:00:30", "kept", 0.70),
                                   ("r8", "10:01:00", "looping", 0.30)):
        _request(ledger, key, "s2", f"2026-03-09 {ts}", outcome, cost)
    _flag(ledger, "s2", "loop", "2026-03-09 10:00:00", "2026-03-09 10:01:00", {"r6": 1, "r8": 1})
    # r9 consumed the results of mcp:a and mcp:b, r10 those of mcp:a and a third, unflagged component.
    _request(ledger, "r9", "s3", "2026-03-09 11:00:00", "kept", 0.80)
    _request(ledger, "r10", "s3", "2026-03-09 11:01:00", "kept", 0.20)
    _flag(ledger, "s3", "context_bloat", "2026-03-09 11:00:00", "2026-03-09 11:01:00", {"r9": .5, "r10": .5})
    _flag(ledger, "s3", "context_bloat", "2026-03-09 11:00:01", "2026-03-09 11:00:01", {"r9": .5})
    # Their rollups (what the sessions' whole spend is read from).
    _day_fact(ledger, "2026-03-09", "s1", "ana", cost=6.00, kept=1.00, looping=1.00, idle=4.00)
    _day_fact(ledger, "2026-03-09", "s2", "ana", cost=1.30, kept=0.70, looping=0.60)
    _day_fact(ledger, "2026-03-09", "s3", "ana", cost=1.00, kept=1.00)
    return ledger


def test_flagged_spend_counts_each_request_once(flagged):
    # s1 per request, at most the whole of it: r1 1.00 (zero_output), r2 0.50, r3 0.50, r4 2.00, r5 2.00 = 6.00;
    # the flags' spend added: 1.00 + 4.00 + 6.00 + 2.25 = 13.25. s2: the loop's own requests, 0.60 either way.
    # s3: the two flags cover different halves of r9 (0.40 + 0.40) and half of r10 (0.10): 0.90 once and
    # summed; counting whole requests would say 1.00, more than the flags hold.
    sessions = {r["session_id"]: r for r in queries.flagged_sessions(flagged).to_dicts()}
    assert sessions["s1"]["flagged_cost_usd"] == pytest.approx(6.00)
    assert sessions["s1"]["flags_cost_usd"] == pytest.approx(13.25)
    assert sessions["s1"]["cost_usd"] == pytest.approx(6.00) and sessions["s1"]["flag_count"] == 4
    assert sessions["s1"]["flagged_tokens"] == 5000
    assert sessions["s2"]["flagged_cost_usd"] == pytest.approx(0.60) == sessions["s2"]["flags_cost_usd"]
    assert sessions["s2"]["cost_usd"] == pytest.approx(1.30)
    assert sessions["s3"]["flagged_cost_usd"] == pytest.approx(0.90) == sessions["s3"]["flags_cost_usd"]
    assert sessions["s3"]["flagged_tokens"] == 1500
    summary = queries.summary(flagged).row(0, named=True)
    assert summary["flagged_cost_usd"] == pytest.approx(7.50)
    assert summary["flags_cost_usd"] == pytest.approx(14.75)
    assert (summary["flagged_sessions"], summary["flag_count"]) == (3, 7)
    # The sessions report reads the same definition.
    report = {r["session_id"]: r for r in run_report(flagged, "sessions", Filters()).to_dicts()}
    assert {s: report[s]["flagged_cost_usd"] for s in report} == {
        s: sessions[s]["flagged_cost_usd"] for s in sessions}


def test_each_flag_type_says_what_it_shares_with_others(flagged):
    types = {r["flag"]: r for r in queries.flag_types(flagged).to_dicts()}
    # context_bloat: s1's half of r3..r5 (0.25 + 1.00 + 1.00) and s3's 0.90; r3..r5 are covered by other types too.
    assert types["context_bloat"]["cost_usd"] == pytest.approx(3.15) and types["context_bloat"]["flags"] == 3
    assert types["context_bloat"]["distinct_cost_usd"] == pytest.approx(3.15)
    assert types["context_bloat"]["shared_cost_usd"] == pytest.approx(2.25)
    assert types["context_bloat"]["overlaps_with"] == "idle_burn, loop, zero_output"
    assert types["zero_output"]["distinct_cost_usd"] == pytest.approx(6.00)
    assert types["zero_output"]["shared_cost_usd"] == pytest.approx(5.00)  # r2..r5: all but r1
    assert types["loop"]["cost_usd"] == pytest.approx(1.60) and types["loop"]["flags"] == 2
    assert types["loop"]["shared_cost_usd"] == pytest.approx(1.00)  # s1's loop; s2's shares nothing
    assert types["loop"]["overlaps_with"] == "context_bloat, zero_output"
    assert types["idle_burn"]["overlaps_with"] == "context_bloat, zero_output"


def test_pairs_of_flags_that_claim_the_same_requests(flagged):
    pairs = {(r["flag"], r["other_flag"]): (r["sessions"], r["shared_cost_usd"])
             for r in queries.flag_overlap(flagged).to_dicts()}
    assert pairs == {
        ("context_bloat", "zero_output"): (1, pytest.approx(4.50)),   # r3, r4, r5, each once and whole
        ("idle_burn", "zero_output"): (1, pytest.approx(4.00)),
        ("context_bloat", "idle_burn"): (1, pytest.approx(4.00)),
        ("loop", "zero_output"): (1, pytest.approx(1.00)),
        ("context_bloat", "loop"): (1, pytest.approx(0.50)),
    }


def _day_fact(con, day: str, session: str, user: str, cost: float, kept: float, looping: float = 0.0,
              idle: float = 0.0) -> None:
    con.execute(
        "INSERT INTO session_day_facts (day, session_id, user_name, project, source, model, first_ts, last_ts,"
        " requests, unpriced_requests, input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens,"
        " total_tokens, cost_usd, kept_tokens, looping_tokens, discarded_tokens, idle_tokens, kept_cost_usd,"
        " looping_cost_usd, discarded_cost_usd, idle_cost_usd)"
        " VALUES (?, ?, ?, '/w', 'claude', 'm', ?::DATE + TIME '10:00', ?::DATE + TIME '11:00', 1, 0, 0, 0, 0,"
        " ?, ?, ?, ?, ?, 0, ?, ?, ?, 0, ?)",
        [day, session, user, day, day, int(cost * 1000), int(cost * 1000), cost, int(kept * 1000),
         int(looping * 1000), int(idle * 1000), kept, looping, idle],
    ).fetchall()


@pytest.fixture
def two_weeks(ledger):
    """Week 1 (1-7 March) and week 2 (8-14 March) of three teams."""
    ledger.execute("INSERT INTO org_users (user_name, team) VALUES ('ana', 'A'), ('bo', 'B'), ('cy', 'C')").fetchall()
    _day_fact(ledger, "2026-03-02", "a1", "ana", cost=10.0, kept=8.0, looping=2.0)
    _day_fact(ledger, "2026-03-09", "a2", "ana", cost=15.0, kept=9.0, idle=6.0)
    _day_fact(ledger, "2026-03-10", "b1", "bo", cost=4.0, kept=4.0)
    _day_fact(ledger, "2026-03-03", "c1", "cy", cost=5.0, kept=5.0)
    return ledger


def test_changes_against_the_previous_period_per_team(two_weeks):
    week2 = Filters(date_from=date(2026, 3, 8), date_to=date(2026, 3, 14))
    teams = {r["team"]: r for r in queries.changes(two_weeks, week2, group_by="team").to_dicts()}
    # A: $10 -> $15 is +50%; kept share 8/10 -> 9/15 is 0.8 -> 0.6, -20 points; waste $2 -> $6, +200%.
    assert (teams["A"]["previous_cost_usd"], teams["A"]["cost_usd"]) == (10.0, 15.0)
    assert teams["A"]["cost_change"] == 50.0
    assert teams["A"]["useful_cost_ratio_change"] == -20.0
    assert teams["A"]["waste_cost_change"] == 200.0
    # B spent nothing before: no relative change. C spent nothing now: -100%.
    assert teams["B"]["cost_change"] is None and teams["B"]["previous_cost_usd"] is None
    assert teams["C"]["cost_usd"] is None and teams["C"]["cost_change"] == -100.0
    org = queries.changes(two_weeks, week2).row(0, named=True)
    assert org["cost_change"] == pytest.approx(26.7)  # $15 -> $19
    assert org["sessions_change"] == 0.0 and org["users_change"] == 0.0  # 2 sessions of 2 people each week


def test_an_open_period_has_no_previous_one(two_weeks):
    org = queries.changes(two_weeks, Filters()).row(0, named=True)
    assert org["cost_usd"] == 34.0 and org["cost_change"] is None and org["useful_cost_ratio_change"] is None


def test_wasted_spend_in_the_reports(two_weeks):
    users = {r["user"]: r["waste_cost_usd"] for r in run_report(two_weeks, "users", Filters()).to_dicts()}
    assert users == {"ana": 8.0, "bo": 0.0, "cy": 0.0}  # looping $2 + idle $6
    assert queries.summary(two_weeks, Filters()).row(0, named=True)["waste_cost_usd"] == 8.0


def test_who_went_silent(ledger, tmp_path):
    ledger.execute("INSERT INTO org_users (user_name, team) VALUES ('ana', 'pay'), ('ben', 'pay')").fetchall()
    _day_fact(ledger, "2026-03-10", "a1", "ana", cost=1.0, kept=1.0)
    _day_fact(ledger, "2026-02-01", "c1", "cy", cost=1.0, kept=1.0)
    _day_fact(ledger, "2100-01-01", "c2", "cy", cost=1.0, kept=1.0)   # a wrong clock: never "active"
    ledger.execute("INSERT INTO source_files (path, source, user_name, size, mtime_ns, head_hash, offset_loaded,"
                   " lines_loaded) VALUES ('/logs/dee/x.jsonl', 'claude', 'dee', 0, 0, '', 0, 0)").fetchall()
    march = Filters(date_from=date(2026, 3, 1), date_to=date(2026, 3, 31))
    people = {r["user"]: r for r in queries.people(ledger, march, today=date(2026, 3, 20)).to_dicts()}
    assert people["ana"]["activity"] == "active" and people["ana"]["days_silent"] == 10
    assert people["ana"]["sessions"] == 1 and people["ana"]["in_directory"]
    assert people["ben"]["activity"] == "no data at all" and people["ben"]["last_request_at"] is None
    assert people["cy"]["activity"] == "no data in the period" and people["cy"]["team"] == "(unassigned)"
    assert people["cy"]["last_request_at"] == datetime(2026, 2, 1, 11, 0) and people["cy"]["days_silent"] == 47
    assert people["dee"]["activity"] == "files but no requests"
    # The team filter applies: only 'pay' people.
    assert set(queries.people(ledger, march.model_copy(update={"team": "pay"}), today=date(2026, 3, 20))["user"]) == {
        "ana", "ben"}
    # The Data health counts, from SQL: two in the directory, ben without a session in March.
    gaps = queries.people_gaps(ledger, march, today=date(2026, 3, 20)).row(0, named=True)
    assert (gaps["directory_people"], gaps["absent_people"], gaps["absent_sample"]) == (2, 1, ["ben"])
    assert queries.people_gaps(ledger, Filters(date_from=date(2026, 2, 1), date_to=date(2026, 2, 28)),
                               today=date(2026, 3, 20), listed=1).row(0) == (2, 2, ["ben"])
    assert queries.people_gaps(ledger, march.model_copy(update={"team": "(unassigned)"})).height == 0


def test_placeholder_output_and_fallback_models_are_counted_where_their_figures_appear(ledger, tmp_path):
    # Claude Code: one response whose only line was written mid-stream (placeholder output), one final.
    write_jsonl(tmp_path / "claude/p/s1.jsonl", [
        assistant("2026-01-05T10:00:00.000Z", "msg_1", "req_1", usage(10, 3, 0, 100), [text()], stop_reason=None),
        assistant("2026-01-05T10:01:00.000Z", "msg_2", "req_2", usage(10, 50, 0, 100), [text()]),
    ])
    ingest(ledger, tmp_path / "claude", user="ana")
    # Codex: a rollout that never names its model (priced as the fallback, gpt-5).
    write(rollout(tmp_path / "codex", "rollout-b.jsonl"), [meta(), tokens("2025-11-22T20:48:03.000Z", codex_usage(7, 0, 1))])
    ingest(ledger, tmp_path / "codex", user="ana")
    summary = queries.summary(ledger, Filters()).row(0, named=True)
    assert (summary["estimated_output_requests"], summary["fallback_model_requests"]) == (1, 1)
    models = {r["model"]: r for r in run_report(ledger, "models", Filters()).to_dicts()}
    assert models["gpt-5"]["fallback_model_requests"] == 1 and models["gpt-5"]["estimated_output_requests"] == 0
    assert models["claude-sonnet-4-5-20250929"]["estimated_output_requests"] == 1
    sessions = {r["session_id"]: r for r in run_report(ledger, "sessions", Filters()).to_dicts()}
    assert sessions["s1"]["estimated_output_requests"] == 1 and sessions["s1"]["fallback_model_requests"] == 0
    # The slice applies: January holds only the Claude Code session.
    january = queries.summary(ledger, Filters(date_from=date(2026, 1, 1), date_to=date(2026, 1, 31))).row(0, named=True)
    assert (january["estimated_output_requests"], january["fallback_model_requests"]) == (1, 0)
    timeline = queries.session_timeline(ledger, Filters(), session_id="s1")
    assert timeline["output_estimated"].to_list() == [True, False]


@pytest.mark.parametrize(("today", "expected"), [
    (date(2026, 5, 14), {"this-month": (date(2026, 5, 1), date(2026, 5, 14)),
                         "last-month": (date(2026, 4, 1), date(2026, 4, 30)),
                         "this-quarter": (date(2026, 4, 1), date(2026, 5, 14))}),
    (date(2026, 1, 10), {"this-month": (date(2026, 1, 1), date(2026, 1, 10)),
                         "last-month": (date(2025, 12, 1), date(2025, 12, 31)),
                         "this-quarter": (date(2026, 1, 1), date(2026, 1, 10))}),
    (date(2024, 3, 31), {"last-month": (date(2024, 2, 1), date(2024, 2, 29)),
                         "this-quarter": (date(2024, 1, 1), date(2024, 3, 31))}),
])
def test_calendar_periods(today, expected):
    named = {p.name: (p.first, p.last) for p in periods.calendar_periods(today, date(2025, 6, 14), date(2026, 4, 18))}
    assert {name: named[name] for name in expected} == expected
    # The default follows the data (30 days ending on its newest day); "All data" is all of it.
    assert named["recent"] == (date(2026, 3, 20), date(2026, 4, 18))
    assert named["all"] == (date(2025, 6, 14), date(2026, 4, 18))


def test_default_and_previous_periods():
    assert periods.default_period(date(2026, 4, 10), date(2026, 4, 18)) == (date(2026, 4, 10), date(2026, 4, 18))
    assert periods.default_period(None, None, today=date(2026, 4, 18)) == (date(2026, 3, 20), date(2026, 4, 18))
    previous = periods.previous_period(Filters(date_from=date(2026, 3, 8), date_to=date(2026, 3, 14), team="A"))
    assert (previous.date_from, previous.date_to, previous.team) == (date(2026, 3, 1), date(2026, 3, 7), "A")
    assert periods.previous_period(Filters(date_from=date(2026, 3, 8))) is None


def test_people_are_listed_as_the_viewer_may_see_them(roles_ledger):
    pseudonymous = AccessSettings(pseudonymous_roles={"manager"}, pseudonym_key=PSEUDONYM_KEY)
    with reader(roles_ledger.db) as con:
        _, vp = scope_for_email(con, email("vp.eng"), pseudonymous)
        bind(con, vp)
        seen = queries.people(con, Filters())
        _, claire = scope_for_email(con, email("claire.bennett"), AccessSettings())
        bind(con, claire)
        named = queries.people(con, Filters())
    # Pseudonyms, and no display name behind them; Web only (Payments, two people, is withheld).
    assert seen.height == len(roles_ledger.web) and seen["name"].null_count() == seen.height
    assert all(u.startswith("p-") for u in seen["user"]) and set(seen["team"]) == {"Web"}
    # With names: Web's people; the manager herself, who uses no agent, is no gap in the data.
    assert set(named["user"]) == set(roles_ledger.web) and "claire.bennett" not in set(named["user"])


def test_session_outcomes_show_nothing_of_a_session_outside_the_scope(roles_ledger):
    theirs = sorted(truth(roles_ledger.db, {roles_ledger.payments[0]})["sessions"])[0]
    mine = sorted(truth(roles_ledger.db, {roles_ledger.web[0]})["sessions"])[0]
    with reader(roles_ledger.db) as con:
        everything = queries.session_outcomes(con, session_id=theirs)
        _, claire = scope_for_email(con, email("claire.bennett"), AccessSettings())
        bind(con, claire)
        # Web's manager: her team's session in full, a Payments session not at all.
        assert queries.session_outcomes(con, session_id=theirs).height == 0 < everything.height
        assert queries.session_outcomes(con, session_id=mine)["requests"].sum() > 0
