"""Altair chart builders shared by the pages: typed encodings, units in titles, tooltips everywhere.

Money axes are dollars and cents ($0.03, $2.50) while the largest value stays under $10, whole
dollars up to $10,000, then $12k and $1.2M: never an SI prefix, which reads $0.03 as "$30m". Time axes step by whole seconds, minutes, hours or days,
as coarse as the span needs, so no two ticks carry the same label.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import altair as alt
import polars as pl

from dashboard import palette

MEASURES = {"Spend (USD)": "cost_usd", "Tokens": "tokens"}

# The money tooltip format: always to the cent.
MONEY_TOOLTIP = "$,.2f"


def money_axis(top: float | None = None, **kwargs) -> alt.Axis:
    """An axis of dollars up to `top` (the largest value drawn): cents while it stays under $10
    ($0.00, $0.25 ... never a tick finer than a cent), whole dollars up to $10,000, then $k and $M.
    One format per axis, so $0.00 never sits under $20."""
    top = abs(top or 0)
    if top < 10:
        return alt.Axis(format="$,.2f", tickMinStep=0.01, **kwargs)
    if top < 10_000:
        return alt.Axis(format="$,.0f", tickMinStep=1, **kwargs)
    unit, suffix = (1e6, "M") if top >= 1e6 else (1e3, "k")
    return alt.Axis(labelExpr=f"datum.value == 0 ? '$0' : '$' + format(datum.value / {unit:g}, ',.1~f') + '{suffix}'",
                    tickMinStep=1, **kwargs)


def count_axis(**kwargs) -> alt.Axis:
    """An axis of counts or tokens: whole numbers with k/M/B suffixes (never fractions of a token)."""
    return alt.Axis(
        labelExpr="abs(datum.value) >= 1e9 ? format(datum.value / 1e9, ',.1~f') + 'B'"
                  " : abs(datum.value) >= 1e6 ? format(datum.value / 1e6, ',.1~f') + 'M'"
                  " : abs(datum.value) >= 1e3 ? format(datum.value / 1e3, ',.1~f') + 'k'"
                  " : format(datum.value, ',.0f')",
        tickMinStep=1, **kwargs)


def measure_axis(field: str, top: float | None = None, **kwargs) -> alt.Axis:
    """The axis for a measure column: money for *_usd (up to `top`), counts otherwise."""
    return money_axis(top, **kwargs) if field.endswith("cost_usd") else count_axis(**kwargs)


def largest(frame: pl.DataFrame, column: str, by: str | None = None) -> float:
    """The largest value a chart draws (per `by` group when bars stack): it picks the axis format only."""
    values = frame.group_by(by).agg(pl.col(column).sum())[column] if by else frame[column]
    return float(values.max() or 0)


# (step, label format), finest first: the first step giving at most `ticks` ticks over the span wins.
# Tick positions are listed explicitly (Vega-Lite and the Vega renderer Streamlit bundles spell time
# units differently, so an interval name valid in one breaks the other).
_CLOCK_STEPS = (
    (timedelta(seconds=1), "%H:%M:%S"), (timedelta(seconds=5), "%H:%M:%S"), (timedelta(seconds=15), "%H:%M:%S"),
    (timedelta(seconds=30), "%H:%M:%S"), (timedelta(minutes=1), "%H:%M"), (timedelta(minutes=5), "%H:%M"),
    (timedelta(minutes=15), "%H:%M"), (timedelta(minutes=30), "%H:%M"), (timedelta(hours=1), "%H:%M"),
    (timedelta(hours=3), "%d %b %H:%M"), (timedelta(hours=6), "%d %b %H:%M"), (timedelta(hours=12), "%d %b %H:%M"),
)
# Calendar steps: days, or months (a month is no fixed number of days).
_DAY_STEPS = ((timedelta(days=1), "%d %b %Y"), (timedelta(days=2), "%d %b %Y"), (timedelta(days=7), "%d %b %Y"),
              (timedelta(days=14), "%d %b %Y"))
_MONTH_STEPS = ((1, "%b %Y"), (3, "%b %Y"), (12, "%Y"))


def _clock_ticks(start: datetime, end: datetime, step: timedelta) -> list[datetime]:
    midnight = datetime.combine(start.date(), datetime.min.time())
    tick = midnight + step * math.ceil((start - midnight) / step)
    ticks = []
    while tick <= end:
        ticks.append(tick)
        tick += step
    return ticks


def _month_ticks(start: datetime, end: datetime, months: int) -> list[datetime]:
    index = start.year * 12 + start.month - 1 + (0 if start.day == 1 and start.time() == datetime.min.time() else 1)
    index += -index % months
    ticks = []
    while (tick := datetime(index // 12, index % 12 + 1, 1)) <= end:
        ticks.append(tick)
        index += months
    return ticks


def _datetime(tick: datetime) -> alt.DateTime:
    # A DateTime without utc=True is read in the browser's local time, as the data's timestamps are.
    return alt.DateTime(year=tick.year, month=tick.month, date=tick.day, hours=tick.hour, minutes=tick.minute,
                        seconds=tick.second)


def _axis(ticks: list[datetime], fmt: str, **kwargs) -> alt.Axis:
    return alt.Axis(values=[_datetime(t) for t in ticks], format=fmt, labelOverlap=True, **kwargs)


def time_axis(start: datetime, end: datetime, ticks: int = 8, **kwargs) -> alt.Axis:
    """An axis over [start, end] whose ticks step by a whole time unit chosen for the span, labelled at
    that unit's precision: a 40-second session reads 09:16:00, 09:16:05 ... never "09:16" sixteen times."""
    span = max(end - start, timedelta(seconds=1))
    for step, fmt in _CLOCK_STEPS + _DAY_STEPS:
        if span / step <= ticks:
            return _axis(_clock_ticks(start, end, step), fmt, **kwargs)
    for months, fmt in _MONTH_STEPS:
        if span / timedelta(days=30.44 * months) <= ticks or months == _MONTH_STEPS[-1][0]:
            return _axis(_month_ticks(start, end, months), fmt, **kwargs)
    raise AssertionError("unreachable: the last month step always matches")


