"""Who is looking at this page, what they may see, and the audit of what they saw.

The router (app.py) calls `admit()` first on every run: it finds the viewer the way the access mode
says (local: whoever runs it, from this machine only; proxy: the e-mail in the trusted header;
oidc: Streamlit's st.login), resolves their role and scope from the org directory, and keeps them
for this run. `dashboard.data` binds that scope on every connection it opens and puts it in every
cache key, so no page can read outside it and no viewer is served another's cached rows. A request
that cannot be admitted sees one line saying why, and nothing else; it is audited as refused.
"""

from __future__ import annotations

import getpass
import hmac
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import streamlit as st

from analytics.access.directory import AccessDenied, Viewer, load_directory
from analytics.access.scope import Scope
from analytics.access.settings import AccessConfigError, AccessSettings, access_settings
from analytics.filters import Filters
from store import audit
from store.db import DatabaseError, reader, store_name

_ACCESS_STATE = "_agentledger_access"
_LAST_VIEW_STATE = "_agentledger_last_view"
# A directory change (org load) reaches signed-in viewers within this.
DIRECTORY_TTL = timedelta(seconds=60)
# Google's identity-aware proxy prefixes the e-mail with its namespace.
_HEADER_PREFIXES = ("accounts.google.com:",)


@dataclass(frozen=True)
class Access:
    """This run's viewer, their scope, and the settings that admitted them."""

    viewer: Viewer
    scope: Scope
    mode: str
    client: str | None

    @property
    def is_admin(self) -> bool:
        return self.viewer.role == "admin"


def _ledger() -> str:
    return store_name(None)


def audit_file(settings: AccessSettings) -> str:
    """The audit log this dashboard writes (settings.audit_file, else beside the ledger)."""
    return str(audit.audit_path_for(_ledger(), settings.audit_file))


def _client() -> str | None:
    # st.context.ip_address is None for a loopback peer; AppTest's stand-in client has no address.
    address = st.context.ip_address
    return address if isinstance(address, str) else None


def _refuse(message: str, settings: AccessSettings | None, viewer: str = "(anonymous)", role: str | None = None,
            reason: str = "") -> None:
    """Say why in one line, audit the refusal when there is a log to write to, and stop the run."""
    if settings is not None:
        try:
            audit.append(audit_file(settings), audit.AuditEvent(
                viewer=viewer, role=role, mode=settings.mode, action="refused", target=reason or message[:200],
                filters=dict(st.query_params.to_dict()), client=_client()))
        except audit.AuditError:
            pass  # the refusal itself is what matters; the page shows it
    st.error(message, icon=":material/lock:")
    st.stop()


def _proxy_email(settings: AccessSettings) -> str | None:
    headers = st.context.headers
    secret = settings.proxy.shared_secret
    if secret is not None:
        sent = headers.get(settings.proxy.secret_header) or ""
        if not hmac.compare_digest(sent.encode(), secret.get_secret_value().encode()):
            _refuse("This dashboard only answers through its sign-in proxy.", settings, reason="proxy secret missing or wrong")
    email = (headers.get(settings.proxy.header) or "").strip()
    for prefix in _HEADER_PREFIXES:
        email = email.removeprefix(prefix)
    return email or None


def _oidc_email(settings: AccessSettings) -> str | None:
    if not st.user.get("is_logged_in"):
        st.title("AgentLedger")
        st.info("Sign in to see what your coding agents spent, and what it bought.", icon=":material/login:")
        if st.button("Sign in", type="primary", icon=":material/login:"):
            st.login()
        st.stop()
    if st.user.get("email_verified") is False:
        _refuse("Your identity provider has not verified this e-mail address: ask an admin.", settings,
                viewer=str(st.user.get("email")), reason="e-mail not verified")
    return st.user.get("email")


@st.cache_data(ttl=DIRECTORY_TTL, show_spinner=False, max_entries=1024)
def _resolve(db: str, email: str, _settings: AccessSettings, settings_key: str) -> tuple[Viewer, Scope]:
    with reader(db, wait_seconds=20.0) as con:
        directory = load_directory(con)
    viewer = directory.viewer(email)
    return viewer, directory.scope(viewer, _settings)


