"""Flags: where spend went to waste, each dollar counted once, with the evidence a manager can check in a minute."""

import altair as alt
import polars as pl
import streamlit as st

from analytics import queries
from dashboard import charts, columns, data, palette, sidebar, ui

filters = sidebar.current()
ui.header("Flags", filters, "flags describe work, not people")

flags = ui.report("flags", filters)
ui.empty_state(flags, "flags")
summary = ui.view(queries.summary, filters)
ui.caveats(summary)

# Money first, and each dollar once: a session under three flags is not three times the waste.
headline = st.columns(4)
for column, field, fmt in ((headline[0], "flagged_cost_usd", ui.usd), (headline[1], "flagged_sessions", ui.count),
                           (headline[2], "flag_count", ui.count), (headline[3], "flags_cost_usd", ui.usd)):
    column.metric(columns.label(field), fmt(ui.first(summary, field)), border=True, help=columns.definition(field))

st.subheader("By flag type")
types = ui.view(queries.flag_types, filters)
# Money with its evidence (the types it overlaps) in 904 px, what a 1366 px screen leaves beside the sidebar:
# short labels (the hover gives the full ones) and no tokens, which the table of every flag below shows.
st.dataframe(
    types, hide_index=True, placeholder=columns.PLACEHOLDER,
    column_order=["flag", "cost_usd", "distinct_cost_usd", "shared_cost_usd", "overlaps_with", "flags", "sessions"],
    column_config=columns.config(
        cost_usd=st.column_config.NumberColumn(
            "Its flags' spend (USD)", format="dollar", help="The spend each flag of this type covers in the period, added up."),
        distinct_cost_usd=columns.short("distinct_cost_usd", "Each request once (USD)"),
        shared_cost_usd=columns.short("shared_cost_usd", "Shared (USD)")),
)

overlap = ui.view(queries.flag_overlap, filters)
if overlap.height:
    top = overlap.row(0, named=True)
    st.markdown(
        f"**How flags overlap.** Flags of different types often point at the same requests: most of all "
        f"**{top['flag']}** and **{top['other_flag']}**, together in {top['sessions']:,} session"
        f"{'s' if top['sessions'] != 1 else ''} ({ui.usd(top['shared_cost_usd'])} of spend under both). That is why "
        f"the flags' spend added up ({ui.usd(ui.first(summary, 'flags_cost_usd'))}) is more than the flagged "
        f"spend counted once ({ui.usd(ui.first(summary, 'flagged_cost_usd'))}).")
    st.dataframe(overlap, hide_index=True, placeholder=columns.PLACEHOLDER,
                 column_config=columns.config(shared_cost_usd=st.column_config.NumberColumn(
                     "Spend under both (USD)", format="dollar", help="Spend of the requests both flag types cover, each once.")))
else:
    st.caption("No two flags point at the same request: the flags' spend adds up to the flagged spend.")

st.subheader("Flags raised per day")
names = sorted(flags["flag"].unique().to_list())
chosen = st.pills("Flag types", names, selection_mode="multi", default=names, key="flag_types")
if chosen is not None:
    flags = flags.filter(pl.col("flag").is_in(chosen))
ui.empty_state(flags, "flags of these types")
day_scale, day_axis = charts.day_scale_and_axis(*charts.day_period(flags, "started_at", sidebar.period(filters)))
chart = (
    alt.Chart(flags.to_pandas())
    .mark_bar()
    .encode(
        x=alt.X("yearmonthdate(started_at):T", title="Day (UTC)", scale=day_scale, axis=day_axis),
        y=alt.Y("count():Q", title="Flags", axis=charts.count_axis()),
        color=palette.flag_color(),
        tooltip=[alt.Tooltip("yearmonthdate(started_at):T", title="Day"), alt.Tooltip("flag:N", title="Flag"),
                 alt.Tooltip("count():Q", title="Flags"),
                 alt.Tooltip("sum(cost_usd):Q", title="Their own spend (USD)", format=charts.MONEY_TOOLTIP)],
    )
    .properties(height=220)
)
st.altair_chart(chart, width="stretch")

st.subheader("Evidence, most flagged spend first")
st.caption("One card per flagged session: what it spent under its flags (each request once) and every flag's "
           "evidence in full. Open the session for its timeline.")
CARDS = 20
WHO = ("user", "team", "project") if data.has_teams() else ("user", "project")
listed = ui.view(queries.flagged_sessions, filters)
if chosen is not None:
    listed = listed.filter(pl.col("session_id").is_in(flags["session_id"].unique().to_list()))
evidence = flags.sort("started_at")
for s in listed.head(CARDS).iter_rows(named=True):
    with st.container(border=True):
        who = " · ".join(f"**{s[k]}**" if k == "user" else str(s[k]) for k in WHO if s.get(k))
        st.markdown(f"{who} · {s['started_at']:%d %b %Y %H:%M} – {s['ended_at']:%H:%M} UTC")
        st.markdown(f"Flagged spend **{ui.usd(s['flagged_cost_usd'])}** of the session's {ui.usd(s['cost_usd'])}"
                    + (f" (its {s['flag_count']} flags' spend adds up to {ui.usd(s['flags_cost_usd'])})"
                       if s["flag_count"] > 1 else ""))
        for f in evidence.filter(pl.col("session_id") == s["session_id"]).iter_rows(named=True):
            st.markdown(f"- **{f['flag']}** ({ui.usd(f['cost_usd'])}): {f['evidence']}")
        st.page_link("views/session.py", label="Open the session", icon=":material/timeline:",
                     query_params={"session": s["session_id"]})
if listed.height > CARDS:
    st.caption(f"The {CARDS} sessions with the most flagged spend of {listed.height:,}; the table below lists every flag.")

with st.expander(f"Every flag as a table ({flags.height:,})"):
    st.caption("Select a row to open the session's timeline. The CSV on the Reports page (flags) has the same rows.")
    shown = flags.sort("cost_usd", descending=True, nulls_last=True)
    picked = st.dataframe(
        shown, hide_index=True, on_select="rerun", selection_mode="single-row", key="flags_table",
        placeholder=columns.PLACEHOLDER, row_height=56,
        # The evidence sits next to the flag: it is what a manager reads first.
        column_order=["flag", "cost_usd", "evidence", "user", "team", "started_at", "ended_at", "tokens", "project",
                      "session_id"],
        column_config=columns.config(
            started_at=columns.utc("From (UTC)"), ended_at=columns.utc("To (UTC)"),
            evidence=st.column_config.TextColumn("Evidence", width="large"),
        ),
    )
    if picked.selection.rows:
        st.switch_page("views/session.py", query_params={"session": shown["session_id"][picked.selection.rows[0]]})
