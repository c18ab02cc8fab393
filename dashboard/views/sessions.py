"""Sessions: the filterable list, a page at a time; select one to see its timeline and evidence."""

import math

import polars as pl
import streamlit as st

from analytics import queries
from dashboard import columns, data, sidebar, ui

filters = sidebar.current()
ui.header("Sessions", filters)

sessions = ui.report("sessions", filters)
ui.empty_state(sessions, "sessions")
ui.caveats(ui.view(queries.summary, filters))

controls = st.columns([2, 1, 1])
needle = controls[0].text_input("Find", placeholder="session id, person, team or project", key="sessions_find")
flagged_only = controls[1].toggle("Only flagged sessions", key="sessions_flagged")
ORDERS = {
    "Most wasted spend first": ("waste_cost_usd", True),
    "Lowest useful share of spend first": ("useful_cost_ratio", False),
    "Newest first": ("started_at", True),
}
order = controls[2].selectbox("Order", list(ORDERS), key="sessions_order")

if needle:
    text = needle.lower()
    sessions = sessions.filter(pl.any_horizontal(
        pl.col(c).cast(pl.Utf8).str.to_lowercase().str.contains(text, literal=True)
        for c in ("session_id", "user", "project", "team")
    ))
if flagged_only:
    sessions = sessions.filter(pl.col("flags") != "")
column, descending = ORDERS[order]
sessions = sessions.sort(column, descending=descending, nulls_last=True)
ui.empty_state(sessions, "sessions matching the search")

# A page at a time: a year of an organisation holds far more sessions than a table should carry.
PAGE_ROWS = 500
pages = math.ceil(sessions.height / PAGE_ROWS)
page = 1
if pages > 1:
    # A page number kept from a longer list (before a filter narrowed it) must not point past the end.
    st.session_state["sessions_page"] = min(st.session_state.get("sessions_page", 1), pages)
    page = st.number_input(f"Page (of {pages:,})", min_value=1, max_value=pages, step=1, key="sessions_page")
first = (page - 1) * PAGE_ROWS
shown = sessions.slice(first, PAGE_ROWS)
where = (f"Sessions {first + 1:,}–{first + shown.height:,} of {sessions.height:,}, {order.lower()}"
         if pages > 1 else f"All {sessions.height:,} sessions, {order.lower()}")
st.caption(where + (". Turn the page above, or narrow the list with Find or the sidebar filters." if pages > 1 else ".")
           + " Select a row to open the session: its timeline, tokens and every flag's evidence.")
# What a manager reads, in 904 px (a 1366 px screen beside the sidebar): when, who, money first (useful share,
# waste, spend) and the flags as evidence, read in full (up to four; a session's page lists every flag with
# its evidence). Person and team are capped so that long names cannot push the flags out of sight. The flagged
# spend (mostly the wasted spend again), where (the project: real paths are long), tokens, volume, the session
# id and plumbing stay in the data, folded: the toolbar's Show/hide columns brings them back, and the session's
# own page (select a row) and the sessions report have them all.
SHOWN = ["started_at", "user", *(["team"] if data.has_teams() else []), "useful_cost_ratio", "waste_cost_usd",
         "cost_usd", "flags"]
FOLDED = ["flagged_cost_usd", "project", "session_id", "ended_at", "requests", "source", "useful_output_ratio",
          "total_tokens", "kept_tokens", "looping_tokens", "discarded_tokens", "idle_tokens", "overhead_tokens",
          "flagged_tokens", "estimated_output_requests", "fallback_model_requests"]
picked = st.dataframe(
    shown, hide_index=True, on_select="rerun", selection_mode="single-row", key="sessions_table", height=560,
    placeholder=columns.PLACEHOLDER, column_order=SHOWN + FOLDED,
    column_config=columns.folded(columns.config(
        started_at={**columns.utc("Started (UTC)", columns.definition("started_at")), "width": 115},
        useful_cost_ratio=columns.short("useful_cost_ratio", "Useful share", width=95),
        waste_cost_usd=columns.short("waste_cost_usd", "Wasted (USD)", width=95),
        cost_usd={**columns.COMMON["cost_usd"], "width": 88},
        flagged_cost_usd=columns.short("flagged_cost_usd", "Flagged (USD)"),
        user=st.column_config.TextColumn(columns.label("user"), width=110, help=columns.definition("user")),
        team=st.column_config.TextColumn(columns.label("team"), width=92, help=columns.definition("team")),
        flags=st.column_config.TextColumn(columns.label("flags"), width=250, help=columns.definition("flags")),
    ), FOLDED),
)
st.caption(columns.FOLDED_NOTE)
if picked.selection.rows:
    st.switch_page("views/session.py", query_params={"session": shown["session_id"][picked.selection.rows[0]]})
