"""Every dashboard page, for each role, shows only what that viewer may see (signed in through oidc,
as Streamlit's AppTest lets a test be a signed-in user); nobody unauthenticated sees data; every view is
audited, and the audit is the admins' to read."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from analytics.access.settings import CONFIG_ENV_VAR
from dashboard import ui
from store import audit
from store.db import DB_ENV_VAR
from tests.access_ledgers import access_file, email, people_of, roles_ledger, truth  # noqa: F401
from tests.dashboard_app import assert_clean, render

PAGES = ["views/overview.py", "views/teams.py", "views/plugins.py", "views/sessions.py", "views/session.py",
         "views/flags.py", "views/reports.py", "views/health.py"]


def _signed_in(who: str) -> dict:
    return {"is_logged_in": True, "email": email(who), "email_verified": True}


@pytest.fixture
def oidc(roles_ledger, tmp_path, monkeypatch):
    monkeypatch.setenv(DB_ENV_VAR, str(roles_ledger.db))
    monkeypatch.setenv(CONFIG_ENV_VAR, str(access_file(tmp_path / "access.toml", mode="oidc")))
    return roles_ledger


def _shown(at: AppTest, column: str) -> set[str]:
    values: set[str] = set()
    for frame in at.dataframe:
        data = frame.value
        if column in data.columns:
            values |= {v for v in data[column].dropna().tolist()}
    return values


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("who", ["manager", "engineer"])
def test_every_page_shows_only_the_viewers_scope(who, page, oidc):
    viewer = "claire.bennett" if who == "manager" else oidc.engineer
    people = people_of(oidc.db, teams=("Web",)) if who == "manager" else {oidc.engineer}
    held = truth(oidc.db, people)
    outsider = sorted(truth(oidc.db, set(oidc.payments))["sessions"])[0]
    mine = sorted(held["sessions"])[0]
    query = {"session": outsider} if page.endswith("session.py") else {}
    at = render(page, _signed_in(viewer), **query)
    assert_clean(at)
    assert _shown(at, "user") <= people and _shown(at, "user_name") <= people
    assert _shown(at, "team") <= {"Web"}
    assert _shown(at, "session_id") <= held["sessions"]
    for box in at.selectbox:
        if box.label in ("Team", "Person"):
            assert set(box.options) <= ({"Web"} if box.label == "Team" else people), box.options
    if page.endswith("overview.py"):
        spend = next(m for m in at.metric if m.label == "Spend (USD)")
        assert spend.value == ui.usd(round(held["cost"], 6))
    if page.endswith("session.py"):
        # Another team's session: nothing of it, not even whose it is.
        assert not at.dataframe and not at.metric
        shown = render(page, _signed_in(viewer), session=mine)
        assert_clean(shown)
        assert any("Timeline" in h.value for h in shown.subheader)
    if page.endswith("health.py"):
        assert not any("Audit log" in h.value for h in at.subheader)
        assert not (_shown(at, "command") or _shown(at, "example"))


def test_a_forged_link_shows_no_such_team_and_nothing_else(oidc):
    at = render("views/overview.py", _signed_in("claire.bennett"), team="Payments")
    assert any("No such team" in e.value for e in at.error)
    assert not at.metric and not at.dataframe


def test_an_admin_sees_everything_and_the_audit_of_what_others_saw(oidc):
    render("views/flags.py", _signed_in("claire.bennett"), team="Web")
    at = render("views/health.py", _signed_in("root"))
    assert_clean(at)
    assert any("Audit log" in h.value for h in at.subheader)
    log = next(frame.value for frame in at.dataframe if "viewer" in frame.value.columns)
    claire = log[log["viewer"] == email("claire.bennett")]
    assert "flags" in set(claire["target"]) and (claire["role"] == "manager").all()
    assert any('"team": "Web"' in f for f in claire["filters"])
    assert any(b.label.startswith("Download the audit log") for b in at.get("download_button"))
    overview = render("views/overview.py", _signed_in("root"))
    spend = next(m for m in overview.metric if m.label == "Spend (USD)")
    everyone = {r for r in people_of(oidc.db, teams=("Web", "Payments", "Platform", "Data", "Mobile", "(unassigned)"))}
    assert spend.value == ui.usd(round(truth(oidc.db, everyone)["cost"], 6))


def test_nobody_unauthenticated_sees_data(oidc):
    at = render("views/overview.py", {"is_logged_in": False})
    assert_clean(at)
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.metric and not at.dataframe and not at.selectbox


@pytest.mark.parametrize("user, message", [
    ({"is_logged_in": True, "email": "stranger@elsewhere.example"}, "not in the org directory"),
    ({"is_logged_in": True, "email": email("claire.bennett"), "email_verified": False}, "not verified"),
])
def test_a_signed_in_stranger_or_an_unverified_email_is_refused_and_audited(oidc, user, message):
    at = render("views/overview.py", user)
    assert any(message in e.value for e in at.error)
    assert not at.metric and not at.dataframe
    events = audit.read(audit.audit_path_for(oidc.db))
    assert events.row(0, named=True)["action"] == "refused"


def test_proxy_mode_without_the_header_shows_nothing(roles_ledger, tmp_path, monkeypatch):
    # AppTest sends no request headers: exactly a request that did not come through the proxy.
    monkeypatch.setenv(DB_ENV_VAR, str(roles_ledger.db))
    monkeypatch.setenv(CONFIG_ENV_VAR, str(access_file(tmp_path / "access.toml", mode="proxy")))
    at = render("views/overview.py", None)
    assert any("X-Forwarded-Email is missing" in e.value for e in at.error)
    assert not at.metric and not at.dataframe and not at.selectbox


def test_a_pseudonymous_manager_sees_pseudonyms_on_every_page(roles_ledger, tmp_path, monkeypatch):
    monkeypatch.setenv(DB_ENV_VAR, str(roles_ledger.db))
    monkeypatch.setenv(CONFIG_ENV_VAR, str(access_file(tmp_path / "access.toml", mode="oidc", pseudonymous=("manager",))))
    for page in ("views/teams.py", "views/sessions.py", "views/flags.py"):
        at = render(page, _signed_in("claire.bennett"))
        assert_clean(at)
        shown = _shown(at, "user")
        assert shown and all(u.startswith("p-") for u in shown), (page, shown)
        assert _shown(at, "name") <= shown      # no display names either


def test_the_reports_page_cli_equivalent_reads_as_the_viewer(oidc):
    at = render("views/reports.py", _signed_in("claire.bennett"))
    assert any(f"--as {email('claire.bennett')}" in c.value for c in at.code)
