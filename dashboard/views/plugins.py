"""Plugins & tools: is each integration worth the tokens it pulls into the context?"""

import altair as alt
import polars as pl
import streamlit as st

from dashboard import columns, data, palette, sidebar, ui

filters = sidebar.current()
ui.header("Plugins & tools", filters, "tokens of a request belong to the component whose results it consumes")

plugins = ui.report("plugins", filters)
ui.empty_state(plugins, "tool or plugin activity")
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

worth = plugins.sort("cost_usd", descending=True, nulls_last=True).head(25)
left, right = st.columns([3, 2])
with left:
    st.subheader("Spend per component")
    bars = (
        alt.Chart(worth.to_pandas())
        .mark_bar()
        .encode(
            x=alt.X("cost_usd:Q", title="Spend attributed (USD)", axis=alt.Axis(format="$~s")),
            y=alt.Y("component:N", title=None, sort="-x", axis=alt.Axis(labelLimit=260, labelOverlap=False)),
            color=palette.kind_color(),
            tooltip=[
                alt.Tooltip("component:N", title="Component"), alt.Tooltip("kind:N", title="Kind"),
                alt.Tooltip("cost_usd:Q", title="Spend (USD)", format="$,.2f"),
                alt.Tooltip("total_tokens:Q", title="Tokens", format=","),
                alt.Tooltip("calls:Q", title="Calls", format=","),
                alt.Tooltip("useful_output_ratio:Q", title="Useful-output ratio", format=".0%"),
            ],
        )
        .properties(height=max(160, 26 * worth.height))
    )
    st.altair_chart(bars, width="stretch")
with right:
    st.subheader("Worth it?")
    # sqrt spreads the many cheap components without hiding the few expensive ones; the eight
    # costliest are named so the chart answers "which one?" without hovering.
    x = alt.X("cost_usd:Q", title="Spend attributed (USD)", scale=alt.Scale(type="sqrt"), axis=alt.Axis(format="$~s"))
    y = alt.Y("useful_output_ratio:Q", title="Useful-output ratio", axis=alt.Axis(format="%"),
              scale=alt.Scale(domain=[0, 1.08], nice=False))
    points = (
        alt.Chart(worth.to_pandas())
        .mark_circle(opacity=0.8, clip=False)
        .encode(
            x=x,
            y=y,
            size=alt.Size("calls:Q", title="Calls", legend=None),
            color=palette.kind_color(legend=False),
            tooltip=[
                alt.Tooltip("component:N", title="Component"),
                alt.Tooltip("cost_usd:Q", title="Spend (USD)", format="$,.2f"),
                alt.Tooltip("useful_output_ratio:Q", title="Useful-output ratio", format=".0%"),
                alt.Tooltip("error_rate:Q", title="Error rate", format=".0%"),
                alt.Tooltip("result_bytes:Q", title="Result bytes injected", format="~s"),
            ],
        )
    )
    names = (
        alt.Chart(worth.head(8).to_pandas())
        .mark_text(align="left", dx=7, dy=-6, fontSize=11, clip=False)
        .encode(x=x, y=y, text="component:N")
    )
    st.altair_chart(alt.layer(points, names).properties(height=max(160, 26 * worth.height)), width="stretch")
    st.caption("Bottom right: expensive and rarely useful. Bubble size: number of calls.")

st.subheader("All components")
st.dataframe(
    plugins.sort("cost_usd", descending=True, nulls_last=True), hide_index=True,
    column_config=columns.config(
        requests=st.column_config.NumberColumn("Requests attributed", format="%.2f",
                                               help=data.report_info("plugins")[1]["requests"]),
    ),
)
