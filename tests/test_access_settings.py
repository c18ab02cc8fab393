"""The access configuration file: modes, strict validation, owner-only when it holds secrets, and the
addresses each mode may serve on; `report --as` and `dashboard --host` obey it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from agentledger.cli import main
from analytics.access.settings import (
    CONFIG_ENV_VAR, AccessConfigError, AccessSettings, OidcSettings, ProxySettings, load_access_settings,
)
from store import audit
from tests.access_ledgers import COOKIE_SECRET, access_file, email, roles_ledger  # noqa: F401


@pytest.fixture
def config(tmp_path, monkeypatch):
    def use(text: str, mode: int = 0o600):
        path = tmp_path / "access.toml"
        path.write_text(text)
        path.chmod(mode)
        monkeypatch.setenv(CONFIG_ENV_VAR, str(path))
        return path
    return use


def test_without_a_file_the_mode_is_local(tmp_path, monkeypatch):
    monkeypatch.delenv(CONFIG_ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    settings = load_access_settings()
    assert settings.mode == "local" and settings.min_group_size == 3 and not settings.pseudonymous_roles


def test_a_named_file_that_does_not_exist_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv(CONFIG_ENV_VAR, str(tmp_path / "nope.toml"))
    with pytest.raises(AccessConfigError, match="no such access configuration file"):
        load_access_settings()


@pytest.mark.parametrize("text, message", [
    ('mode = "open"', "mode"),
    ('mood = "local"', "mood: Extra inputs are not permitted"),
    ('min_group_size = 0', "min_group_size"),
    ('pseudonymous_roles = ["manager"]', "needs a pseudonym_key"),
    ('pseudonymous_roles = ["boss"]\npseudonym_key = "' + "k" * 40 + '"', "pseudonymous_roles"),
    ('pseudonym_key = "short"', "at least 32 characters"),
    ('mode = "oidc"', "needs an [auth] table"),
    ('mode = "oidc"\n[auth]\nredirect_uri = "https://ledger.example.com/callback"\ncookie_secret = "' + COOKIE_SECRET
     + '"\nclient_id = "a"\nclient_secret = "b"\nserver_metadata_url = "https://idp.example.com/.well-known/openid-configuration"',
     "must end with /oauth2callback"),
    ('mode = "oidc"\n[auth]\nredirect_uri = "http://ledger.example.com/oauth2callback"\ncookie_secret = "' + COOKIE_SECRET
     + '"\nclient_id = "a"\nclient_secret = "b"\nserver_metadata_url = "https://idp.example.com/.well-known/openid-configuration"',
     "must use https"),
    ('mode = "oidc"\n[auth]\nredirect_uri = "https://ledger.example.com/oauth2callback"\ncookie_secret = "short"'
     '\nclient_id = "a"\nclient_secret = "b"\nserver_metadata_url = "https://idp.example.com/.well-known/openid-configuration"',
     "cookie_secret must be at least 32"),
    ('mode = "oidc"\n[auth]\nredirect_uri = "https://ledger.example.com/oauth2callback"\ncookie_secret = "' + COOKIE_SECRET
     + '"\nclient_id = "a"\nclient_secret = "b"\nserver_metadata_url = "https://idp.example.com/.well-known/openid-configuration"'
     '\nclient_kwargs = { scope = "openid profile" }', "must include openid and email"),
    ('mode = "oidc"\n[auth]\nredirect_uri = "https://ledger.example.com/oauth2callback"\ncookie_secret = "' + COOKIE_SECRET
     + '"\nclient_id = "a"\nclient_secret = "b"\nserver_metadata_url = "https://idp.example.com/.well-known/openid-configuration"'
     '\nexpose_tokens = "access"', "expose_tokens: Extra inputs are not permitted"),
    ('mode = "proxy"\n[proxy]\nshared_secret = "short"', "shared_secret must be at least 32"),
    ('mode = [', "access.toml"),
])
def test_a_bad_configuration_is_refused_in_one_line_naming_the_field(config, text, message):
    path = config(text)
    with pytest.raises(AccessConfigError) as error:
        load_access_settings()
    assert message in str(error.value) and str(path) in str(error.value) and "\n" not in str(error.value)


def test_a_valid_oidc_configuration_is_streamlits_own_auth_table(tmp_path, monkeypatch):
    path = access_file(tmp_path / "access.toml", mode="oidc")
    monkeypatch.setenv(CONFIG_ENV_VAR, str(path))
    settings = load_access_settings()
    assert settings.auth.client_id == "agentledger"
    assert "s3cret" not in repr(settings)      # secrets never print


def test_a_file_holding_secrets_must_be_owner_only(config):
    config('pseudonymous_roles = ["manager"]\npseudonym_key = "' + "k" * 40 + '"', mode=0o644)
    with pytest.raises(AccessConfigError, match="chmod 600"):
        load_access_settings()


def test_the_environment_overrides_the_file(config, monkeypatch):
    config('mode = "proxy"')
    monkeypatch.setenv("AGENTLEDGER_ACCESS_PROXY__HEADER", "X-Auth-Request-Email")
    assert load_access_settings().proxy.header == "X-Auth-Request-Email"


@pytest.mark.parametrize("mode, host, allowed", [
    ("local", "127.0.0.1", True), ("local", "0.0.0.0", False), ("local", "localhost", False),
    ("proxy", "127.0.0.1", True), ("proxy", "0.0.0.0", False), ("oidc", "0.0.0.0", True),
])
def test_each_mode_serves_only_where_it_may(mode, host, allowed):
    settings = AccessSettings(mode=mode, auth={"redirect_uri": "https://l.example.com/oauth2callback",
                                               "cookie_secret": COOKIE_SECRET, "client_id": "a", "client_secret": "b",
                                               "server_metadata_url": "https://idp.example.com/x"} if mode == "oidc" else None)
    if allowed:
        settings.check_listen_address(host)
    else:
        with pytest.raises(AccessConfigError):
            settings.check_listen_address(host)
    # With the proxy's shared secret, a proxy on another host may reach the dashboard.
    AccessSettings(mode="proxy", proxy={"shared_secret": "s" * 32}).check_listen_address("0.0.0.0")


def test_dashboard_refuses_to_serve_local_mode_on_another_address(tmp_path, monkeypatch):
    monkeypatch.delenv(CONFIG_ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    result = subprocess.run([sys.executable, "-m", "agentledger.cli", "dashboard", "--db", str(tmp_path / "x.duckdb"),
                             "--host", "0.0.0.0", "--no-browser"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "serves 127.0.0.1 only" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_report_as_gives_that_persons_scope_and_is_audited(roles_ledger, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(CONFIG_ENV_VAR, str(access_file(tmp_path / "access.toml")))
    db = str(roles_ledger.db)
    assert main(["report", "teams", "--db", db, "--format", "csv", "--as", email("claire.bennett")]) == 0
    teams = capsys.readouterr().out.splitlines()
    assert [line.split(",")[0] for line in teams[1:]] == ["Web"]
    assert main(["report", "users", "--db", db, "--format", "csv", "--as", email("claire.bennett"), "--team", "Payments"]) == 2
    assert "no such team: 'Payments'" in capsys.readouterr().err
    assert main(["report", "users", "--db", db, "--format", "csv", "--as", "someone@else.example"]) == 2
    assert "not in the org directory" in capsys.readouterr().err
    events = audit.read(audit.audit_path_for(db))
    mine = events.filter(events["viewer"] == email("claire.bennett"))
    assert mine["action"].to_list()[:2] == ["refused", "export"]
    assert mine["target"].to_list()[:2] == ["report:users", "report:teams"]
    assert '"team": "Payments"' in mine["filters"][0]


def test_every_access_setting_is_documented():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "security.md").read_text()
    fields = [f"`{name}`" for name in AccessSettings.model_fields if name not in ("proxy", "auth")]
    fields += [f"`[proxy] {name}`" for name in ProxySettings.model_fields]
    fields += [f"[auth] {name}" for name in OidcSettings.model_fields]
    missing = [f for f in fields if f not in doc and f.replace("[auth] ", "") not in doc]
    assert not missing, missing
