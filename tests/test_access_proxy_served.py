"""`mode = "proxy"` end to end: `agentledger dashboard` serves, and a real HTTP client (the app's
WebSocket upgrade, with or without the proxy's headers) gets that viewer's pages or nothing at all."""

from __future__ import annotations

import os

import pytest

from analytics.access.settings import CONFIG_ENV_VAR
from dashboard import ui
from store import audit
from tests.access_ledgers import access_file, email, people_of, roles_ledger, truth  # noqa: F401
from tests.dashboard_app import served, wait_healthy
from tests.streamlit_client import run_page

SECRET = "proxy-shared-secret-" + "x" * 20


def _serve(roles_ledger, tmp_path, config):
    env = {**os.environ, CONFIG_ENV_VAR: str(config)}
    return served(["dashboard", "--db", str(roles_ledger.db), "--no-browser"], tmp_path / "server.log", env=env)


@pytest.fixture(scope="module")
def proxied(roles_ledger, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("proxy")
    with _serve(roles_ledger, tmp, access_file(tmp / "access.toml", mode="proxy")) as (process, url):
        assert wait_healthy(url, process) == b"ok", (tmp / "server.log").read_text()
        yield url, roles_ledger


def test_a_request_without_the_header_is_refused(proxied):
    url, _ = proxied
    for page in ("", "teams", "sessions", "reports", "health"):
        run = run_page(url, page)
        assert any("X-Forwarded-Email is missing" in e for e in run.errors), (page, run.errors)
        assert not run.tables and not run.metrics and not run.options, page


def test_the_header_gives_that_viewers_pages_and_nothing_more(proxied):
    url, ledger = proxied
    viewer = {"X-Forwarded-Email": email("claire.bennett").upper()}    # e-mails match in any case
    web = people_of(ledger.db, teams=("Web",))
    overview = run_page(url, "", headers=viewer)
    assert overview.options["Team"] == ["Web"] and set(overview.options["Person"]) == web
    assert overview.metrics["Spend (USD)"] == ui.usd(round(truth(ledger.db, web)["cost"], 6))
    teams = run_page(url, "teams", headers=viewer)
    assert teams.column("team") == {"Web"} and teams.column("user") == web
    sessions = run_page(url, "sessions", headers=viewer)
    assert sessions.column("session_id") and sessions.column("session_id") <= truth(ledger.db, web)["sessions"]


def test_a_forged_filter_or_a_stranger_sees_nothing(proxied):
    url, ledger = proxied
    forged = run_page(url, "teams", query="team=Payments", headers={"X-Forwarded-Email": email("claire.bennett")})
    assert any("No such team" in e for e in forged.errors) and not forged.tables
    stranger = run_page(url, "", headers={"X-Forwarded-Email": "mallory@evil.example"})
    assert any("not in the org directory" in e for e in stranger.errors) and not stranger.tables and not stranger.metrics
    engineer = run_page(url, "teams", headers={"X-Forwarded-Email": email(ledger.engineer)})
    assert engineer.column("user") == {ledger.engineer}


def test_every_request_is_in_the_audit_log(proxied):
    url, ledger = proxied
    run_page(url, "flags", query="team=Web", headers={"X-Forwarded-Email": email("root")})
    run_page(url, "flags")
    events = audit.read(audit.audit_path_for(ledger.db))
    admin = events.filter(events["viewer"] == email("root")).row(0, named=True)
    assert (admin["action"], admin["target"], admin["role"], admin["mode"]) == ("view", "flags", "admin", "proxy")
    assert '"team": "Web"' in admin["filters"]
    refused = events.filter(events["action"] == "refused")
    assert refused.height and set(refused["viewer"]) >= {"(anonymous)", "mallory@evil.example"}
    assert audit.verify(audit.audit_path_for(ledger.db)).intact


def test_with_a_shared_secret_the_header_alone_is_not_enough(roles_ledger, tmp_path):
    config = access_file(tmp_path / "access.toml", mode="proxy", extra=f'[proxy]\nshared_secret = "{SECRET}"')
    with _serve(roles_ledger, tmp_path, config) as (process, url):
        assert wait_healthy(url, process) == b"ok", (tmp_path / "server.log").read_text()
        forged = run_page(url, "teams", headers={"X-Forwarded-Email": email("root")})
        assert any("only answers through its sign-in proxy" in e for e in forged.errors) and not forged.tables
        wrong = run_page(url, "teams", headers={"X-Forwarded-Email": email("root"), "X-AgentLedger-Proxy-Secret": "guess"})
        assert not wrong.tables
        through = run_page(url, "teams", headers={"X-Forwarded-Email": email("root"), "X-AgentLedger-Proxy-Secret": SECRET})
        assert "Web" in through.column("team") and "Payments" in through.column("team")
