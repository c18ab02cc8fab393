"""Small UI helpers the pages share: headers, empty states, number formats, analytics reads that
turn a busy ledger into a note on the page."""

from __future__ import annotations

from typing import Any, Callable

import polars as pl
import streamlit as st

from analytics import queries
from analytics.filters import Filters
from dashboard import data, sidebar
from store.db import DatabaseError


def header(title: str, filters: Filters, blurb: str | None = None) -> None:
    """Page title plus one line saying which slice of data it shows."""
    st.title(title)
    st.caption(sidebar.describe(filters) + (f" — {blurb}" if blurb else ""))


def _busy(error: DatabaseError) -> None:
    st.warning(f"The database is busy or unavailable: {error}. An ingest may be writing; reload in a moment.",
               icon=":material/hourglass_top:")
    st.stop()


def view(query: Callable[..., pl.DataFrame], filters: Filters, **extra: Any) -> pl.DataFrame:
    """An analytics.queries view's rows, or a note on the page (and st.stop) while the ledger is unavailable."""
    try:
        return data.view(query, filters, **extra)
    except DatabaseError as error:
        _busy(error)


def report(kind: str, filters: Filters) -> pl.DataFrame:
    """A CLI report's rows, or a note on the page (and st.stop) while the ledger is unavailable."""
    try:
        return data.report(kind, filters)
    except DatabaseError as error:
        _busy(error)


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


def count(value: int | None) -> str:
    """A count with thousands separators; '—' when unknown."""
    return "—" if value is None else f"{value:,}"


def pct(value: float | None) -> str:
    """A ratio in 0..1 as a percentage."""
    return "—" if value is None else f"{value:.0%}"


def pct_delta(change: float | None) -> str | None:
    """A relative change analytics computed (percent) as st.metric's delta ('+12%'); None when there is none."""
    return None if change is None else f"{change:+,.0f}%"


def points_delta(change: float | None) -> str | None:
    """A ratio's change analytics computed (percentage points) as st.metric's delta ('+3.1 pts')."""
    return None if change is None else f"{change:+.1f} pts"


def caveats(summary: pl.DataFrame | None) -> None:
    """Say where the period's figures are not exact: placeholder output counts, fallback-model prices,
    unpriced models (one line each, with what it means for the spend shown)."""
    row = summary.row(0, named=True) if summary is not None and summary.height else {}
    requests = row.get("requests") or 0
    estimated = row.get("estimated_output_requests") or 0
    if estimated:
        st.caption(f":material/info: {estimated:,} of {requests:,} requests ({usd(row.get('estimated_output_cost_usd'))} "
                   "of the spend) have a placeholder output count: the transcript line was written before the answer "
                   "finished, so their output tokens and spend are a lower bound.")
    fallback = row.get("fallback_model_requests") or 0
    if fallback:
        st.caption(f":material/info: {fallback:,} Codex requests ({usd(row.get('fallback_model_cost_usd'))}) name no "
                   "model in their rollout and are priced as the fallback model (gpt-5).")
    unpriced = row.get("unpriced_requests") or 0
    if unpriced:
        st.warning(f"{unpriced:,} requests used a model with no known price: their cost is unknown and left out of "
                   "the spend figures (never counted as $0). The models report lists them.", icon=":material/price_change:")


# What to run when no repository is scanned: a figure about git is then unknown, never 0%.
SCAN_COMMAND = "agentledger git scan PATH"


def not_scanned(what: str) -> None:
    """Say that `what` needs scanned repositories, and how to scan them."""
    st.info(f"No git repository is scanned yet, so {what} is not known. Run `{SCAN_COMMAND}` on the repositories "
            "the agents worked in (a working clone, a bare mirror, or a folder of them; `--map paths.csv` maps "
            "laptop paths the evidence cannot), then reload.", icon=":material/commit:")


def scanned(filters: Filters) -> bool | None:
    """Whether any repository is scanned (None: the slice is withheld or empty, nothing to say)."""
    repositories = first(view(queries.git_headline, filters), "repositories")
    return None if repositories is None else repositories > 0


def first(df: pl.DataFrame | None, column: str) -> Any:
    """The first row's value of a column, None when there is no row (or no frame to compare with)."""
    if df is None or df.height == 0:
        return None
    return df[column][0]
