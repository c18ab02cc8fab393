"""Links and data a dashboard meets in the wild: reversed periods, unknown or miscased names, timestamps
from the far future. Each must give a clear page, never a traceback, never the wrong slice."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from analytics.refresh import refresh_derived
from dashboard import sidebar
from store.db import DB_ENV_VAR, reader, writer
from tests.dashboard_app import assert_clean, render
from tests.dashboard_ledgers import dashboard_db  # noqa: F401

PAGES = ["views/overview.py", "views/teams.py", "views/plugins.py", "views/sessions.py", "views/flags.py",
         "views/reports.py", "views/health.py"]


@pytest.fixture
def sample(dashboard_db, monkeypatch):
    monkeypatch.setenv(DB_ENV_VAR, str(dashboard_db))
    return dashboard_db


@pytest.mark.parametrize("page", PAGES)
def test_a_reversed_period_in_the_url_is_read_in_order(page, sample):
    at = render(page, period=["2026-10-10", "2026-10-01"])
    assert_clean(at)
    filters = at.session_state[sidebar._FILTERS_STATE]
    assert (filters.date_from, filters.date_to) == (date(2026, 10, 1), date(2026, 10, 10))


@pytest.mark.parametrize("page", PAGES)
def test_an_unknown_team_shows_no_such_team_and_nothing_else(page, sample):
    at = render(page, team="no-such-team")
    assert_clean(at)
    assert any("no such team" in e.value.lower() for e in at.error), [e.value for e in at.error]
    assert not at.dataframe and not at.metric, "nothing of the org may show for a team that does not exist"


def test_a_team_name_in_other_case_means_that_team(sample):
    at = render("views/teams.py", team="payments")
    assert_clean(at)
    assert at.session_state[sidebar._FILTERS_STATE].team == "Payments"
    teams = next(df.value for df in at.dataframe if "team" in df.value.columns and "users" in df.value.columns)
    assert list(teams["team"]) == ["Payments"]


def test_the_cli_equivalent_names_the_ledger(sample):
    at = render("views/reports.py")
    assert_clean(at)
    commands = [c.value for c in at.code if c.value.startswith("agentledger report")]
    assert commands and all(f"--db {sample}" in c for c in commands), commands


@pytest.fixture
def far_future(dashboard_db, tmp_path, monkeypatch):
    """The sample ledger plus requests dated 2100 and 2101, as a bad clock or a forged line leaves them."""
    db = Path(shutil.copy(dashboard_db, tmp_path / "future.duckdb"))
    with reader(db) as con:
        last_real_day = con.execute("SELECT max(ts)::DATE FROM requests").fetchone()[0]
    with writer(db) as con:
        for year in (2100, 2101):
            con.execute(
                "INSERT INTO requests SELECT * REPLACE (request_key || ?::VARCHAR AS request_key,"
                " ts + to_years(? - year(ts)::INTEGER) AS ts) FROM requests"
                " WHERE request_key = (SELECT min(request_key) FROM requests)", [f"-{year}", year])
        refresh_derived(con, full=True)
    with reader(db) as con:
        assert con.execute("SELECT count(*) FROM session_day_facts WHERE year(day) >= 2100").fetchone()[0] == 2
    monkeypatch.setenv(DB_ENV_VAR, str(db))
    return last_real_day


@pytest.mark.parametrize("page", PAGES)
def test_far_future_timestamps_neither_crash_a_page_nor_move_the_default_period(page, far_future):
    at = render(page)
    assert_clean(at)
    filters = at.session_state[sidebar._FILTERS_STATE]
    assert filters.date_to == far_future, filters


@pytest.mark.parametrize("period", [["2101-01-01", "2101-01-05"], ["1999-12-01", "1999-12-05"], ["soon", "later"]])
def test_a_period_beyond_any_data_or_not_dates_gives_a_page_not_a_crash(period, sample):
    at = render("views/overview.py", period=period)
    assert_clean(at)
    assert at.title and at.title[0].value == "Overview"
