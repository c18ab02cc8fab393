"""Flags: every waste flag with the evidence a manager can check in a minute."""

import altair as alt
import polars as pl
import streamlit as st

from dashboard import columns, palette, sidebar, ui

filters = sidebar.current()
ui.header("Flags", filters, "flags describe work, not people")

flags = ui.report("flags", filters)
ui.empty_state(flags, "flags")

types = sorted(flags["flag"].unique().to_list())
chosen = st.pills("Flag types", types, selection_mode="multi", default=types, key="flag_types")
if chosen is not None:
    flags = flags.filter(pl.col("flag").is_in(chosen))
ui.empty_state(flags, "flags of these types")

counts = st.columns(min(len(types), 6) or 1)
for column, flag in zip(counts, types[:6]):
    subset = flags.filter(pl.col("flag") == flag)
    column.metric(flag, f"{subset.height:,}", border=True, help=f"Spend involved: {ui.usd(subset['cost_usd'].sum())}")

st.subheader("Flags over time")
chart = (
    alt.Chart(flags.to_pandas())
    .mark_bar()
    .encode(
        x=alt.X("yearmonthdate(started_at):T", title="Day (UTC)"),
        y=alt.Y("count():Q", title="Flags"),
        color=palette.flag_color(),
        tooltip=[alt.Tooltip("yearmonthdate(started_at):T", title="Day"), alt.Tooltip("flag:N", title="Flag"),
                 alt.Tooltip("count():Q", title="Flags"),
                 alt.Tooltip("sum(cost_usd):Q", title="Spend involved (USD)", format="$,.2f")],
    )
    .properties(height=220)
)
st.altair_chart(chart, width="stretch")

st.subheader("Evidence")
st.caption("Select a row to open the session's timeline.")
shown = flags.sort("cost_usd", descending=True, nulls_last=True)
picked = st.dataframe(
    shown, hide_index=True, on_select="rerun", selection_mode="single-row", key="flags_table",
    # The evidence sits next to the flag: it is what a manager reads first.
    column_order=["flag", "evidence", "user", "team", "started_at", "ended_at", "tokens", "cost_usd", "project",
                  "session_id"],
    column_config=columns.config(
        started_at=columns.utc("From (UTC)"), ended_at=columns.utc("To (UTC)"),
        evidence=st.column_config.TextColumn("Evidence", width=520, help="Hover or widen to read; the session page shows it in full."),
    ),
)
if picked.selection.rows:
    st.switch_page("views/session.py", query_params={"session": shown["session_id"][picked.selection.rows[0]]})
