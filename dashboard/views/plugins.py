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
GROUPS = {"integration": "Integrations (MCP, plugins, skills, subagents)",
          "built-in": "Built-in tools, the prompt and Claude Code's own agents"}
TOP = 25
SPEND_TOOLTIP = [alt.Tooltip("component:N", title="Component"), alt.Tooltip("kind:N", title="Kind"),
                 alt.Tooltip("cost_usd:Q", title="Spend (USD)", format=charts.MONEY_TOOLTIP)]
LANDED_TOOLTIP = SPEND_TOOLTIP + [
    alt.Tooltip("landed_cost_usd:Q", title="Spend that landed (USD)", format=charts.MONEY_TOOLTIP),
    alt.Tooltip("landed_cost_share:Q", title="Share of its spend that landed", format=".0%"),
    alt.Tooltip("lines_landed:Q", title="Lines landed", format=","),
    alt.Tooltip("cost_per_landed_line:Q", title="Cost per landed line (USD)", format="$,.4f"),
]
KEPT_TOOLTIP = SPEND_TOOLTIP + [
    alt.Tooltip("useful_cost_ratio:Q", title="Useful share of spend", format=".0%"),
    alt.Tooltip("useful_output_ratio:Q", title="Useful share of tokens", format=".0%"),
    alt.Tooltip("calls:Q", title="Calls", format=","), alt.Tooltip("error_rate:Q", title="Error rate", format=".0%"),
    alt.Tooltip("result_bytes:Q", title="Result bytes injected", format=","),
    alt.Tooltip("requests:Q", title="Requests attributed", format=",.1f"),
]


def rows(frame: pl.DataFrame, share: str, share_title: str, tooltip: list) -> alt.Chart:
    """One row per component (name on the axis, so no label sits on another): its spend as a bar and,
    beside it, the share of that spend that bought something as a dot on a fixed 0-100% scale (no dot
    where there is no share)."""
    order = frame["component"].to_list()
    y = alt.Y("component:N", title=None, sort=order, axis=alt.Axis(labelLimit=320, labelOverlap=False))
    base = alt.Chart(frame.to_pandas()).properties(height=max(60, 24 * frame.height))
    spend = base.mark_bar().encode(
        x=alt.X("cost_usd:Q", title="Spend attributed (USD)", axis=charts.money_axis(charts.largest(frame, "cost_usd"))), y=y,
        color=palette.kind_color(), tooltip=tooltip,
    ).properties(width=380)
    dots = base.mark_circle(size=90, opacity=0.9).encode(
        x=alt.X(f"{share}:Q", title=share_title, scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format="%", values=[0, 0.25, 0.5, 0.75, 1])),
        y=alt.Y("component:N", sort=order, axis=None), color=palette.kind_color(legend=False), tooltip=tooltip,
    ).properties(width=220)
    return alt.hconcat(spend, dots, spacing=24).resolve_scale(y="shared")


def draw(worth: pl.DataFrame, share: str, share_title: str, tooltip: list) -> None:
    for origin, title in GROUPS.items():
        frame = worth.filter(pl.col("origin") == origin)
        if frame.height:
            st.markdown(f"**{title}**")
            st.altair_chart(rows(frame, share, share_title, tooltip), width="content")


def costliest(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort("cost_usd", descending=True, nulls_last=True).head(TOP)


scanned = ui.scanned(filters)
if scanned:
    # Worth it in git: the share of a component's spend in turns whose edits reached a default branch.
    landed = ui.view(queries.plugin_outcomes, filters).filter(pl.col("level") == (level or "component")).drop("level")
    if chosen is not None:
        landed = landed.filter(pl.col("kind").is_in(chosen))
    st.subheader("Worth it? Spend and the share of it that landed in git")
    st.caption(f"The {min(TOP, landed.height)} costliest components, integrations apart from built-ins. Left: the "
               "spend attributed to each; right: the share of that spend in turns whose edits reached the default "
               "branch (a dot far left: it bought nothing that landed). Claude Code's own agents (harness:...) have "
               "no dot: their spend is overhead, nobody's work, so no share of it can land. Hover for lines landed "
               "and the cost per landed line.")
    draw(costliest(landed), "landed_cost_share", "Share of its spend that landed", LANDED_TOOLTIP)
else:
    st.subheader("Worth it? Spend and useful share per component")
    if scanned is False:
        ui.not_scanned("how much of each component's spend landed in git")
    st.caption(f"The {min(TOP, plugins.height)} costliest components, integrations apart from built-ins. Left: the "
               "spend attributed to each; right: how much of that spend bought work kept within the session (a dot "
               "far left: mostly wasted). Hover for calls, errors and bytes injected.")
    built_in = pl.col("kind").is_in(["builtin", "prompt", "other", "harness"])
    draw(costliest(plugins).with_columns(pl.when(built_in).then(pl.lit("built-in")).otherwise(pl.lit("integration"))
                                         .alias("origin")), "useful_cost_ratio", "Useful share of its spend", KEPT_TOOLTIP)

st.subheader("All components")
notes = data.report_info("plugins")[1]
# Fits 1366 px beside the sidebar: short labels (the hover gives the full ones), bars at 105 px, and no token
# columns, which repeat the spend in another unit; the plugins report (Reports page, CSV) has them.
st.dataframe(
    plugins.sort("cost_usd", descending=True, nulls_last=True), hide_index=True, placeholder=columns.PLACEHOLDER,
    column_order=["component", "kind", "plugin", "cost_usd", "useful_cost_ratio", "calls", "errors", "error_rate",
                  "result_bytes", "requests"],
    column_config=columns.config(
        plugin=st.column_config.TextColumn("Plugin", help="The plugin the component belongs to; — when none does."),
        useful_cost_ratio=columns.short("useful_cost_ratio", "Useful share", width=105),
        error_rate=columns.short("error_rate", "Error rate", width=105),
        result_bytes=columns.short("result_bytes", "Bytes injected"),
        requests=st.column_config.NumberColumn("Requests", format="%.1f", help=notes["requests"].capitalize()
                                               + ": a request that consumed the results of two components counts half "
                                               "for each, so the column adds up to the requests made."),
    ),
)
st.caption("— in Plugin: a built-in tool or an integration installed on its own, not through a plugin. Requests "
           "(attributed) are fractional because a request that consumed several components' results is shared "
           "between them; the rows add up to the period's requests. Spend — : no priced request consumed it.")
