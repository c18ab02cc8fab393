"""Scope is enforced where the ledger is read: for each role, every registered report and view returns
only rows in scope, totals equal what that scope holds, and no filter value reaches past it."""

from __future__ import annotations

import hashlib
import hmac

import polars as pl
import pytest

from analytics import queries
from analytics.access.directory import AccessDenied, Directory, Person, Viewer, load_directory, scope_for_email
from analytics.access.scope import Scope, bind, pseudonym
from analytics.access.settings import AccessSettings
from analytics.filters import Filters, UnknownValue, resolve
from analytics.reports import REPORTS, run_report
from store.db import reader
from tests.access_ledgers import PSEUDONYM_KEY, email, people_of, roles_ledger, truth  # noqa: F401

PSEUDONYMOUS = AccessSettings(pseudonymous_roles={"manager", "admin"}, pseudonym_key=PSEUDONYM_KEY)


def _everything(con, filters: Filters = Filters()) -> dict[str, pl.DataFrame]:
    """Every registered report and every slice view: what a new report gets checked by, too."""
    frames = {f"report:{name}": run_report(con, name, filters) for name in REPORTS}
    frames.update({f"view:{name}": view(con, filters) for name, view in queries.VIEWS.items()})
    return frames


def _directory_in_scope(con, scope: Scope) -> tuple[set[str], set[str]]:
    """People of the org directory the scope holds, and their teams (plain SQL over the directory): the
    Data health people view lists them even when they have no data, which is what it is for."""
    rows = con.execute("SELECT user_name, coalesce(team, '(unassigned)') FROM org_users").fetchall()
    held = [(u, t) for u, t in rows if scope.everyone or t in scope.teams or u in scope.users]
    return {u for u, _ in held}, {t for _, t in held}


def _assert_only(frames: dict[str, pl.DataFrame], people: set[str], teams: set[str], sessions: set[str],
                 directory: tuple[set[str], set[str]] = (set(), set())) -> None:
    for name, frame in frames.items():
        # The Data health people view also lists the directory's people in scope who have no data.
        allowed, allowed_teams = (people | directory[0], teams | directory[1]) if name == "view:people" else (people, teams)
        for column in ("user", "user_name"):
            if column in frame.columns:
                assert set(frame[column].drop_nulls()) <= allowed, (name, set(frame[column]) - allowed)
        if "team" in frame.columns:
            assert set(frame["team"].drop_nulls()) <= allowed_teams, (name, set(frame["team"]) - allowed_teams)
        if "session_id" in frame.columns:
            assert set(frame["session_id"]) <= sessions, name


def _cost(frame: pl.DataFrame) -> float:
    return float(frame["cost_usd"].fill_null(0).sum())


@pytest.mark.parametrize("who", ["admin", "vp", "manager", "engineer", "engineer by explicit role"])
def test_every_report_and_view_returns_only_rows_in_the_viewers_scope(who, roles_ledger):
    db = roles_ledger.db
    expected = {
        "admin": ("root", None),
        "vp": ("vp.eng", ("Web", "Payments")),
        "manager": ("claire.bennett", ("Web",)),
        "engineer": (roles_ledger.engineer, ()),
        "engineer by explicit role": ("ngozi.adeyemi", ()),
    }[who]
    with reader(db) as con:
        viewer, scope = scope_for_email(con, email(expected[0]), AccessSettings())
        bind(con, scope)
        frames = _everything(con)
        directory = _directory_in_scope(con, scope)
    if who == "admin":
        with reader(db) as con:
            people = {r[0] for r in con.execute("SELECT DISTINCT user_name FROM session_day_facts").fetchall()}
            teams = {r[0] for r in con.execute("SELECT DISTINCT coalesce(team, '(unassigned)') FROM org_users "
                                                "RIGHT JOIN session_day_facts USING (user_name)").fetchall()}
    elif expected[1]:
        people, teams = people_of(db, teams=expected[1]), set(expected[1])
    else:
        people = people_of(db, users=(expected[0],))
        teams = {"Web"} if people else set()
    held = truth(db, people)
    _assert_only(frames, people, teams, held["sessions"], directory)
    # Totals are the scope's, not the org's: per person, per team, per day and per model alike.
    for name in ("report:users", "report:teams", "report:daily", "report:models", "report:projects",
                 "report:sessions", "view:summary", "view:spend_by_source", "view:daily_outcomes"):
        # Each row's dollars are rounded to 6 places: the sum may be off by half a micro-dollar per row.
        assert _cost(frames[name]) == pytest.approx(held["cost"], abs=1e-6 * frames[name].height), name
    assert set(frames["report:flags"]["session_id"]) == held["flagged"]
    assert viewer.role == ("admin" if who == "admin" else "manager" if expected[1] else "engineer")


