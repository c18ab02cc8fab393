"""AgentLedger dashboard: the router. Run with `agentledger dashboard` (or `streamlit run` on this file).

Every page has its own URL (/overview, /teams, ...), and so has the root: it opens Overview at
/overview with the link's filters. Streamlit serves its default page only at the root, so a typed
/overview would otherwise answer "Page not found".
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from dashboard import data, sidebar

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


def open_overview(overview: st.Page):
    """The root's page: switch to Overview at its own URL, passing the link's filters on."""
    def start() -> None:
        st.switch_page(overview, query_params={key: st.query_params.get_all(key) for key in st.query_params})
    return start


st.session_state.pop(data.STALE_STATE, None)
state = data.db_state()
specs = [spec for section in SECTIONS.values() for spec in section]

if not state.ok:
    # Nothing to analyse yet: every page's URL explains how to ingest instead of failing.
    welcome = st.Page("views/welcome.py", title="Get started", icon=":material/rocket_launch:", default=True)
    shown = [page(s) for s in specs if s.url_path in WITHOUT_DATA and state.status == "empty"]
    hidden = [page(PageSpec(s.script, "Get started", s.icon, s.url_path, visible=False), "views/welcome.py")
              for s in specs if s.url_path not in {p.url_path for p in shown}]
    st.navigation([welcome, *shown, *hidden]).run()
    st.stop()

busy_note = st.sidebar.empty()
sidebar.render()
pages = {name: [page(spec) for spec in section] for name, section in SECTIONS.items()}
overview = pages["Spend & value"][0]
root = st.Page(open_overview(overview), title="AgentLedger", url_path="start", default=True, visibility="hidden")
navigation = st.navigation({name: ([root] if name == "Spend & value" else []) + listed for name, listed in pages.items()})
sidebar.follow_pending_jump()
unknown = sidebar.unknown_filter()
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
