"""Overview: what the agents cost in the period and what it bought: first in git (work that landed and
survives), then within the sessions (kept work). Money first."""

import streamlit as st

from analytics import queries
from dashboard import charts, columns, sidebar, ui

filters = sidebar.current()
ui.header("Overview", filters, "changes are against the equally long period before")

summary = ui.view(queries.summary, filters)
if not ui.first(summary, "requests") and not ui.first(summary, "total_tokens"):
    ui.empty_state(None, "agent activity")
changes = ui.view(queries.changes, filters, group_by="org")


def kpi(column, field: str, fmt, change: str | None = None, points: bool = False, color: str = "off") -> None:
    # Volume changes are shown neutral (more spend is not bad in itself); the useful share going up
    # and waste or flagged sessions going down are coloured as good.
    delta = ui.first(changes, change) if change else None
    column.metric(columns.label(field), fmt(ui.first(summary, field)),
                  ui.points_delta(delta) if points else ui.pct_delta(delta),
                  border=True, help=columns.definition(field), delta_color=color)


def card(column, frame, field: str, fmt) -> None:
    column.metric(columns.label(field), fmt(ui.first(frame, field)), border=True, help=columns.definition(field))


# The headline: the share of spend whose work reached the default branch and is still there.
st.subheader("What the spend bought in git")
bought = ui.view(queries.git_headline, filters)
repositories = ui.first(bought, "repositories")
if repositories == 0:
    ui.not_scanned("how much of the spend landed in git and survives")
elif repositories:
    cards = st.columns(4)
    card(cards[0], bought, "surviving_cost_share", ui.pct)
    card(cards[1], bought, "surviving_cost_usd", ui.usd)
    card(cards[2], bought, "landed_cost_share", ui.pct)
    card(cards[3], bought, "landed_cost_usd", ui.usd)
    st.caption(f"Of {ui.usd(ui.first(bought, 'cost_usd'))} spent, {ui.usd(ui.first(bought, 'surviving_cost_usd'))} went "
               "to turns whose edits are still on the default branch at its head, "
               f"{ui.usd(ui.first(bought, 'landed_cost_usd'))} to turns whose edits reached it at all "
               f"({ui.count(ui.first(bought, 'lines_alive_head'))} of {ui.count(ui.first(bought, 'lines_landed'))} landed "
               "agent lines still there). Every session counts, those that produced nothing too; Claude Code's own "
               f"overhead is left out of the shares. {ui.count(repositories)} repositories scanned.")

st.subheader("Spend and waste")
# Four cards a row: their labels stay whole on a laptop screen.
money = st.columns(4)
kpi(money[0], "cost_usd", ui.usd, "cost_change")
kpi(money[1], "useful_cost_ratio", ui.pct, "useful_cost_ratio_change", points=True, color="normal")
kpi(money[2], "waste_cost_usd", ui.usd, "waste_cost_change", color="inverse")
kpi(money[3], "flagged_cost_usd", ui.usd)
volume = st.columns(4)
kpi(volume[0], "sessions", ui.count, "sessions_change")
kpi(volume[1], "active_users", ui.count, "users_change")
kpi(volume[2], "flagged_sessions", ui.count, "flagged_sessions_change", color="inverse")
kpi(volume[3], "total_tokens", ui.tokens, "total_tokens_change")
st.caption(f"Weighted by tokens instead of dollars, {ui.pct(ui.first(summary, 'useful_output_ratio'))} was useful "
           "(token kinds differ in price: a cache read costs a tenth of fresh input). Flagged spend counts each "
           "request once, however many flags point at it; the Flags page shows how they overlap.")
ui.caveats(summary)

st.subheader("Daily spend by outcome")
measure_label = st.segmented_control("Measure", list(charts.MEASURES), default="Spend (USD)", key="overview_measure",
                                     label_visibility="collapsed")
daily = ui.view(queries.daily_outcomes, filters)
if daily.height:
    st.altair_chart(charts.daily_by_outcome(daily, charts.MEASURES[measure_label or "Spend (USD)"], sidebar.period(filters)), width="stretch")
    st.caption("Kept: work that survived. Looping, discarded and idle: spend on work that did not. Claude Code "
               f"overhead ({ui.usd(ui.first(summary, 'overhead_cost_usd') or 0)} in the period): its own agents "
               "(prompt suggestions, compaction, warm-ups), nobody's work, so left out of the useful share.")
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