def test_a_managers_org_totals_are_the_sum_of_their_teams(roles_ledger):
    db = roles_ledger.db
    with reader(db) as con:
        _, scope = scope_for_email(con, email("vp.eng"), AccessSettings())
        bind(con, scope)
        summary = queries.summary(con, Filters()).row(0, named=True)
        teams = run_report(con, "teams", Filters())
        per_team = {t: _cost(run_report(con, "teams", Filters(team=t))) for t in teams["team"]}
    assert sorted(teams["team"]) == ["Payments", "Web"]
    assert summary["cost_usd"] == pytest.approx(sum(per_team.values()), abs=2e-6)
    assert summary["cost_usd"] == pytest.approx(_cost(teams), abs=2e-6)
    assert summary["active_users"] == int(teams["users"].sum()) == len(roles_ledger.web) + len(roles_ledger.payments)


def test_no_filter_value_reaches_past_the_scope(roles_ledger):
    db = roles_ledger.db
    outsider = roles_ledger.payments[0]
    with reader(db) as con:
        _, scope = scope_for_email(con, email("claire.bennett"), AccessSettings())
        bind(con, scope)
        choices = queries.filter_choices(con)
        # The sidebar and the CLI resolve names against what the viewer may see: another team or
        # person is "no such team", exactly like a name that does not exist.
        for forged in (Filters(team="Payments"), Filters(user=outsider), Filters(team="payments")):
            with pytest.raises(UnknownValue):
                resolve(forged, choices)
        # Even unresolved, a forged value only narrows the scope, never widens it.
        for forged in (Filters(team="Payments"), Filters(user=outsider), Filters(team="(unassigned)")):
            for name, frame in _everything(con, forged).items():
                assert frame.height == 0 or _cost(frame) == 0 if "cost_usd" in frame.columns else frame.height == 0, name
        span = queries.session_span(con, truth(db, {outsider})["sessions"].pop())
    assert set(choices.values["team"]) == {"Web"}
    assert set(choices.values["user"]) == set(roles_ledger.web)
    assert span is None


def test_session_pages_show_nothing_of_a_session_outside_the_scope(roles_ledger):
    db = roles_ledger.db
    theirs = sorted(truth(db, {roles_ledger.payments[0]})["flagged"])[0]
    mine = sorted(truth(db, {roles_ledger.engineer})["sessions"])[0]
    with reader(db) as con:
        _, scope = scope_for_email(con, email(roles_ledger.engineer), AccessSettings())
        bind(con, scope)
        assert queries.session_timeline(con, session_id=theirs).height == 0
        assert queries.session_flags(con, session_id=theirs).height == 0
        assert queries.session_timeline(con, session_id=mine).height > 0
        assert queries.session_span(con, mine).user == roles_ledger.engineer


def test_roles_come_from_the_directory_and_reporting_lines_are_followed_transitively():
    people = [
        Person("cto", "cto@x.dev", None, None, None),
        Person("m1", "m1@x.dev", None, "cto", None),
        Person("m2", "M2@X.dev", "Core", "m1@x.dev", None),      # manager named by e-mail, any case
        Person("e1", "e1@x.dev", "Core", "m2", None),
        Person("e2", "e2@x.dev", "Edge", "m2", None),
        Person("e3", "e3@x.dev", None, "m2", None),                 # a report in no team
        Person("loop1", "l1@x.dev", "Loop", "loop2", None),         # a cycle in the data must not hang
        Person("loop2", "l2@x.dev", "Loop", "loop1", None),
        Person("boss", "boss@x.dev", None, None, "engineer"),
        Person("e4", "e4@x.dev", "Ops", "boss", None),
        Person("ops", "ops@x.dev", None, None, "admin"),
    ]
    directory = Directory(people, ["e1", "e2", "e3", "stranger"])
    settings = AccessSettings()
    assert directory.viewer("m1@x.dev").role == "manager"
    assert directory.viewer("BOSS@x.dev").role == "engineer"
    assert directory.viewer("ops@x.dev").role == "admin"
    assert directory.viewer("e1@x.dev").role == "engineer"
    scope = directory.scope(directory.viewer("m1@x.dev"), settings)
    assert (scope.teams, scope.users) == (("Core", "Edge"), ("e3", "m1"))
    assert directory.scope(directory.viewer("cto@x.dev"), settings).teams == ("Core", "Edge")
    assert directory.scope(directory.viewer("e1@x.dev"), settings) == Scope(users=("e1",), viewer="e1")
    assert directory.scope(directory.viewer("boss@x.dev"), settings).teams == ()
    assert directory.scope(directory.viewer("l1@x.dev"), settings).teams == ("Loop",)
    assert directory.scope(directory.viewer("ops@x.dev"), settings).everyone
    with pytest.raises(AccessDenied, match="not in the org directory"):
        directory.viewer("stranger@x.dev")


