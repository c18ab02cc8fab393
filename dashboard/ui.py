"""Small UI helpers the pages share: headers, empty states, number formats, guarded analytics calls."""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st

from analytics.filters import Filters
from dashboard import data, sidebar
from store.db import DatabaseError


def header(title: str, filters: Filters, blurb: str | None = None) -> None:
    """Page title plus one line saying which slice of data it shows."""
    st.title(title)
    st.caption(sidebar.describe(filters) + (f" — {blurb}" if blurb else ""))


def query(target: str, filters: Filters, **kwargs: Any) -> pl.DataFrame:
    """An analytics result, or a clear note on the page (and st.stop) when it cannot be had."""
    try:
        return data.analytics(target, filters, **kwargs)
    except data.AnalyticsMissing:
        st.warning(
            f"This view needs `{target}` from the analytics layer, which this build does not have yet.",
            icon=":material/construction:",
        )
        st.stop()
    except DatabaseError as error:
        st.warning(f"The database is busy or unavailable: {error}. An ingest may be writing; reload in a moment.",
                   icon=":material/hourglass_top:")
        st.stop()


def try_query(target: str, filters: Filters, **kwargs: Any) -> pl.DataFrame | None:
    """Like query() but returns None instead of stopping the page (for optional sections)."""
    try:
        return data.analytics(target, filters, **kwargs)
    except (data.AnalyticsMissing, DatabaseError):
        return None


def empty_state(df: pl.DataFrame | None, what: str) -> None:
    """Stop the page with a friendly note when a query returned nothing for these filters."""
    if df is None or df.height == 0:
        st.info(f"No {what} for these filters. Widen the period or clear a filter in the sidebar.",
                icon=":material/filter_alt_off:")
        st.stop()


def usd(value: float | None) -> str:
    """Dollars for a KPI: '$1,234' above $100, cents below; '—' when unpriced."""
    if value is None:
        return "—"
    return f"${value:,.0f}" if abs(value) >= 100 else f"${value:,.2f}"


def tokens(value: float | int | None, unit: bool = False) -> str:
    """Token counts in k/M/B ('2.9M'); unit=True appends ' tokens' where no label says it."""
    if value is None:
        return "—"
    suffix_unit = " tokens" if unit else ""
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:,.1f}{suffix}{suffix_unit}"
    return f"{value:,.0f}{suffix_unit}"


def pct(value: float | None) -> str:
    """A ratio in 0..1 as a percentage."""
    return "—" if value is None else f"{value:.0%}"


def change(current: float | None, previous: float | None) -> str | None:
    """Relative change for st.metric's delta ('+12%'), None when there is nothing to compare."""
    if current is None or previous in (None, 0):
        return None
    return f"{(current - previous) / abs(previous):+.0%}"


def point_change(current: float | None, previous: float | None) -> str | None:
    """Change of a ratio in percentage points ('+3 pts')."""
    if current is None or previous is None:
        return None
    return f"{(current - previous) * 100:+.0f} pts"


def first(df: pl.DataFrame | None, column: str) -> Any:
    """The first row's value of a column, None when the frame or column is absent."""
    if df is None or df.height == 0 or column not in df.columns:
        return None
    return df[column][0]


def report(kind: str, filters: Filters) -> pl.DataFrame:
    """A CLI report's rows, or a clear note on the page (and st.stop) when it cannot be had."""
    try:
        return data.report(kind, filters)
    except data.AnalyticsMissing:
        st.warning(f"This view needs the `{kind}` report from the analytics layer, which this build does not have yet.",
                   icon=":material/construction:")
        st.stop()
    except DatabaseError as error:
        st.warning(f"The database is busy or unavailable: {error}. An ingest may be writing; reload in a moment.",
                   icon=":material/hourglass_top:")
        st.stop()


def try_query_report(kind: str, filters: Filters) -> pl.DataFrame | None:
    """A CLI report's rows, or None when it cannot be had (for optional sections)."""
    try:
        return data.report(kind, filters)
    except (data.AnalyticsMissing, DatabaseError):
        return None
