"""Every dashboard page renders through Streamlit's AppTest: with data, with filters, on an empty or missing ledger."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from streamlit.proto.Dataframe_pb2 import Dataframe
from streamlit.testing.v1 import AppTest

from dashboard import sidebar
from store.db import DB_ENV_VAR
from tests.dashboard_app import APP, assert_clean, render
from dashboard.ui import usd
from tests.dashboard_ledgers import (  # noqa: F401
    build_unscanned_ledger, dashboard_db, empty_ledger, some_session, some_team_and_user,
)

PAGES = {
    "views/overview.py": "Overview",
    "views/teams.py": "Teams & people",
    "views/plugins.py": "Plugins & tools",
    "views/sessions.py": "Sessions",
    "views/session.py": "Session",
    "views/flags.py": "Flags",
    "views/reports.py": "Reports",
    "views/health.py": "Data health",
}


@pytest.fixture
def with_db(monkeypatch):
    def use(path: Path) -> Path:
        monkeypatch.setenv(DB_ENV_VAR, str(path))
        return path
    return use


@pytest.mark.parametrize("page", list(PAGES))
def test_page_renders_with_data(page, dashboard_db, with_db):
    with_db(dashboard_db)
    query = {"session": some_session(dashboard_db)} if page.endswith("session.py") else {}
    at = render(page, **query)
    assert_clean(at)
    assert at.title[0].value == PAGES[page]


@pytest.mark.parametrize("page", list(PAGES))
def test_page_renders_with_filters(page, dashboard_db, with_db):
    with_db(dashboard_db)
    team, user = some_team_and_user(dashboard_db)
    today = str(date.today())
    query = {"team": team, "user": user, "period": ["2000-01-01", today]}
    if page.endswith("session.py"):
        query["session"] = some_session(dashboard_db)
    at = render(page, **query)
    assert_clean(at)
    filters = at.session_state[sidebar._FILTERS_STATE]
    assert (filters.team, filters.user) == (team, user)
    assert (str(filters.date_from), str(filters.date_to)) == ("2000-01-01", today)


@pytest.mark.parametrize("page", list(PAGES))
def test_filters_that_match_nothing_give_a_friendly_note(page, dashboard_db, with_db):
    with_db(dashboard_db)
    at = render(page, period=["2001-01-01", "2001-01-31"])
    assert_clean(at)


def test_default_period_is_the_last_30_days_with_data(dashboard_db, with_db):
    with_db(dashboard_db)
    at = render()
    filters = at.session_state[sidebar._FILTERS_STATE]
    assert (filters.date_to - filters.date_from).days <= 29
    assert filters.team is None and filters.user is None


def test_missing_ledger_explains_how_to_ingest(tmp_path, with_db):
    db = with_db(tmp_path / "nothing-here.duckdb")
    at = render()
    assert_clean(at)
    assert at.title[0].value == "Welcome to AgentLedger"
    assert any("agentledger ingest" in c.value for c in at.code)
    assert not db.exists(), "the dashboard must never create the ledger"


def test_empty_ledger_explains_how_to_ingest(tmp_path, with_db):
    with_db(empty_ledger(tmp_path / "empty.duckdb"))
    at = render()
    assert_clean(at)
    assert at.title[0].value == "Welcome to AgentLedger"
    assert "no agent sessions" in at.info[0].value


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_on_an_empty_ledger_falls_back_to_the_welcome_page(page, tmp_path, with_db):
    with_db(empty_ledger(tmp_path / "empty.duckdb"))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert_clean(at)
    assert at.title[0].value == "Welcome to AgentLedger"


def test_data_health_warns_when_data_is_stale(dashboard_db):
    import polars as pl
    from datetime import datetime, timedelta

    from analytics import health

    now = datetime(2026, 1, 10, 12, 0)
    runs = pl.DataFrame({"status": ["ok", "failed"], "ended_at": [now - timedelta(hours=30), now - timedelta(hours=1)]})
    assert health.staleness(runs, now).stale
    runs = pl.DataFrame({"status": ["ok"], "ended_at": [now - timedelta(hours=2)]})
    assert not health.staleness(runs, now).stale
    assert health.staleness(pl.DataFrame({"status": [], "ended_at": []}), now).stale


def test_a_session_link_that_matches_nothing_is_a_friendly_note(dashboard_db, with_db):
    with_db(dashboard_db)
    at = render("views/session.py", session="no-such-session")
    assert_clean(at)
    assert at.info, "the page should say there is nothing to show"


def _hold_write_lock(db: Path):
    """A separate process holding the ledger open for writing, as a long ingest run does."""
    import subprocess
    import sys

    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time, duckdb; con = duckdb.connect(sys.argv[1]); print('held', flush=True);"
         " time.sleep(60)", str(db)],
        stdout=subprocess.PIPE, text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    return holder


@pytest.fixture
def busy_copy(dashboard_db, with_db, monkeypatch, tmp_path):
    """A private copy of the ledger (so locking it disturbs no other test) and short lock waits."""
    import shutil

    from dashboard import data

    monkeypatch.setattr(data, "READ_WAIT_SECONDS", 1.0)
    monkeypatch.setattr(data, "BUSY_WAIT_SECONDS", 0.3)
    return with_db(Path(shutil.copy(dashboard_db, tmp_path / "busy.duckdb")))


def test_a_ledger_locked_before_it_was_ever_read_gets_a_note_not_a_traceback(busy_copy):
    import streamlit as st

    holder = _hold_write_lock(busy_copy)
    try:
        st.cache_data.clear()
        at = render()
        assert_clean(at)
        assert any("could not be opened" in w.value for w in at.warning)
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("page", ["views/overview.py", "views/teams.py", "views/health.py"])
def test_pages_drawn_before_stay_up_while_an_ingest_holds_the_ledger(page, busy_copy):
    import streamlit as st

    before = render(page)
    assert_clean(before)
    holder = _hold_write_lock(busy_copy)
    try:
        st.cache_data.clear()  # as if the cache TTL ran out in the middle of the ingest
        during = render(page)
        assert_clean(during)
        assert during.title[0].value == before.title[0].value
        assert any("An ingest is writing" in w.value for w in during.sidebar.warning)
    finally:
        holder.kill()
        holder.wait()


def test_data_health_shows_coverage_against_the_otel_reference(dashboard_db, with_db):
    # The committed sample exports OTel for two people: the panel reconciles them by person, never
    # showing an email-named stranger beside the transcript user.
    with_db(dashboard_db)
    at = render("views/health.py")
    assert_clean(at)
    assert "Coverage: reported spend vs ingested detail" in [h.value for h in at.subheader]
    coverage = next(df.value for df in at.dataframe if "cost_coverage" in df.value.columns)
    people = set(coverage["user"])
    assert {"jonas.patel", "tomas.dubois"} <= people
    assert not [p for p in people if "@" in p]
    assert "unrecognised" not in " ".join(str(v) for df in at.dataframe for v in df.value.get("source", []))


def test_sessions_search_narrows_the_list_to_one_person(dashboard_db, with_db):
    with_db(dashboard_db)
    at = render("views/sessions.py")
    at.text_input(key="sessions_find").set_value("jonas").run()
    assert_clean(at)
    listed = next(df.value for df in at.dataframe if "session_id" in df.value.columns)
    assert len(listed) > 0 and set(listed["user"]) == {"jonas.patel"}


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_overview_leads_with_what_the_spend_bought_then_money_and_the_cost_weighted_share(dashboard_db, with_db):
    from analytics import queries
    from store.db import reader

    with_db(dashboard_db)
    at = render("views/overview.py", period=["2000-01-01", str(date.today())])
    assert_clean(at)
    # The headline is what the spend bought in git (the demo scans its repositories), then the money.
    assert [m.label for m in at.metric][:8] == [
        "Surviving share of spend", "Spend that survives (USD)", "Landed share of spend",
        "Spend that landed (USD)", "Spend (USD)", "Useful share of spend", "Wasted spend (USD)", "Flagged spend (USD)"]
    filters = at.session_state[sidebar._FILTERS_STATE]
    with reader(dashboard_db) as con:
        summary = queries.summary(con, filters).row(0, named=True)
        bought = queries.git_headline(con, filters).row(0, named=True)
    assert _metrics(at)["Useful share of spend"] == f"{summary['useful_cost_ratio']:.0%}"
    assert 0 < bought["surviving_cost_share"] <= bought["landed_cost_share"] < 1
    assert _metrics(at)["Surviving share of spend"] == f"{bought['surviving_cost_share']:.0%}"
    assert _metrics(at)["Landed share of spend"] == f"{bought['landed_cost_share']:.0%}"
    assert _metrics(at)["Spend that survives (USD)"] == usd(bought["surviving_cost_usd"])
    assert any("Weighted by tokens instead of dollars" in c.value for c in at.caption)


def test_a_named_period_is_one_click_and_the_sidebar_says_what_it_holds(dashboard_db, with_db):
    from analytics import queries
    from store.db import reader

    with_db(dashboard_db)
    at = render("views/overview.py")
    assert any(c.value.startswith("Holds ") for c in at.sidebar.caption)
    at.sidebar.pills(key=sidebar.PRESET_KEY).set_value("all").run()
    assert_clean(at)
    with reader(dashboard_db) as con:
        choices = queries.filter_choices(con)
        everything = queries.summary(con).row(0, named=True)
    filters = at.session_state[sidebar._FILTERS_STATE]
    assert (filters.date_from, filters.date_to) == (choices.first_day, choices.last_day)
    assert any(c.value.startswith(f"Holds all {everything['sessions']:,} sessions") for c in at.sidebar.caption)


def test_flags_page_counts_flag_spend_once(dashboard_db, with_db):
    with_db(dashboard_db)
    at = render("views/flags.py", period=["2000-01-01", str(date.today())])
    assert_clean(at)
    shown = _metrics(at)
    assert {"Flagged spend (USD)", "Flagged sessions", "Flags raised", "Sum over flags (USD)"} <= set(shown)
    once, added = (float(shown[k].lstrip("$").replace(",", "")) for k in ("Flagged spend (USD)", "Sum over flags (USD)"))
    assert 0 < once <= added


def test_the_flags_report_wraps_its_evidence_and_shows_a_selected_rows_whole(dashboard_db, with_db):
    """Its evidence column is 430 px of a laptop screen: rows tall enough for the grid to wrap text (it wraps
    only in rows taller than 4rem, 64 px), and a row to select for the whole text below the table."""
    with_db(dashboard_db)
    at = render("views/reports.py", period=["2000-01-01", str(date.today())])
    at.session_state["report_kind"] = "flags"
    at.run()
    assert_clean(at)
    (table,) = at.dataframe
    assert table.proto.row_height > 64 and list(table.proto.selection_mode) == [Dataframe.SINGLE_ROW]
    assert "Select a row to read its evidence in full and open its session." in [c.value for c in at.caption]


def test_data_health_lists_people_and_when_their_data_last_arrived(dashboard_db, with_db):
    with_db(dashboard_db)
    at = render("views/health.py", period=["2000-01-01", str(date.today())])
    assert_clean(at)
    assert "People: whose data stopped arriving" in [h.value for h in at.subheader]
    people = next(df.value for df in at.dataframe if "activity" in df.value.columns)
    assert {"last_request_at", "days_silent"} <= set(people.columns) and len(people) > 0


ALL = ["2000-01-01", str(date.today())]


def test_teams_show_cost_per_surviving_line_and_a_survival_curve_per_team(dashboard_db, with_db):
    from analytics import queries
    from store.db import reader

    with_db(dashboard_db)
    at = render("views/teams.py", period=ALL)
    assert_clean(at)
    assert "What the spend bought in git, per team" in [h.value for h in at.subheader]
    shown = next(df.value for df in at.dataframe if "cost_per_alive_30d_line" in df.value.columns)
    with reader(dashboard_db) as con:
        expected = queries.team_outcomes(con, at.session_state[sidebar._FILTERS_STATE])
    # The named query's rows, in team order (no ranking), figures untouched.
    assert shown["team"].tolist() == sorted(expected["team"].to_list())
    assert shown["cost_per_alive_30d_line"].notna().any()
    charts = [c.proto.spec for c in at.get("vega_lite_chart")]
    curve = [spec for spec in charts if "Share of agent lines alive" in spec]
    assert len(curve) == 1 and '"field": "team"' in curve[0].replace('":"', '": "')


def test_plugins_worth_it_is_on_landed_outcomes_and_says_why_harness_has_no_share(dashboard_db, with_db):
    with_db(dashboard_db)
    at = render("views/plugins.py", period=ALL)
    assert_clean(at)
    assert "Worth it? Spend and the share of it that landed in git" in [h.value for h in at.subheader]
    assert any("harness" in c.value and "no share of it can land" in c.value for c in at.caption)
    assert [m.value for m in at.markdown if m.value.startswith("**")][:2] == [
        "**Integrations (MCP, plugins, skills, subagents)**", "**Built-in tools, the prompt and Claude Code's own agents**"]


def test_session_page_lists_its_commits_and_each_turns_outcome_in_git(dashboard_db, with_db):
    from analytics import queries
    from store.db import reader

    with reader(dashboard_db) as con:
        session = con.execute("SELECT session_id FROM git_links GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1").fetchone()[0]
        commits = queries.session_commits(con, session_id=session)
    with_db(dashboard_db)
    at = render("views/session.py", session=session)
    assert_clean(at)
    table = next(df.value for df in at.dataframe if "alive_head" in df.value.columns)
    assert table["sha"].tolist() == commits["sha"].to_list() and len(table) > 0
    turns = next(df.value for df in at.dataframe if "git_outcome" in df.value.columns)
    assert "landed" in set(turns["git_outcome"])


def test_data_health_shows_git_coverage(dashboard_db, with_db):
    from analytics import queries
    from store.db import reader

    with_db(dashboard_db)
    at = render("views/health.py", period=ALL)
    assert_clean(at)
    with reader(dashboard_db) as con:
        coverage = queries.git_coverage(con).row(0, named=True)
    shown = _metrics(at)
    assert shown["Repositories"] == f"{coverage['repositories']:,}" and coverage["repositories"] > 0
    assert shown["Agent commits, no logs"] == f"{coverage['agent_commits_without_logs']:,}"
    assert shown["Unmapped share of spend"] == f"{coverage['unmapped_cost_share']:.0%}"


@pytest.mark.parametrize("page", ["overview", "teams", "plugins", "session", "health"])
def test_without_a_scanned_repository_every_outcome_panel_says_how_to_scan(page, tmp_path, with_db):
    db = with_db(build_unscanned_ledger(tmp_path / "unscanned.duckdb"))
    query = {"session": some_session(db)} if page == "session" else {}
    at = render(f"views/{page}.py", period=ALL, **query)
    assert_clean(at)
    assert any("agentledger git scan PATH" in i.value for i in at.info)
    labels = [m.label for m in at.metric]
    assert not {"Surviving share of spend", "Landed share of spend", "Repositories"} & set(labels)
