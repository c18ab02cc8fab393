"""AgentLedger dashboard: the router. Run with `agentledger dashboard` (or `streamlit run` on this file)."""

from __future__ import annotations

import streamlit as st

from analytics.filters import Filters
from dashboard import auth, data, sidebar

st.set_page_config(page_title="AgentLedger", page_icon=":material/receipt_long:", layout="wide")

# Before anything else: who is looking, and what they may see (a refused request stops here).
access = auth.admit()
st.session_state.pop(data.STALE_STATE, None)
state = data.db_state()
health = st.Page("views/health.py", title="Data health", icon=":material/monitor_heart:", url_path="health")
auth.sidebar_note(access)

if not state.ok:
    # Nothing to analyse yet: explain how to ingest instead of failing on every page.
    pages = [st.Page("views/welcome.py", title="Get started", icon=":material/rocket_launch:", default=True)]
    if state.status == "empty":
        pages.append(health)
    page = st.navigation(pages)
    auth.record_view(page.url_path or "welcome", Filters())
    page.run()
    st.stop()

busy_note = st.sidebar.empty()
filters = sidebar.render()
navigation = st.navigation(
    {
        "Spend & value": [
            st.Page("views/overview.py", title="Overview", icon=":material/dashboard:", url_path="overview", default=True),
            st.Page("views/teams.py", title="Teams & people", icon=":material/groups:", url_path="teams"),
            st.Page("views/plugins.py", title="Plugins & tools", icon=":material/extension:", url_path="plugins"),
        ],
        "Evidence": [
            st.Page("views/sessions.py", title="Sessions", icon=":material/list:", url_path="sessions"),
            st.Page("views/session.py", title="Session", icon=":material/timeline:", url_path="session", visibility="hidden"),
            st.Page("views/flags.py", title="Flags", icon=":material/flag:", url_path="flags"),
        ],
        "Data": [
            st.Page("views/reports.py", title="Reports", icon=":material/table_view:", url_path="reports"),
            health,
        ],
    }
)
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
