"""Plugins & tools: is each integration worth the tokens it pulls into the context?"""

import altair as alt
import polars as pl
import streamlit as st

from analytics import queries
from dashboard import charts, columns, data, palette, sidebar, ui

filters = sidebar.current()
ui.header("Plugins & tools", filters, "a request's spend belongs to the components whose results it consumes")

plugins = ui.report("plugins", filters)
ui.empty_state(plugins, "tool or plugin activity")
ui.caveats(ui.view(queries.summary, filters))
# Component rows partition all tokens; plugin rows roll components up. Never mix them in one chart.
level = st.segmented_control("Level", ["component", "plugin"], default="component", key="plugin_level",
                             format_func={"component": "Per component", "plugin": "Per plugin (roll-up)"}.get)
plugins = plugins.filter(pl.col("level") == (level or "component")).drop("level")
ui.empty_state(plugins, "plugins (no component came from a plugin)" if level == "plugin" else "components")

kinds = sorted(k for k in plugins["kind"].unique().to_list() if k)
chosen = st.pills("Kinds", kinds, selection_mode="multi", default=kinds, key="plugin_kinds")
if chosen is not None:
    plugins = plugins.filter(plugins["kind"].is_in(chosen))
ui.empty_state(plugins, "components of these kinds")

# What people install and could remove (MCP servers, plugins, skills, subagents) apart from what
# every session has (built-in tools, the prompt itself): the question "worth it?" is about the former.
BUILT_IN = ("builtin", "prompt", "other", "harness")
GROUPS = {False: "Integrations (MCP, plugins, skills, subagents)", True: "Built-in tools and the prompt"}
TOP = 25
worth = (plugins.sort("cost_usd", descending=True, nulls_last=True).head(TOP)
         .with_columns(pl.when(pl.col("kind").is_in(BUILT_IN)).then(pl.lit(GROUPS[True]))
                       .otherwise(pl.lit(GROUPS[False])).alias("group")))

TOOLTIP = [
    alt.Tooltip("component:N", title="Component"), alt.Tooltip("kind:N", title="Kind"),
    alt.Tooltip("cost_usd:Q", title="Spend (USD)", format=charts.MONEY_TOOLTIP),
    alt.Tooltip("useful_cost_ratio:Q", title="Useful share of spend", format=".0%"),
    alt.Tooltip("useful_output_ratio:Q", title="Useful share of tokens", format=".0%"),
    alt.Tooltip("calls:Q", title="Calls", format=","), alt.Tooltip("error_rate:Q", title="Error rate", format=".0%"),
    alt.Tooltip("result_bytes:Q", title="Result bytes injected", format=","),
    alt.Tooltip("requests:Q", title="Requests attributed", format=",.1f"),
]


def rows(group: str) -> alt.Chart:
    """One row per component (name on the axis, so no label sits on another): its spend as a bar and,
    beside it, the useful share of that spend as a dot on a fixed 0-100% scale."""
    frame = worth.filter(pl.col("group") == group)
    order = frame["component"].to_list()
    y = alt.Y("component:N", title=None, sort=order, axis=alt.Axis(labelLimit=320, labelOverlap=False))
    base = alt.Chart(frame.to_pandas()).properties(height=max(60, 24 * frame.height))
    spend = base.mark_bar().encode(
        x=alt.X("cost_usd:Q", title="Spend attributed (USD)", axis=charts.money_axis(charts.largest(frame, "cost_usd"))), y=y,
        color=palette.kind_color(), tooltip=TOOLTIP,
    ).properties(width=380)
    useful = base.mark_circle(size=90, opacity=0.9).encode(
        x=alt.X("useful_cost_ratio:Q", title="Useful share of its spend", scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format="%", values=[0, 0.25, 0.5, 0.75, 1])),
        y=alt.Y("component:N", sort=order, axis=None), color=palette.kind_color(legend=False), tooltip=TOOLTIP,
    ).properties(width=220)
    return alt.hconcat(spend, useful, spacing=24).resolve_scale(y="shared")


st.subheader("Worth it? Spend and useful share per component")
st.caption(f"The {min(TOP, plugins.height)} costliest components, integrations apart from built-ins. Left: the "
           "spend attributed to each; right: how much of that spend bought kept work (a dot far left: mostly "
           "wasted). Hover for calls, errors and bytes injected.")
for group in GROUPS.values():
    if worth.filter(pl.col("group") == group).height:
        st.markdown(f"**{group}**")
        st.altair_chart(rows(group), width="content")

st.subheader("All components")
notes = data.report_info("plugins")[1]
st.dataframe(
    plugins.sort("cost_usd", descending=True, nulls_last=True), hide_index=True, placeholder=columns.PLACEHOLDER,
    column_order=["component", "kind", "plugin", "cost_usd", "useful_cost_ratio", "calls", "errors", "error_rate",
                  "result_bytes", "requests", "useful_output_ratio", "total_tokens", "kept_tokens"],
    column_config=columns.config(
        plugin=st.column_config.TextColumn("Plugin", help="The plugin the component belongs to; — when none does."),
        requests=st.column_config.NumberColumn("Requests attributed", format="%.1f", help=notes["requests"].capitalize()
                                               + ": a request that consumed the results of two components counts half "
                                               "for each, so the column adds up to the requests made."),
    ),
)
st.caption("— in Plugin: a built-in tool or an integration installed on its own, not through a plugin. Requests "
           "attributed are fractional because a request that consumed several components' results is shared "
           "between them; the rows add up to the period's requests. Spend — : no priced request consumed it.")