def day_scale_and_axis(first: date, last: date, ticks: int = 8, **kwargs) -> tuple[alt.Scale, alt.Axis]:
    """A daily x axis over the whole period (both ends included), ticks a whole number of days, weeks,
    months or years apart: one active day is drawn as a day, not as a bar across the chart, and no
    two ticks carry the same date."""
    start = datetime.combine(first, datetime.min.time())
    end = datetime.combine(last, datetime.min.time()) + timedelta(days=1)
    scale = alt.Scale(domain=[_datetime(start), _datetime(end)])
    span = end - start
    for step, fmt in _DAY_STEPS:
        if span / step <= ticks:
            return scale, _axis(_clock_ticks(start, end - timedelta(days=1), step), fmt, **kwargs)
    return scale, time_axis(start, end, ticks, **kwargs)


def day_period(frame: pl.DataFrame, column: str, period: tuple[date, date] | None) -> tuple[date, date]:
    """The filter period, or the days the frame covers when the period is open-ended."""
    if period:
        return period
    days = frame[column].cast(pl.Date)
    return days.min(), days.max()


def daily_by_outcome(daily: pl.DataFrame, measure: str = "cost_usd", period: tuple[date, date] | None = None) -> alt.Chart:
    """Stacked daily bars, one colour per outcome (kept at the bottom), over the whole filter period."""
    scale, axis = day_scale_and_axis(*day_period(daily, "day", period))
    title = "Spend (USD)" if measure == "cost_usd" else "Tokens"
    order = {o: i for i, o in enumerate(palette.OUTCOMES)}
    frame = daily.with_columns(pl.col("outcome").replace_strict(order, default=len(order)).alias("outcome_order"))
    return (
        alt.Chart(frame.to_pandas())
        .mark_bar()
        .encode(
            x=alt.X("yearmonthdate(day):T", title="Day (UTC)", scale=scale, axis=axis),
            y=alt.Y(f"sum({measure}):Q", title=title, axis=measure_axis(measure, largest(frame, measure, "day"))),
            color=palette.outcome_color(),
            order=alt.Order("outcome_order:Q", sort="ascending"),
            tooltip=[
                alt.Tooltip("yearmonthdate(day):T", title="Day"),
                alt.Tooltip("outcome:N", title="Outcome"),
                alt.Tooltip("sum(cost_usd):Q", title="Spend (USD)", format=MONEY_TOOLTIP),
                alt.Tooltip("sum(tokens):Q", title="Tokens", format=","),
            ],
        )
        .properties(height=320)
    )


