"""Altair chart builders shared by the pages: typed encodings, units in titles, tooltips everywhere."""

from __future__ import annotations

from datetime import date, timedelta

import altair as alt
import polars as pl

from dashboard import palette

MEASURES = {"Spend (USD)": "cost_usd", "Tokens": "tokens"}


def _axis_format(field: str) -> str:
    return "$,.2f" if field == "cost_usd" else "~s"


def daily_by_outcome(daily: pl.DataFrame, measure: str = "cost_usd", period: tuple[date, date] | None = None) -> alt.Chart:
    """Stacked daily bars, one colour per outcome (kept at the bottom), over the whole filter period."""
    # Without a fixed domain a period with one active day draws one bar as wide as the chart.
    domain = [period[0].isoformat(), (period[1] + timedelta(days=1)).isoformat()] if period else alt.Undefined
    title = "Spend (USD)" if measure == "cost_usd" else "Tokens"
    order = {o: i for i, o in enumerate(palette.OUTCOMES)}
    frame = daily.with_columns(pl.col("outcome").replace_strict(order, default=len(order)).alias("outcome_order"))
    return (
        alt.Chart(frame.to_pandas())
        .mark_bar()
        .encode(
            x=alt.X("yearmonthdate(day):T", title="Day (UTC)", scale=alt.Scale(domain=domain)),
            y=alt.Y(f"sum({measure}):Q", title=title, axis=alt.Axis(format="$~s" if measure == "cost_usd" else "~s")),
            color=palette.outcome_color(),
            order=alt.Order("outcome_order:Q", sort="ascending"),
            tooltip=[
                alt.Tooltip("yearmonthdate(day):T", title="Day"),
                alt.Tooltip("outcome:N", title="Outcome"),
                alt.Tooltip("sum(cost_usd):Q", title="Spend (USD)", format="$,.2f"),
                alt.Tooltip("sum(tokens):Q", title="Tokens", format=","),
            ],
        )
        .properties(height=320)
    )


def spend_bars(frame: pl.DataFrame, category: str, title: str, limit: int = 12) -> alt.Chart:
    """Horizontal bars of spend (USD) per category, biggest first, with tokens and requests in the tooltip."""
    top = frame.sort("cost_usd", descending=True, nulls_last=True).head(limit)
    tooltip = [alt.Tooltip(f"{category}:N", title=title), alt.Tooltip("cost_usd:Q", title="Spend (USD)", format="$,.2f"),
               alt.Tooltip("total_tokens:Q", title="Tokens", format=","), alt.Tooltip("requests:Q", title="Requests", format=",")]
    return (
        alt.Chart(top.to_pandas())
        .mark_bar(color=palette.ACCENT)
        .encode(
            x=alt.X("cost_usd:Q", title="Spend (USD)", axis=alt.Axis(format="$~s")),
            y=alt.Y(f"{category}:N", title=None, sort="-x", axis=alt.Axis(labelLimit=260, labelOverlap=False)),
            tooltip=tooltip,
        )
        .properties(height=max(120, 30 * top.height))
    )


def outcome_split(row: dict) -> alt.Chart:
    """One stacked bar: a session's tokens by outcome, from its report row's *_tokens columns."""
    parts = pl.DataFrame(
        {"outcome": list(palette.OUTCOMES), "tokens": [int(row.get(f"{o}_tokens") or 0) for o in palette.OUTCOMES],
         "order": list(range(len(palette.OUTCOMES)))}
    )
    return (
        alt.Chart(parts.to_pandas())
        .mark_bar(size=22)
        .encode(
            x=alt.X("sum(tokens):Q", title="This session's tokens by outcome", axis=alt.Axis(format="~s"), stack="zero"),
            color=alt.Color("outcome:N", title="Outcome", scale=palette.outcome_scale(), sort=list(palette.OUTCOMES),
                            legend=None),
            order=alt.Order("order:Q"),
            tooltip=[alt.Tooltip("outcome:N", title="Outcome"), alt.Tooltip("tokens:Q", title="Tokens", format=",")],
        )
        .properties(height=40)
    )
