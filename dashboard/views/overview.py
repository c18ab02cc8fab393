"""Overview: what the agents cost in the period, and how much of it bought kept work."""

import streamlit as st

from analytics import queries
from dashboard import charts, columns, sidebar, ui

filters = sidebar.current()
ui.header("Overview", filters, "change is against the equally long period before")

summary = ui.view(queries.summary, filters)
if not ui.first(summary, "requests") and not ui.first(summary, "total_tokens"):
    ui.empty_state(None, "agent activity")
previous = sidebar.previous_period(filters)
before = ui.view(queries.summary, previous) if previous else None


def kpi(column, field: str, fmt, delta=ui.change, color: str = "off") -> None:
    # Volume changes are shown neutral (more spend is not bad in itself); only the useful ratio
    # going up and flagged sessions going down are coloured as good.
    now, then = ui.first(summary, field), ui.first(before, field)
    column.metric(columns.label(field), fmt(now), delta(now, then), border=True, help=columns.definition(field),
                  delta_color=color)


row = st.columns(6)
kpi(row[0], "cost_usd", ui.usd)
kpi(row[1], "total_tokens", ui.tokens)
kpi(row[2], "sessions", ui.count)
kpi(row[3], "active_users", ui.count)
kpi(row[4], "useful_output_ratio", ui.pct, delta=ui.point_change, color="normal")
kpi(row[5], "flagged_sessions", ui.count, color="inverse")

unpriced = ui.first(summary, "unpriced_requests")
if unpriced:
    st.warning(f"{unpriced:,} requests used a model with no known price: their cost is unknown and left out of "
               "the spend figures (never counted as $0). The models report lists them.", icon=":material/price_change:")

st.subheader("Daily spend by outcome")
measure_label = st.segmented_control("Measure", list(charts.MEASURES), default="Spend (USD)", key="overview_measure",
                                     label_visibility="collapsed")
daily = ui.view(queries.daily_outcomes, filters)
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
    sources = ui.view(queries.spend_by_source, filters)
    if sources.height:
        st.altair_chart(charts.spend_bars(sources, "source", "Source"), width="stretch")