def spend_bars(frame: pl.DataFrame, category: str, title: str, limit: int = 12) -> alt.Chart:
    """Horizontal bars of spend (USD) per category, biggest first, with tokens and requests in the tooltip."""
    top = frame.sort("cost_usd", descending=True, nulls_last=True).head(limit)
    tooltip = [alt.Tooltip(f"{category}:N", title=title), alt.Tooltip("cost_usd:Q", title="Spend (USD)", format=MONEY_TOOLTIP),
               alt.Tooltip("total_tokens:Q", title="Tokens", format=","), alt.Tooltip("requests:Q", title="Requests", format=",")]
    return (
        alt.Chart(top.to_pandas())
        .mark_bar(color=palette.ACCENT)
        .encode(
            x=alt.X("cost_usd:Q", title="Spend (USD)", axis=money_axis(largest(top, "cost_usd"))),
            y=alt.Y(f"{category}:N", title=None, sort="-x", axis=alt.Axis(labelLimit=320, labelOverlap=False)),
            tooltip=tooltip,
        )
        .properties(height=max(120, 30 * top.height))
    )


def outcome_split(outcomes: pl.DataFrame) -> alt.Chart:
    """One stacked bar: a session's spend by outcome (analytics.queries.session_outcomes rows)."""
    order = {o: i for i, o in enumerate(palette.OUTCOMES)}
    frame = outcomes.with_columns(pl.col("outcome").replace_strict(order, default=len(order)).alias("order"))
    return (
        alt.Chart(frame.to_pandas())
        .mark_bar(size=22)
        .encode(
            x=alt.X("cost_usd:Q", title="This session's spend by outcome (USD)", stack="zero",
                    axis=money_axis(float(outcomes["cost_usd"].sum() or 0))),
            color=alt.Color("outcome:N", title="Outcome", scale=palette.outcome_scale(), sort=list(palette.OUTCOMES),
                            legend=None),
            order=alt.Order("order:Q"),
            tooltip=[alt.Tooltip("outcome:N", title="Outcome"), alt.Tooltip("cost_usd:Q", title="Spend (USD)", format=MONEY_TOOLTIP),
                     alt.Tooltip("tokens:Q", title="Tokens", format=","), alt.Tooltip("requests:Q", title="Requests", format=",")],
        )
        .properties(height=40)
    )


def survival_curve(curve: pl.DataFrame) -> alt.Chart:
    """The share of landed agent lines still there by age (0, 7, 30 days), one line per team
    (analytics.queries.survival_curve rows); how many lines each point rests on is in the tooltip."""
    ages = sorted(curve["age_days"].unique().to_list())
    tooltip = [alt.Tooltip("team:N", title="Team"), alt.Tooltip("age_days:Q", title="Age (days)"),
               alt.Tooltip("alive_share:Q", title="Share alive", format=".1%"),
               alt.Tooltip("lines_alive:Q", title="Lines alive", format=","),
               alt.Tooltip("lines_due:Q", title="Lines of that age", format=",")]
    return (
        alt.Chart(curve.to_pandas())
        .mark_line(point=alt.OverlayMarkDef(size=70))
        .encode(
            x=alt.X("age_days:Q", title="Days since the commit landed",
                    scale=alt.Scale(domain=[0, max(ages or [30])]), axis=alt.Axis(values=ages, format="d")),
            # Survival sits near 100%: the axis starts where the lowest point does (its ticks to a tenth
            # of a percent, so none repeats), the counts behind each point are in the tooltip.
            y=alt.Y("alive_share:Q", title="Share of agent lines alive", scale=alt.Scale(zero=False, domainMax=1, nice=True),
                    axis=alt.Axis(format=".1%", tickMinStep=0.001)),
            color=alt.Color("team:N", title="Team"),
            tooltip=tooltip,
        )
        .properties(height=300)
    )
