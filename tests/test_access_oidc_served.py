"""`mode = "oidc"` as far as it goes without an identity provider: a served dashboard shows a signed-out
visitor nothing but Sign in, and Sign in sends them to the provider the access file names (its
discovery document served here), with this app's client id, callback and the openid/email scope."""

from __future__ import annotations

import json
import os
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import connect

from analytics.access.settings import CONFIG_ENV_VAR
from tests.access_ledgers import COOKIE_SECRET, roles_ledger  # noqa: F401
from tests.dashboard_app import served, wait_healthy
from tests.streamlit_client import run_page


class _Discovery(BaseHTTPRequestHandler):
    """A provider's /.well-known/openid-configuration, and nothing else (no sign-in happens here)."""

    def do_GET(self):  # noqa: N802 - the http.server API
        host = f"http://127.0.0.1:{self.server.server_port}"
        body = json.dumps({"issuer": host, "authorization_endpoint": f"{host}/authorize",
                           "token_endpoint": f"{host}/token", "jwks_uri": f"{host}/jwks",
                           "response_types_supported": ["code"], "code_challenge_methods_supported": ["S256"]}).encode()
        self.send_response(200 if self.path == "/.well-known/openid-configuration" else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture
def provider():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Discovery)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def _click_sign_in(url: str) -> str:
    """Run the app signed out, press its only button, and return where Streamlit sends the browser."""
    with connect(url.replace("http://", "ws://") + "/_stcore/stream", subprotocols=["streamlit"]) as ws:
        def rerun(widget_id: str | None = None):
            message = BackMsg()
            message.rerun_script.page_name = ""
            if widget_id:
                state = message.rerun_script.widget_states.widgets.add()
                state.id, state.trigger_value = widget_id, True
            ws.send(message.SerializeToString())

        rerun()
        button = None
        while True:
            forward = ForwardMsg()
            forward.ParseFromString(ws.recv(timeout=60))
            kind = forward.WhichOneof("type")
            if kind == "delta" and forward.delta.new_element.WhichOneof("type") == "button":
                button = forward.delta.new_element.button
            if kind == "auth_redirect":
                return forward.auth_redirect.url
            if kind == "script_finished":
                assert button is not None and button.label == "Sign in"
                if widget := button.id:
                    button = None
                    rerun(widget)
                else:
                    raise AssertionError("no Sign in button")


def test_signed_out_visitors_see_only_sign_in_and_it_leads_to_the_provider(roles_ledger, provider, tmp_path):
    config = tmp_path / "access.toml"
    config.write_text("\n".join([
        'mode = "oidc"', "[auth]", 'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"',
        f'cookie_secret = "{COOKIE_SECRET}"', 'client_id = "agentledger-test"', 'client_secret = "s3cret"',
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"']) + "\n")
    config.chmod(0o600)
    env = {**os.environ, CONFIG_ENV_VAR: str(config)}
    with served(["dashboard", "--db", str(roles_ledger.db), "--no-browser"], tmp_path / "server.log", env=env) as (process, url):
        assert wait_healthy(url, process) == b"ok", (tmp_path / "server.log").read_text()
        for page in ("", "teams", "health"):
            run = run_page(url, page)
            assert not run.tables and not run.metrics and not run.options, page
            assert any("Sign in to see" in t for t in run.texts), page
        login = _click_sign_in(url)
        assert urlparse(login).path == "/auth/login"
        request = urllib.request.build_opener(_NoRedirect)
        with pytest.raises(urllib.error.HTTPError) as redirect:
            request.open(url + login, timeout=30)
    assert redirect.value.code in (302, 303, 307)
    target = urlparse(redirect.value.headers["Location"])
    query = parse_qs(target.query)
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{provider}/authorize"
    assert query["client_id"] == ["agentledger-test"] and query["response_type"] == ["code"]
    assert query["redirect_uri"] == [f"{url}/oauth2callback"]
    assert {"openid", "email"} <= set(query["scope"][0].split())
    assert query["state"][0] and query["code_challenge_method"] == ["S256"]
