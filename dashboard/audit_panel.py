"""Data health's audit panel (admins only): who viewed or exported what, when, with which filters."""

from __future__ import annotations

from datetime import date

import polars as pl
import streamlit as st

from analytics.access.settings import access_settings
from analytics.export import to_csv
from dashboard import auth, columns
from store import audit

SHOWN = 1000


def render() -> None:
    """The last SHOWN audit events, whether the chain holds, and the whole log as CSV."""
    path = auth.audit_file(access_settings())
    st.subheader("Audit log")
    try:
        events = audit.read(path)
        check = audit.verify(path)
    except audit.AuditError as error:
        st.error(f"The audit log cannot be read: {error}", icon=":material/error:")
        return
    if check.intact:
        st.caption(f"`{path}` · {check.rows:,} events, append-only; the hash chain over every row holds.")
    else:
        st.error(f"The audit log was changed outside AgentLedger: the hash chain breaks at event {check.first_broken:,} "
                 f"(of {check.rows:,}). Events from there on cannot be trusted.", icon=":material/gpp_bad:")
    if events.height == 0:
        st.info("No events yet.", icon=":material/info:")
        return
    counts = events.group_by("action").len()
    cards = st.columns(3)
    for card, action in zip(cards, audit.ACTIONS):
        n = counts.filter(pl.col("action") == action)["len"].sum()
        card.metric({"view": "Page views", "export": "Exports", "refused": "Refused requests"}[action], f"{n:,}", border=True)
    who = st.text_input("Viewer", placeholder="filter by e-mail", key="audit_viewer")
    shown = events.filter(pl.col("viewer").str.contains(who.lower(), literal=True)) if who else events
    st.dataframe(
        shown.head(SHOWN), hide_index=True, height=360,
        # Who did what, when, to what, in 904 px: the access mode and the client are folded (Show/hide columns).
        column_order=["seq", "at", "viewer", "role", "action", "target", "filters", "mode", "client"],
        column_config=columns.folded({
            "seq": "#", "at": st.column_config.DatetimeColumn("Time (UTC)", format="YYYY-MM-DD HH:mm:ss"),
            "viewer": "Viewer", "role": "Role", "mode": "Mode", "action": "Action", "target": "Page or report",
            "filters": st.column_config.TextColumn("Filters", width="medium"), "client": "Client",
        }, ["mode", "client"]),
    )
    if shown.height > SHOWN:
        st.caption(f"The newest {SHOWN:,} of {shown.height:,} events; the download holds them all.")
    record = auth.export_recorder(auth.current(), access_settings(), "audit", None)
    payload = to_csv(events)

    def download() -> bytes:
        record()
        return payload

    st.download_button("Download the audit log (CSV)", download, file_name=f"agentledger-audit-{date.today()}.csv",
                       mime="text/csv", icon=":material/download:", key="download_audit")