def test_an_email_twice_in_the_directory_is_refused():
    directory = Directory([Person("a", "same@x.dev", "T", None, None), Person("b", "Same@x.dev", "T", None, None)], [])
    with pytest.raises(AccessDenied, match="belongs to 2 people"):
        directory.viewer("same@x.dev")


def test_pseudonyms_are_a_keyed_hash_stable_and_never_the_name(roles_ledger):
    db = roles_ledger.db
    expected = {pseudonym(PSEUDONYM_KEY.encode(), u): u for u in roles_ledger.web}
    # The SQL macro computes the same HMAC-SHA256 as the standard library.
    assert pseudonym(b"key", "emma.patel") == "p-" + hmac.new(b"key", b"emma.patel", hashlib.sha256).hexdigest()[:12]
    with reader(db) as con:
        _, scope = scope_for_email(con, email("claire.bennett"), PSEUDONYMOUS)
        bind(con, scope)
        users = run_report(con, "users", Filters())
        again = run_report(con, "users", Filters())
        sessions = run_report(con, "sessions", Filters())
        flags = run_report(con, "flags", Filters())
        choices = queries.filter_choices(con)
        one = run_report(con, "sessions", Filters(user=users["user"][0]))
        by_name = run_report(con, "sessions", Filters(user=roles_ledger.web[0]))
        with pytest.raises(UnknownValue):
            resolve(Filters(user=roles_ledger.web[0]), choices)
    assert set(users["user"]) == set(expected) and users.equals(again)
    assert set(sessions["user"]) <= set(expected) and set(flags["user"]) <= set(expected)
    assert set(choices.values["user"]) == set(expected) and choices.names == {}
    # Team figures stay exact; a pseudonym filters that person's rows; the name behind it finds nothing.
    assert _cost(users) == pytest.approx(truth(db, set(roles_ledger.web))["cost"], abs=1e-6 * users.height)
    assert set(one["user"]) == {users["user"][0]} and one.height > 0
    assert by_name.height == 0
    # Home folders, which carry people's first names, are masked in paths and evidence.
    text = " ".join(sessions["project"].drop_nulls().to_list() + flags["evidence"].to_list() + flags["project"].drop_nulls().to_list())
    assert "/Users/" not in text and "/home/" not in text and "~/" in text


def test_a_viewer_always_sees_their_own_name(roles_ledger):
    settings = AccessSettings(pseudonymous_roles={"manager"}, pseudonym_key=PSEUDONYM_KEY)
    with reader(roles_ledger.db) as con:
        directory = load_directory(con)
    viewer = Viewer(label="x", role="manager", user_name=roles_ledger.web[0])
    scope = directory.scope(viewer, settings)
    with reader(roles_ledger.db) as con:
        bind(con, scope)
        users = set(run_report(con, "users", Filters())["user"])
    assert users == {roles_ledger.web[0]}  # a manager with no reports: their own rows, by name


def test_small_groups_are_withheld_from_pseudonymous_viewers_outside_them(roles_ledger):
    db = roles_ledger.db
    with reader(db) as con:
        # Payments has 2 people (< 3): its manager, seeing pseudonyms, gets nothing about them.
        _, dana = scope_for_email(con, email("dana.whitfield"), PSEUDONYMOUS)
        bind(con, dana)
        assert all(f.height == 0 for f in _everything(con).values())
        # The VP sees Web (3 people) but not Payments; groups within Web under 3 people are withheld.
        _, vp = scope_for_email(con, email("vp.eng"), PSEUDONYMOUS)
        bind(con, vp)
        frames = _everything(con)
        by_project = run_report(con, "projects", Filters())
        with_names = Scope(teams=vp.teams, viewer=vp.viewer)
        bind(con, with_names)
        named_projects = run_report(con, "projects", Filters())
    assert vp.teams == ("Web",)
    assert set(frames["report:teams"]["team"]) == {"Web"}
    assert frames["report:teams"]["users"].to_list() == [3]
    assert (by_project["users"] >= 3).all() if by_project.height else True
    assert (named_projects["users"] < 3).any()      # there were small groups to withhold
    assert (frames["report:daily"]["users"] >= 3).all()
    for name in ("view:team_daily", "view:spend_by_source", "report:plugins"):
        assert frames[name].height > 0, name
    # A group the viewer belongs to is theirs to see, however small.
    with reader(db) as con:
        _, own = scope_for_email(con, email(roles_ledger.engineer), PSEUDONYMOUS)
        bind(con, own)
        assert run_report(con, "daily", Filters()).height > 0


def test_an_unbound_connection_is_the_ledger_owner(roles_ledger):
    with reader(roles_ledger.db) as con:
        everything = run_report(con, "teams", Filters())
        bind(con, Scope.owner())
        owner = run_report(con, "teams", Filters())
    assert everything.equals(owner) and everything.height == 6
