"""AgentLedger dashboard: the router. Run with `agentledger dashboard` (or `streamlit run` on this file).

Every page has its own URL (/overview, /teams, ...). Streamlit serves its default page only at the
root (typed as /overview it answered "Page not found"), so Overview is registered twice: as the
default at the root and, hidden from the menu, at /overview. No redirect: a link's URL-bound filters
stay exactly as written.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from analytics.filters import Filters
from dashboard import auth, data, sidebar

st.set_page_config(page_title="AgentLedger", page_icon=":material/receipt_long:", layout="wide")


@dataclass(frozen=True)
class PageSpec:
    script: str
    title: str
    icon: str
    url_path: str
    visible: bool = True


SECTIONS: dict[str, tuple[PageSpec, ...]] = {
    "Spend & value": (
        PageSpec("views/overview.py", "Overview", ":material/dashboard:", "overview"),
        PageSpec("views/teams.py", "Teams & people", ":material/groups:", "teams"),
        PageSpec("views/plugins.py", "Plugins & tools", ":material/extension:", "plugins"),
    ),
    "Evidence": (
        PageSpec("views/sessions.py", "Sessions", ":material/list:", "sessions"),
        PageSpec("views/session.py", "Session", ":material/timeline:", "session", visible=False),
        PageSpec("views/flags.py", "Flags", ":material/flag:", "flags"),
    ),
    "Data": (
        PageSpec("views/reports.py", "Reports", ":material/table_view:", "reports"),
        PageSpec("views/health.py", "Data health", ":material/monitor_heart:", "health"),
    ),
}
# Pages that make sense on a ledger with no sessions yet.
WITHOUT_DATA = ("health",)


def page(spec: PageSpec, script: str | None = None) -> st.Page:
    """The st.Page of a spec (optionally running another script at the same URL)."""
    return st.Page(script or spec.script, title=spec.title, icon=spec.icon, url_path=spec.url_path,
                   visibility="visible" if spec.visible else "hidden")


def root(spec: PageSpec) -> st.Page:
    """The default page, served at the root; its own URL path is never reachable, hence 'start'."""
    return st.Page(spec.script, title=spec.title, icon=spec.icon, url_path="start", default=True)


# Before anything else: who is looking, and what they may see (a refused request stops here).
access = auth.admit()
st.session_state.pop(data.STALE_STATE, None)
state = data.db_state()
auth.sidebar_note(access)
specs = [spec for section in SECTIONS.values() for spec in section]

if not state.ok:
    # Nothing to analyse yet: every page's URL explains how to ingest instead of failing.
    welcome = root(PageSpec("views/welcome.py", "Get started", ":material/rocket_launch:", "start"))
    shown = [page(s) for s in specs if s.url_path in WITHOUT_DATA and state.status == "empty"]
    hidden = [page(PageSpec(s.script, "Get started", s.icon, s.url_path, visible=False), "views/welcome.py")
              for s in specs if s.url_path not in {p.url_path for p in shown}]
    current = st.navigation([welcome, *shown, *hidden])
    auth.record_view(current.url_path or "welcome", Filters())
    current.run()
    st.stop()

busy_note = st.sidebar.empty()
filters = sidebar.render()
overview = SECTIONS["Spend & value"][0]
pages = {name: [page(spec) for spec in section] for name, section in SECTIONS.items()}
pages["Spend & value"][0] = page(PageSpec(overview.script, overview.title, overview.icon, overview.url_path, visible=False))
pages["Spend & value"].insert(0, root(overview))
navigation = st.navigation(pages)
sidebar.follow_pending_jump()
unknown = sidebar.unknown_filter()
auth.record_view(navigation.url_path or "overview", filters, session=st.query_params.get("session"), refused_filter=unknown)
if unknown:
    # A link naming a team (person, ...) the ledger does not hold: say so, and show nothing else,
    # never the whole org as if the filter were not there.
    st.error(f"{unknown[:1].upper()}{unknown[1:]}. Pick one in the sidebar, or fix the link.", icon=":material/search_off:")
    st.stop()
try:
    navigation.run()
finally:
    # Filled after the page ran (even if it stopped early): only then is it known whether any figure
    # came from the last good result because an ingest was holding the ledger.
    since = data.served_stale_since()
    if since:
        busy_note.warning(f"An ingest is writing to the ledger: some figures are from {since:%H:%M} UTC "
                          "and refresh once it finishes.", icon=":material/sync:")
