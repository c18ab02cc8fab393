"""Overview: what the agents cost in the period, and how much of it bought kept work."""

import streamlit as st

from dashboard import charts, sidebar, ui, wiring

filters = sidebar.current()
ui.header("Overview", filters, "change is against the equally long period before")

summary = ui.query(wiring.SUMMARY, filters)
if not ui.first(summary, "requests") and not ui.first(summary, "total_tokens"):
    ui.empty_state(None, "agent activity")
previous = sidebar.previous_period(filters)
before = ui.try_query(wiring.SUMMARY, previous) if previous else None


def kpi(column, label: str, field: str, fmt, help_text: str, delta=ui.change, color: str = "off") -> None:
    # Volume changes are shown neutral (more spend is not bad in itself); only the useful ratio
    # going up and flagged sessions going down are coloured as good.
    now, then = ui.first(summary, field), ui.first(before, field)
    column.metric(label, fmt(now), delta(now, then), border=True, help=help_text, delta_color=color)


row = st.columns(6)
kpi(row[0], "Spend (USD)", "cost_usd", ui.usd, "Priced per request from token kinds and model prices; unpriced models are excluded and listed on Reports.")
kpi(row[1], "Tokens", "total_tokens", ui.tokens, "Input + output + cache writes + cache reads.")
kpi(row[2], "Sessions", "sessions", lambda v: "—" if v is None else f"{v:,}", "Agent sessions with at least one request in the period.")
kpi(row[3], "Active people", "active_users", lambda v: "—" if v is None else f"{v:,}", "People with at least one request in the period.")
kpi(row[4], "Useful-output ratio", "useful_output_ratio", ui.pct, "Kept tokens / all tokens: the share of work that survived (see docs/metrics.md).", delta=ui.point_change, color="normal")
kpi(row[5], "Flagged sessions", "flagged_sessions", lambda v: "—" if v is None else f"{v:,}", "Sessions with at least one waste flag; see Flags for the evidence.", color="inverse")

unpriced = ui.first(summary, "unpriced_requests")
if unpriced:
    st.warning(f"{unpriced:,} requests used a model with no known price: their cost is unknown and left out of "
               "the spend figures (never counted as $0). The models report lists them.", icon=":material/price_change:")

st.subheader("Daily spend by outcome")
measure_label = st.segmented_control("Measure", list(charts.MEASURES), default="Spend (USD)", key="overview_measure",
                                     label_visibility="collapsed")
daily = ui.query(wiring.DAILY_OUTCOMES, filters)
if daily.height:
    st.altair_chart(charts.daily_by_outcome(daily, charts.MEASURES[measure_label or "Spend (USD)"], sidebar.period(filters)), width="stretch")
    st.caption("Kept: work that survived. Looping, discarded and idle: tokens spent on work that did not.")
else:
    st.info("No daily figures for these filters.")

left, right = st.columns(2)
with left:
    st.subheader("Spend by model")
    models = ui.report("models", filters)
    if models.height:
        st.altair_chart(charts.spend_bars(models, "model", "Model"), width="stretch")
with right:
    st.subheader("Spend by source agent")
    sources = ui.query(wiring.SPEND_BY_SOURCE, filters)
    if sources.height:
        st.altair_chart(charts.spend_bars(sources, "source", "Source"), width="stretch")
