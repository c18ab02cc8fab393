"""AgentLedger dashboard: the router. Run with `agentledger dashboard` (or `streamlit run` on this file)."""

from __future__ import annotations

import streamlit as st

from dashboard import data, sidebar

st.set_page_config(page_title="AgentLedger", page_icon=":material/receipt_long:", layout="wide")

state = data.db_state()
health = st.Page("pages/health.py", title="Data health", icon=":material/monitor_heart:", url_path="health")

if not state.ok:
    # Nothing to analyse yet: explain how to ingest instead of failing on every page.
    pages = [st.Page("pages/welcome.py", title="Get started", icon=":material/rocket_launch:", default=True)]
    if state.status == "empty":
        pages.append(health)
    st.navigation(pages).run()
    st.stop()

sidebar.render()
navigation = st.navigation(
    {
        "Spend & value": [
            st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", url_path="overview", default=True),
            st.Page("pages/teams.py", title="Teams & people", icon=":material/groups:", url_path="teams"),
            st.Page("pages/plugins.py", title="Plugins & tools", icon=":material/extension:", url_path="plugins"),
        ],
        "Evidence": [
            st.Page("pages/sessions.py", title="Sessions", icon=":material/list:", url_path="sessions"),
            st.Page("pages/session.py", title="Session", icon=":material/timeline:", url_path="session", visibility="hidden"),
            st.Page("pages/flags.py", title="Flags", icon=":material/flag:", url_path="flags"),
        ],
        "Data": [
            st.Page("pages/reports.py", title="Reports", icon=":material/table_view:", url_path="reports"),
            health,
        ],
    }
)
sidebar.follow_pending_jump()
navigation.run()
