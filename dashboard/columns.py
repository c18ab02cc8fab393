"""Table column labels and formats shared by every page, so a figure reads the same everywhere
(tokens compact, dollars as dollars, ratios as bars). Pages override a label where it differs."""

from __future__ import annotations

import streamlit as st


def ratio(label: str, help_text: str | None = None):
    """A 0-1 ratio drawn as a bar with a percentage."""
    return st.column_config.ProgressColumn(label, min_value=0.0, max_value=1.0, format="percent", help=help_text)


def tokens(label: str, help_text: str | None = None):
    """A token count, compact (1.2M)."""
    return st.column_config.NumberColumn(label, format="compact", help=help_text)


def count(label: str, help_text: str | None = None):
    """A plain count with thousands separators."""
    return st.column_config.NumberColumn(label, format="localized", help=help_text)


def utc(label: str):
    """A UTC timestamp to the minute."""
    return st.column_config.DatetimeColumn(label, format="YYYY-MM-DD HH:mm")


COMMON = {
    "session_id": st.column_config.TextColumn("Session", width="small"),
    "user": st.column_config.TextColumn("Person"),
    "team": st.column_config.TextColumn("Team"),
    "project": st.column_config.TextColumn("Project"),
    "source": st.column_config.TextColumn("Source"),
    "sessions": count("Sessions"),
    "requests": count("Requests"),
    "calls": count("Calls"),
    "errors": count("Errors"),
    "cost_usd": st.column_config.NumberColumn("Spend (USD)", format="dollar"),
    "total_tokens": tokens("Tokens"),
    "tokens": tokens("Tokens"),
    "kept_tokens": tokens("Kept tokens"),
    "looping_tokens": tokens("Looping tokens"),
    "discarded_tokens": tokens("Discarded tokens"),
    "idle_tokens": tokens("Idle tokens"),
    "waste_tokens": tokens("Waste tokens", "Looping + discarded + idle tokens."),
    "useful_output_ratio": ratio("Useful-output ratio", "Kept tokens / all tokens."),
    "started_at": utc("Started (UTC)"),
    "ended_at": utc("Ended (UTC)"),
}


def config(**overrides) -> dict:
    """The shared column configs plus a page's own (which win)."""
    return {**COMMON, **overrides}
