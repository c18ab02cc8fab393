"""One session: requests over time, spend and tokens, tool calls, the wasted stretches highlighted, flags with evidence."""

import altair as alt
import polars as pl
import streamlit as st

from analytics import queries
from analytics.filters import Filters
from dashboard import charts, columns, data, palette, sidebar, ui


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
flagged = ui.view(queries.flagged_sessions, span).filter(pl.col("session_id") == session_id) if span else None
if row is not None and row.height:
    r = row.row(0, named=True)
    shown = (("user", "person"), ("team", "team"), ("project", "project"), ("source", "source"))
    st.markdown(" · ".join(f"**{label}** {r[key]}" for key, label in shown
                           if r.get(key) and (key != "team" or data.has_teams())))
    cols = st.columns(4)
    cols[0].metric(columns.label("cost_usd"), ui.usd(r["cost_usd"]), border=True)
    cols[1].metric(columns.label("useful_cost_ratio"), ui.pct(r["useful_cost_ratio"]), border=True,
                   help=columns.definition("useful_cost_ratio"))
    cols[2].metric(columns.label("waste_cost_usd"), ui.usd(r["waste_cost_usd"]), border=True,
                   help=columns.definition("waste_cost_usd"))
    cols[3].metric(columns.label("flagged_cost_usd"), ui.usd(ui.first(flagged, "flagged_cost_usd") or 0), border=True,
                   help=columns.definition("flagged_cost_usd"))
    outcomes = ui.view(queries.session_outcomes, Filters(), session_id=session_id)
    st.altair_chart(charts.outcome_split(outcomes), width="stretch")
    spent = dict(zip(outcomes["outcome"], outcomes["cost_usd"]))
    st.caption(" · ".join(f"{palette.OUTCOME_LABELS[o]}: {ui.usd(spent.get(o) or 0)}" for o in palette.OUTCOMES)
               + f" · {ui.tokens(r['total_tokens'], unit=True)} in {ui.count(r['requests'])} requests, "
               f"{ui.pct(r['useful_output_ratio'])} of the tokens useful")
    if r["estimated_output_requests"]:
        st.caption(f":material/info: {r['estimated_output_requests']:,} of its {r['requests']:,} requests have a "
                   "placeholder output count (the line was written before the answer finished): their output "
                   "tokens and spend are a lower bound.")
    if r["fallback_model_requests"]:
        st.caption(f":material/info: {r['fallback_model_requests']:,} requests name no model and are priced as "
                   "the fallback model (gpt-5).")

st.subheader("What came out of it in git")
if ui.scanned(span or Filters()) is False:
    ui.not_scanned("which commits came out of this session")
else:
    commits = ui.view(queries.session_commits, Filters(), session_id=session_id)
    if commits.height:
        st.dataframe(
            commits, hide_index=True, placeholder=columns.PLACEHOLDER, key="session_commits_table",
            # The evidence (how the commit was found) in sight on a laptop screen; where and when to the right.
            column_order=["sha", "subject", "landed", "agent_lines", "alive_7d", "alive_30d", "alive_head", "evidence",
                          "signal", "confidence", "repository", "committed_at"],
            column_config=columns.config(
                sha=st.column_config.TextColumn(columns.label("sha"), width="small", help=columns.definition("sha")),
                landed=st.column_config.CheckboxColumn(columns.label("landed"), help=columns.definition("landed")),
                evidence=st.column_config.TextColumn(columns.label("evidence"), width="large",
                                                     help=columns.definition("evidence")),
            ),
        )
        st.caption("Agent lines: this session's lines in the commit; alive: how many are still there 7 and 30 days "
                   "after it and at the head of the default branch. — in an alive column: not due yet (the scanned "
                   "history does not reach that far past the commit). Link signal 1: the session printed the sha; "
                   "2: a rebased, squashed or amended copy of a printed sha; 3: a commit whose added lines overlap "
                   "the session's edits.")
    else:
        st.info("No commit is linked to this session: its edits (if any) reached no scanned repository's history.",
                icon=":material/commit:")
    turns = ui.view(queries.session_git_turns, Filters(), session_id=session_id)
    if turns.height:
        st.markdown("**Turn by turn**")
        st.dataframe(
            turns, hide_index=True, placeholder=columns.PLACEHOLDER, key="session_git_turns_table",
            column_order=["turn_no", "git_outcome", "cost_usd", "lines_written", "lines_committed", "lines_landed",
                          "lines_alive_head", "useful_output_ratio", "requests"],
            column_config=columns.config(),
        )
        st.caption("In git: landed (a line reached the default branch), committed (in a commit, none landed), "
                   "uncommitted (edits, nothing committed), no edits. The turn's outcome within the session "
                   "(kept, looping, discarded, idle) is unchanged by it.")

