"""One session: requests over time, tokens, tool calls, the wasted stretches highlighted, flags with evidence."""

import altair as alt
import polars as pl
import streamlit as st

from analytics import queries
from analytics.filters import Filters
from dashboard import charts, data, palette, sidebar, ui


session_id = st.query_params.get("session")
filters = sidebar.current()
if not session_id:
    st.title("Session")
    st.info("No session chosen. Pick one on the Sessions page.", icon=":material/list:")
    st.page_link("views/sessions.py", label="Go to Sessions", icon=":material/arrow_back:")
    st.stop()

st.title("Session")
st.caption(f"`{session_id}`")
st.page_link("views/sessions.py", label="Back to sessions", icon=":material/arrow_back:")

# The session's own person and days, not the sidebar's period: the row is the whole session, and the
# report stays small (the full list for a year of an org would cost a second just to find one row).
span = data.session_span(session_id)
listed = ui.report("sessions", span) if span else None
row = listed.filter(pl.col("session_id") == session_id) if listed is not None else None
if row is not None and row.height:
    r = row.row(0, named=True)
    st.markdown(" · ".join(f"**{label}** {r[key]}" for key, label in (("user", "person"), ("team", "team"), ("project", "project"), ("source", "source")) if r.get(key)))
    cols = st.columns(4)
    cols[0].metric("Spend (USD)", ui.usd(r["cost_usd"]), border=True)
    cols[1].metric("Tokens", ui.tokens(r["total_tokens"]), border=True)
    cols[2].metric("Requests", ui.count(r["requests"]), border=True)
    cols[3].metric("Useful-output ratio", ui.pct(r["useful_output_ratio"]), border=True)
    st.altair_chart(charts.outcome_split(r), width="stretch")
    st.caption(" · ".join(f"{palette.OUTCOME_LABELS[o]}: {ui.tokens(r[f'{o}_tokens'], unit=True)}" for o in palette.OUTCOMES))

timeline = ui.view(queries.session_timeline, Filters(), session_id=session_id)
ui.empty_state(timeline, "requests in this session")
flags = ui.view(queries.session_flags, Filters(), session_id=session_id)

st.subheader("Timeline")
# Both charts share one time domain and axis format, so a bar of tool calls sits under its request.
TIME_AXIS = alt.Axis(format="%H:%M", labelOverlap=True)
time_scale = alt.Scale(domain=[timeline["ts"].min().isoformat(), timeline["ts"].max().isoformat()])
base = alt.Chart(timeline.to_pandas())
layers = []
if flags.height:
    # Only the flags that mark a stretch of waste get a band, in that outcome's colour; session-wide
    # flags (zero_output, usage_spike) would paint the whole chart and hide the stretches.
    bands = flags.filter(pl.col("flag").is_in(list(palette.FLAG_OUTCOME))).with_columns(
        pl.col("flag").replace_strict(palette.FLAG_OUTCOME, default=None).alias("outcome"))
    layers.append(
        alt.Chart(bands.to_pandas()).mark_rect(opacity=0.22).encode(
            x="started_at:T", x2="ended_at:T", color=palette.outcome_color(),
            tooltip=[alt.Tooltip("flag:N", title="Flag"), alt.Tooltip("started_at:T", title="From", format="%H:%M:%S"),
                     alt.Tooltip("ended_at:T", title="To", format="%H:%M:%S")],
        )
    )
tooltip = [alt.Tooltip("ts:T", title="Time (UTC)", format="%Y-%m-%d %H:%M:%S"),
           alt.Tooltip("total_tokens:Q", title="Tokens", format=","),
           alt.Tooltip("cost_usd:Q", title="Spend (USD)", format="$,.4f"), alt.Tooltip("model:N", title="Model"),
           alt.Tooltip("tools:N", title="Tool calls"), alt.Tooltip("outcome:N", title="Outcome")]
layers.append(base.mark_circle(size=60, opacity=0.9).encode(
    x=alt.X("ts:T", title="Time (UTC)", axis=TIME_AXIS, scale=time_scale),
    y=alt.Y("total_tokens:Q", title="Tokens per request", axis=alt.Axis(format="~s")),
    color=palette.outcome_color(), tooltip=tooltip,
))
chart = alt.layer(*layers).properties(height=300).configure_legend(orient="bottom", direction="horizontal", symbolOpacity=1)
st.altair_chart(chart, width="stretch")
calls = base.mark_bar(color=palette.ACCENT).encode(
    x=alt.X("ts:T", title="Time (UTC)", axis=TIME_AXIS, scale=time_scale),
    y=alt.Y("tool_calls:Q", title="Tool calls", axis=alt.Axis(tickMinStep=1)),
    tooltip=tooltip + [alt.Tooltip("tool_calls:Q", title="Tool calls")],
).properties(height=140)
st.altair_chart(calls, width="stretch")
st.caption("Dots: one per API request, coloured by outcome. Shaded bands: the looping, discarded and idle "
           "stretches the flags point at, in the same colours.")

st.subheader("Flags and evidence")
if flags.height == 0:
    st.success("No flags on this session.", icon=":material/check:")
else:
    # Cards, not a grid: the evidence sentence is the point and must be readable in full.
    for flag in flags.head(50).iter_rows(named=True):
        with st.container(border=True):
            stretch = f"{flag['started_at']:%Y-%m-%d %H:%M} – {flag['ended_at']:%H:%M} UTC"
            st.markdown(f"**{flag['flag']}** · {stretch} · {ui.tokens(flag['tokens'], unit=True)} · {ui.usd(flag['cost_usd'])}")
            st.caption(flag["evidence"])

with st.expander("Requests (raw timeline rows)"):
    st.dataframe(timeline, hide_index=True)
