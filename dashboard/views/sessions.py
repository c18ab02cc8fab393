"""Sessions: the filterable list; select one to see its timeline and evidence."""

import polars as pl
import streamlit as st

from dashboard import columns, sidebar, ui

filters = sidebar.current()
ui.header("Sessions", filters)

sessions = ui.report("sessions", filters)
ui.empty_state(sessions, "sessions")

controls = st.columns([2, 1, 1])
needle = controls[0].text_input("Find", placeholder="session id, person or project", key="sessions_find")
flagged_only = controls[1].toggle("Only flagged sessions", key="sessions_flagged")
order = controls[2].selectbox("Order", ["Most waste first", "Lowest useful ratio first", "Newest first"], key="sessions_order")

if needle:
    text = needle.lower()
    sessions = sessions.filter(pl.any_horizontal(
        pl.col(c).cast(pl.Utf8).str.to_lowercase().str.contains(text, literal=True)
        for c in ("session_id", "user", "project", "team")
    ))
if flagged_only:
    sessions = sessions.filter(pl.col("flags") != "")
if order == "Most waste first":
    sessions = sessions.sort(pl.sum_horizontal("looping_tokens", "discarded_tokens", "idle_tokens"), descending=True)
elif order == "Lowest useful ratio first":
    sessions = sessions.sort("useful_output_ratio", nulls_last=True)
else:
    sessions = sessions.sort("started_at", descending=True)
ui.empty_state(sessions, "sessions matching the search")

LIMIT = 1000
st.caption(f"{sessions.height:,} sessions" + (f"; the first {LIMIT:,} shown — narrow the filters for the rest" if sessions.height > LIMIT else "")
           + ". Select a row to open the session.")
shown = sessions.head(LIMIT)
picked = st.dataframe(
    shown, hide_index=True, on_select="rerun", selection_mode="single-row", key="sessions_table", height=560,
    # What went to waste first; volume and plumbing (project, source) to the right.
    column_order=["session_id", "user", "team", "useful_output_ratio", "flags", "looping_tokens", "discarded_tokens",
                  "idle_tokens", "kept_tokens", "cost_usd", "total_tokens", "requests", "started_at", "ended_at",
                  "project", "source"],
    column_config=columns.config(),
)
if picked.selection.rows:
    st.switch_page("views/session.py", query_params={"session": shown["session_id"][picked.selection.rows[0]]})
