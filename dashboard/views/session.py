"""One session: requests over time, tokens, tool calls, the wasted stretches highlighted, flags with evidence."""

import altair as alt
import polars as pl
import streamlit as st

from analytics.filters import Filters
from dashboard import charts, data, palette, sidebar, ui, wiring


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
user, first_day, last_day = data.session_span(session_id)
span = Filters(user=user, date_from=first_day, date_to=last_day) if user and first_day else filters
listed = ui.try_query_report("sessions", span)
row = listed.filter(pl.col("session_id") == session_id) if listed is not None and "session_id" in listed.columns else None
if row is not None and row.height:
    r = row.row(0, named=True)
    st.markdown(" · ".join(f"**{label}** {r[key]}" for key, label in (("user", "person"), ("team", "team"), ("project", "project"), ("source", "source")) if r.get(key)))
    cols = st.columns(4)
    cols[0].metric("Spend (USD)", ui.usd(r.get("cost_usd")), border=True)
    cols[1].metric("Tokens", ui.tokens(r.get("total_tokens")), border=True)
    cols[2].metric("Requests", f"{r.get('requests') or 0:,}", border=True)
    cols[3].metric("Useful-output ratio", ui.pct(r.get("useful_output_ratio")), border=True)
    st.altair_chart(charts.outcome_split(r), width="stretch")
    st.caption(" · ".join(f"{palette.OUTCOME_LABELS[o]}: {ui.tokens(r.get(f'{o}_tokens'), unit=True)}" for o in palette.OUTCOMES))

timeline = ui.query(wiring.SESSION_TIMELINE, Filters(), session_id=session_id)
ui.empty_state(timeline, "requests in this session")
flags = ui.try_query(wiring.SESSION_FLAGS, Filters(), session_id=session_id)

st.subheader("Timeline")
# Both charts share one time domain and axis format, so a bar of tool calls sits under its request.
TIME_AXIS = alt.Axis(format="%H:%M", labelOverlap=True)
time_scale = alt.Scale(domain=[timeline["ts"].min().isoformat(), timeline["ts"].max().isoformat()])
token_col = "total_tokens" if "total_tokens" in timeline.columns else "tokens"
base = alt.Chart(timeline.to_pandas())
layers = []
if flags is not None and flags.height and {"started_at", "ended_at", "flag"} <= set(flags.columns):
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
           alt.Tooltip(f"{token_col}:Q", title="Tokens", format=",")]
for extra, title, fmt in (("cost_usd", "Spend (USD)", "$,.4f"), ("model", "Model", None), ("tools", "Tool calls", None),
                          ("outcome", "Outcome", None)):
    if extra in timeline.columns:
        tooltip.append(alt.Tooltip(f"{extra}:{'Q' if fmt else 'N'}", title=title, **({"format": fmt} if fmt else {})))
color = palette.outcome_color() if "outcome" in timeline.columns else alt.value(palette.ACCENT)
layers.append(base.mark_circle(size=60, opacity=0.9).encode(
    x=alt.X("ts:T", title="Time (UTC)", axis=TIME_AXIS, scale=time_scale), y=alt.Y(f"{token_col}:Q", title="Tokens per request", axis=alt.Axis(format="~s")),
    color=color, tooltip=tooltip,
))
chart = alt.layer(*layers).properties(height=300).configure_legend(orient="bottom", direction="horizontal", symbolOpacity=1)
st.altair_chart(chart, width="stretch")
if "tool_calls" in timeline.columns:
    calls = base.mark_bar(color=palette.ACCENT).encode(
        x=alt.X("ts:T", title="Time (UTC)", axis=TIME_AXIS, scale=time_scale), y=alt.Y("tool_calls:Q", title="Tool calls", axis=alt.Axis(tickMinStep=1)),
        tooltip=tooltip + [alt.Tooltip("tool_calls:Q", title="Tool calls")],
    ).properties(height=140)
    st.altair_chart(calls, width="stretch")
st.caption("Dots: one per API request, coloured by outcome. Shaded bands: the looping, discarded and idle "
           "stretches the flags point at, in the same colours.")

st.subheader("Flags and evidence")
if flags is None:
    flags = ui.try_query_report("flags", span)
    flags = flags.filter(pl.col("session_id") == session_id) if flags is not None and "session_id" in flags.columns else None
if flags is None or flags.height == 0:
    st.success("No flags on this session.", icon=":material/check:")
else:
    # Cards, not a grid: the evidence sentence is the point and must be readable in full.
    for flag in flags.head(50).iter_rows(named=True):
        with st.container(border=True):
            span = f"{flag['started_at']:%Y-%m-%d %H:%M} – {flag['ended_at']:%H:%M} UTC" if flag.get("started_at") and flag.get("ended_at") else ""
            st.markdown(f"**{flag['flag']}** · {span} · {ui.tokens(flag.get('tokens'), unit=True)} · {ui.usd(flag.get('cost_usd'))}")
            st.caption(flag.get("evidence") or "")

with st.expander("Requests (raw timeline rows)"):
    st.dataframe(timeline, hide_index=True)