def admit() -> Access:
    """The viewer of this run and their scope; stops the run with one line when they may not look."""
    try:
        settings = access_settings()
    except AccessConfigError as error:
        _refuse(f"The access configuration cannot be used: {error}", None)
    client = _client()
    if settings.mode == "local":
        if client is not None:
            # Served beyond this machine (a forwarded port, --server.address): local mode shows
            # everything to whoever connects, so it answers only here.
            _refuse("This dashboard runs in local mode and answers only on this machine.", settings,
                    reason=f"local mode reached from {client}")
        access = Access(Viewer.owner(f"local:{getpass.getuser()}"), Scope.owner(), "local", client)
    else:
        email = _proxy_email(settings) if settings.mode == "proxy" else _oidc_email(settings)
        if not email:
            _refuse(f"No signed-in identity reached the dashboard (header {settings.proxy.header} is missing): "
                    "open it through the sign-in proxy's address.", settings, reason="no identity")
        try:
            viewer, scope = _resolve(_ledger(), email, settings, settings.fingerprint)
        except AccessDenied as error:
            _refuse(str(error), settings, viewer=email.lower(), reason="not in the org directory")
        except DatabaseError as error:
            _refuse(f"Your access cannot be checked while the ledger is unavailable ({error}); reload in a moment.",
                    settings, viewer=email.lower(), reason="ledger unavailable")
        access = Access(viewer, scope, settings.mode, client)
    st.session_state[_ACCESS_STATE] = access
    return access


def current() -> Access:
    """This run's Access (admit() ran first in the router); a run without one may read nothing."""
    access = st.session_state.get(_ACCESS_STATE)
    if access is None:
        raise PermissionError("no viewer admitted in this run: the router must call auth.admit() first")
    return access


def record(action: str, target: str, filters: Filters | None = None, **extra: Any) -> None:
    """Append an audit row for this run's viewer; a page that cannot be audited is not shown."""
    access = current()
    settings = access_settings()
    asked = filters.model_dump(mode="json", exclude_none=True) if filters else {}
    asked.update({k: v for k, v in extra.items() if v is not None})
    try:
        audit.append(audit_file(settings), audit.AuditEvent(
            viewer=access.viewer.label, role=access.viewer.role, mode=access.mode, action=action,
            target=target, filters=asked, client=access.client))
    except audit.AuditError as error:
        st.error(f"This view cannot be recorded in the audit log, so it is not shown: {error}", icon=":material/lock:")
        st.stop()


def record_view(page: str, filters: Filters, **extra: Any) -> None:
    """Audit a page view once per page and filters (a rerun for a sort or a toggle is the same view)."""
    seen = (page, filters.model_dump_json(), tuple(sorted(extra.items())))
    if st.session_state.get(_LAST_VIEW_STATE) == seen:
        return
    record("view", page, filters, **extra)
    st.session_state[_LAST_VIEW_STATE] = seen


def export_recorder(access: Access, settings: AccessSettings, target: str, filters: Filters | None):
    """A function that audits one export when called (from a download's data callable, off the script
    thread, so everything it needs is bound here); raises AuditError, and then nothing is downloaded."""
    asked = filters.model_dump(mode="json", exclude_none=True) if filters else {}
    path = audit_file(settings)

    def write() -> None:
        audit.append(path, audit.AuditEvent(viewer=access.viewer.label, role=access.viewer.role, mode=access.mode,
                                            action="export", target=target, filters=asked, client=access.client))

    return write


def sidebar_note(access: Access) -> None:
    """One line under the navigation: who is signed in and how people are shown to them."""
    if access.mode == "local":
        st.sidebar.caption("Local mode: everything, on this machine only.")
        return
    shown = "people as pseudonyms" if access.scope.pseudonymous else "names"
    st.sidebar.caption(f"Signed in as {access.viewer.label} ({access.viewer.role}; {shown}).")
    if access.mode == "oidc" and st.sidebar.button("Sign out", icon=":material/logout:", type="tertiary"):
        st.logout()
