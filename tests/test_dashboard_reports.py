"""The Reports page's download is byte-for-byte the CLI's CSV, and the commands behind the dashboard work."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from agentledger.cli import main
from agentledger.commands.dashboard import app_path, streamlit_command
from analytics.filters import Filters
from dashboard import auth, data, sidebar
from store.db import DB_ENV_VAR, reader
from tests.dashboard_ledgers import dashboard_db, some_team_and_user  # noqa: F401


def _cli_csv(db: Path, kind: str, filters: Filters, out: Path) -> bytes:
    args = ["report", kind, "--db", str(db), "--format", "csv", "--output", str(out)]
    for flag, value in (("--from", filters.date_from), ("--to", filters.date_to), ("--team", filters.team),
                        ("--user", filters.user)):
        if value:
            args += [flag, str(value)]
    assert main(args) == 0
    return out.read_bytes()


@pytest.mark.parametrize("sliced", [False, True], ids=["everything", "one team, one month"])
def test_every_report_download_is_the_cli_csv(sliced, dashboard_db, tmp_path, monkeypatch):
    monkeypatch.setenv(DB_ENV_VAR, str(dashboard_db))
    filters = Filters()
    if sliced:
        team, _ = some_team_and_user(dashboard_db)
        with reader(dashboard_db) as con:
            last = con.execute("SELECT max(ts)::DATE FROM requests").fetchone()[0]
        filters = Filters(date_from=last.replace(day=1), date_to=last, team=team)
    auth.admit()  # what the router does first: the local viewer (reads without one are refused)
    kinds = data.report_kinds()
    assert {"daily", "users", "teams", "plugins", "sessions", "flags"} <= set(kinds)
    for kind in kinds:
        ours = data.report_csv(kind, filters)
        theirs = _cli_csv(dashboard_db, kind, filters, tmp_path / f"{kind}.csv")
        assert ours == theirs, kind


def test_the_page_shows_the_matching_cli_command():
    filters = Filters(team="Web Platform", user="alice")
    assert sidebar.cli_command("users", filters) == "agentledger report users --team 'Web Platform' --user alice --format csv"


def test_dashboard_command_runs_the_packaged_app(capsys):
    assert app_path().is_file()
    command = streamlit_command(8765)
    assert command[command.index("run") + 1] == str(app_path())
    assert command[command.index("--server.port") + 1] == "8765"
    # The rest lives in the app's own config file, which Streamlit reads however the app is started.
    settings = tomllib.loads((app_path().parent / ".streamlit" / "config.toml").read_text())
    assert settings["server"]["headless"] is True and settings["server"]["showEmailPrompt"] is False
    assert settings["client"]["toolbarMode"] == "viewer"
    with pytest.raises(SystemExit):
        main(["dashboard", "--help"])
    assert "examples:" in capsys.readouterr().out


def test_demo_builds_its_ledger_without_serving(tmp_path, capsys):
    db = tmp_path / "demo.duckdb"
    assert main(["demo", "--db", str(db), "--no-serve"]) == 0
    assert "demo ledger" in capsys.readouterr().out
    with reader(db) as con:
        people = con.execute("SELECT count(DISTINCT user_name) FROM requests").fetchone()[0]
        org = con.execute("SELECT count(*) FROM org_users").fetchone()[0]
    assert people >= 2 and org >= 2
    # Running it again is cheap and changes nothing.
    assert main(["demo", "--db", str(db), "--no-serve"]) == 0
    assert "0 new requests" in capsys.readouterr().out


def test_every_table_column_takes_its_label_and_meaning_from_the_metric_registry():
    from analytics.metrics import METRICS
    from dashboard import columns

    assert set(columns.COMMON) == set(METRICS)
    for name, metric in METRICS.items():
        config = columns.COMMON[name]
        assert config["label"] == metric.label
        assert config["help"].rstrip(".").lower() == metric.definition.lower()


def test_every_report_says_what_the_page_shows_of_it_first():
    """A report's table fits a laptop screen by showing a few of its columns: every report names them (a new
    report without a choice fails here), they are its own, and money comes before tokens."""
    from analytics.metrics import METRICS
    from analytics.reports import REPORTS
    from dashboard import columns

    assert set(columns.REPORT_SHOWN) == set(REPORTS)
    for name, report in REPORTS.items():
        shown = columns.REPORT_SHOWN[name]
        assert set(shown) <= set(report.names) and len(shown) < len(report.names), name
        formats = [METRICS[c].format for c in shown]
        if "usd" in formats and "tokens" in formats:
            assert formats.index("usd") < formats.index("tokens"), name
        if "cost_usd" in report.names:
            assert "cost_usd" in shown, name


def test_folded_columns_stay_in_the_table_hidden():
    from dashboard import columns

    base = {"a": "A", "b": {"label": "B", "width": 50}, "c": {"label": "C"}}
    assert columns.folded(base, ["a", "b", "d"]) == {
        "a": {"label": "A", "hidden": True}, "b": {"label": "B", "width": 50, "hidden": True}, "c": {"label": "C"},
        "d": {"hidden": True}}
    assert base["b"] == {"label": "B", "width": 50}  # the page's own config is not changed


def test_a_fitted_table_shows_its_chosen_columns_first_and_folds_the_rest():
    from dashboard import columns

    # "x" is chosen but not in the data (a report without that column): it is left out, not invented.
    table = columns.fit(["d", "a", "b", "c"], ["b", "x", "a"], {"a": "A", "c": {"label": "C"}})
    assert table["column_order"] == ["b", "a", "d", "c"]
    assert table["column_config"] == {"a": "A", "c": {"label": "C", "hidden": True}, "d": {"hidden": True}}