timeline = ui.view(queries.session_timeline, Filters(), session_id=session_id)
ui.empty_state(timeline, "requests in this session")
flags = ui.view(queries.session_flags, Filters(), session_id=session_id)

st.subheader("Timeline")
# Both charts share one time domain and axis, so a bar of tool calls sits under its request; the
# ticks step by a unit the session's length needs (a 40-second session is read in seconds).
start, end = timeline["ts"].min(), timeline["ts"].max()
TIME_AXIS = charts.time_axis(start, end)
Y_AXIS_WIDTH = 60  # both charts' y axes take the same width, so their time axes line up
time_scale = alt.Scale(domain=[start.isoformat(), end.isoformat()])
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
           alt.Tooltip("cost_usd:Q", title="Spend (USD)", format="$,.4f"),
           alt.Tooltip("total_tokens:Q", title="Tokens", format=","), alt.Tooltip("model:N", title="Model"),
           alt.Tooltip("tools:N", title="Tool calls"), alt.Tooltip("outcome:N", title="Outcome")]
# Spend per request; tokens for a session whose model has no price (its spend is unknown, not zero).
priced = timeline["cost_usd"].is_not_null().any()
layers.append(base.mark_circle(size=60, opacity=0.9).encode(
    x=alt.X("ts:T", title="Time (UTC)", axis=TIME_AXIS, scale=time_scale),
    y=alt.Y("cost_usd:Q", title="Spend per request (USD)",
            axis=charts.money_axis(charts.largest(timeline, "cost_usd"), minExtent=Y_AXIS_WIDTH)) if priced
    else alt.Y("total_tokens:Q", title="Tokens per request (unpriced model)", axis=charts.count_axis(minExtent=Y_AXIS_WIDTH)),
    color=palette.outcome_color(), tooltip=tooltip,
))
chart = alt.layer(*layers).properties(height=300).configure_legend(orient="bottom", direction="horizontal", symbolOpacity=1)
st.altair_chart(chart, width="stretch")
calls = base.mark_bar(color=palette.ACCENT).encode(
    x=alt.X("ts:T", title="Time (UTC)", axis=TIME_AXIS, scale=time_scale),
    y=alt.Y("tool_calls:Q", title="Tool calls", axis=charts.count_axis(minExtent=Y_AXIS_WIDTH)),
    tooltip=tooltip + [alt.Tooltip("tool_calls:Q", title="Tool calls")],
).properties(height=140)
st.altair_chart(calls, width="stretch")
st.caption("Dots: one per API request, coloured by outcome. Shaded bands: the looping, discarded and idle "
           "stretches the flags point at, in the same colours.")

st.subheader("Flags and evidence")
if flags.height == 0:
    st.success("No flags on this session.", icon=":material/check:")
else:
    if flagged is not None and flagged.height:
        f = flagged.row(0, named=True)
        st.caption(f"Flagged spend {ui.usd(f['flagged_cost_usd'])}, each request once; the flags' own spend added "
                   f"up is {ui.usd(f['flags_cost_usd'])}" + (" because some requests are under several flags."
                                                             if f["flag_count"] > 1 else "."))
    # Cards, not a grid: the evidence sentence is the point and must be readable in full.
    for flag in flags.head(50).iter_rows(named=True):
        with st.container(border=True):
            stretch = f"{flag['started_at']:%Y-%m-%d %H:%M} – {flag['ended_at']:%H:%M} UTC"
            st.markdown(f"**{flag['flag']}** · {stretch} · {ui.usd(flag['cost_usd'])} · {ui.tokens(flag['tokens'], unit=True)}")
            st.caption(flag["evidence"])

with st.expander("Requests (raw timeline rows)"):
    st.dataframe(timeline, hide_index=True, placeholder=columns.PLACEHOLDER,
                 column_config=columns.config(ts=columns.utc("Time (UTC)")))
