"""Table column labels and formats for every page, derived from the metric registry
(analytics.metrics): a figure reads the same everywhere (tokens compact, dollars as dollars, ratios
as bars, changes signed) and its definition shows on hover. Pages override a column only where it
means more there. Tables show a missing value as PLACEHOLDER, never the word "None"."""

from __future__ import annotations

import streamlit as st

from analytics.metrics import METRICS, Metric

# What an empty cell shows (st.dataframe's placeholder): a dash, not "None".
PLACEHOLDER = "—"


def ratio(label: str, help_text: str | None = None):
    """A 0-1 ratio drawn as a bar with a percentage."""
    return st.column_config.ProgressColumn(label, min_value=0.0, max_value=1.0, format="percent", help=help_text)


def tokens(label: str, help_text: str | None = None):
    """A token count, compact (1.2M)."""
    return st.column_config.NumberColumn(label, format="compact", help=help_text)


def count(label: str, help_text: str | None = None):
    """A plain count with thousands separators."""
    return st.column_config.NumberColumn(label, format="localized", help=help_text)


def utc(label: str, help_text: str | None = None):
    """A UTC timestamp to the minute."""
    return st.column_config.DatetimeColumn(label, format="YYYY-MM-DD HH:mm", help=help_text)


def _column(metric: Metric):
    label, help_text = metric.label, definition(metric.name)
    if metric.format == "ratio":
        return ratio(label, help_text)
    if metric.format in ("tokens", "bytes"):
        return tokens(label, help_text)
    if metric.format == "count":
        return count(label, help_text)
    if metric.format == "usd":
        return st.column_config.NumberColumn(label, format="dollar", help=help_text)
    if metric.format == "time":
        return utc(label, help_text)
    if metric.format == "day":
        return st.column_config.DateColumn(label, format="YYYY-MM-DD", help=help_text)
    if metric.format == "number":
        return st.column_config.NumberColumn(label, format="%.2f", help=help_text)
    if metric.format == "change":
        return st.column_config.NumberColumn(label, format="%+.0f%%", help=help_text)
    if metric.format == "points":
        return st.column_config.NumberColumn(label, format="%+.1f pts", help=help_text)
    if metric.format == "bool":
        return st.column_config.CheckboxColumn(label, help=help_text)
    return st.column_config.TextColumn(label, help=help_text, width="small" if metric.name == "session_id" else None)


def label(name: str) -> str:
    """The registered label of a column (KPI cards and chart titles use it too)."""
    return METRICS[name].label


def definition(name: str) -> str:
    """The registered definition of a column, as a sentence (for help tooltips)."""
    text = METRICS[name].definition
    return text[:1].upper() + text[1:] + "."


COMMON = {name: _column(metric) for name, metric in METRICS.items()}


def short(name: str, short_label: str, base: dict | None = None, width: str | int | None = None) -> dict:
    """The column of `name` (the registry's, or a page's `base`) under a shorter label, for a table that must
    fit a laptop screen; its hover still gives the registry's full label and definition."""
    return {**(base or COMMON[name]), "label": short_label, "width": width,
            "help": f"{label(name)}: {definition(name)}"}


def config(**overrides) -> dict:
    """The registry's column configs plus a page's own (which win)."""
    return {**COMMON, **overrides}


# Says where a table's folded columns are, in the caption below it.
FOLDED_NOTE = "More columns: the table's Show/hide columns button (top right, on hover)."


def folded(base: dict, names) -> dict:
    """`base` with the columns `names` hidden: a table that must fit a laptop screen keeps them in its data,
    and the table toolbar's "Show/hide columns" menu brings any of them back (Streamlit's hidden columns)."""
    def hide(value) -> dict:
        value = {"label": value} if isinstance(value, str) else dict(value or {})
        return {**value, "hidden": True}
    return {**base, **{name: hide(base.get(name)) for name in names}}


def fit(names, shown, base: dict) -> dict:
    """st.dataframe's column_order and column_config for a table that fits a laptop screen: the columns
    `shown` (those the data has) first, in that order, and every other column of `names` folded after them."""
    first = [name for name in shown if name in names]
    rest = [name for name in names if name not in first]
    return {"column_order": first + rest, "column_config": folded(base, rest)}


# What the Reports page shows of each report at first, in 904 px (a 1366 px screen beside the sidebar): what a
# row is about, money first, then a share, the evidence, and tokens last. Every other column of the report is
# in the table too, hidden: the toolbar's Show/hide columns brings it back, and the CSV holds them all.
REPORT_SHOWN = {
    "daily": ("day", "sessions", "cost_usd", "useful_cost_ratio", "looping_cost_usd", "discarded_cost_usd",
              "idle_cost_usd", "total_tokens"),
    "users": ("user", "team", "sessions", "cost_usd", "useful_cost_ratio", "waste_cost_usd", "flagged_sessions",
              "total_tokens"),
    "teams": ("team", "users", "sessions", "cost_usd", "useful_cost_ratio", "waste_cost_usd", "flagged_sessions",
              "total_tokens"),
    "projects": ("project", "users", "sessions", "cost_usd", "useful_output_ratio", "waste_tokens", "total_tokens"),
    "models": ("model", "requests", "cost_usd", "source_cost_usd", "unpriced_requests", "total_tokens",
               "price_version"),
    "plugins": ("level", "component", "kind", "plugin", "calls", "errors", "cost_usd", "useful_cost_ratio"),
    # As on the Sessions page: the flags read in full where the flagged spend (mostly the waste again) would cut them.
    "sessions": ("started_at", "user", "team", "cost_usd", "useful_cost_ratio", "waste_cost_usd", "flags"),
    "flags": ("flag", "cost_usd", "evidence", "user", "started_at"),
    "coverage": ("day", "user", "status", "reported_cost_usd", "explained_cost_usd", "missing_cost_usd",
                 "cost_coverage"),
    "outcomes": ("level", "name", "sessions", "cost_usd", "cost_per_landed_line", "cost_per_alive_30d_line",
                 "unlinked_cost_usd"),
    "commits": ("repository", "sha", "committed_at", "subject", "agent", "landed", "agent_lines", "alive_30d"),
}
