"""The global filters: sidebar widgets bound to the URL, so a filtered view is a shareable link."""

from __future__ import annotations

import shlex
from datetime import date, timedelta

import streamlit as st

from analytics.filters import Filters
from dashboard import data

# Query-parameter names double as widget keys (Streamlit binds them: ?team=payments&user=alice).
FILTER_KEYS = ("period", "team", "user", "project", "source", "model")
DEFAULT_DAYS = 30
_FILTERS_STATE = "_agentledger_filters"
_EARLIEST = date(2000, 1, 1)


def default_period(choices: data.FilterChoices, today: date | None = None) -> tuple[date, date]:
    """The last DEFAULT_DAYS days that hold data (ending on the newest day, not today)."""
    end = choices.last_day or today or date.today()
    start = end - timedelta(days=DEFAULT_DAYS - 1)
    if choices.first_day and start < choices.first_day:
        start = choices.first_day
    return start, end


def _period(value) -> tuple[date | None, date | None]:
    # While a user is picking a range the widget returns one date: treat it as a single day.
    if isinstance(value, date):
        return value, value
    if not value:
        return None, None
    if len(value) == 1:
        return value[0], value[0]
    return value[0], value[1]


def _select(label: str, key: str, options: list[str], help_text: str) -> str | None:
    return st.selectbox(
        label, options, index=None, key=key, bind="query-params", placeholder="All", help=help_text,
    )


def render() -> Filters:
    """Draw the filter widgets in the sidebar and return the Filters they describe."""
    choices = data.filter_choices()
    start, end = default_period(choices)
    with st.sidebar:
        st.subheader("Filters")
        period = st.date_input(
            "Period (UTC days)", value=(start, end), min_value=_EARLIEST,
            max_value=max(date.today(), end) + timedelta(days=1), key="period", bind="query-params",
            help="Both ends included. The URL keeps every filter: copy it to share this view.",
        )
        team = _select("Team", "team", choices.teams, "Teams come from the org directory (`agentledger org load`).")
        # No format_func: a bound selectbox puts the formatted label in the URL, and a shared link
        # must carry the stable user name, not a display name that may change.
        user = _select("Person", "user", choices.users, "The name logs were ingested under.")
        project = _select("Project", "project", choices.projects, "The working directory the agent ran in.")
        source = _select("Source", "source", choices.sources, "Which agent's logs (e.g. claude).")
        model = _select("Model", "model", choices.models, "The model that served the request.")
    date_from, date_to = _period(period)
    filters = Filters(
        date_from=date_from, date_to=date_to, team=team, user=user, project=project, source=source, model=model,
    )
    st.session_state[_FILTERS_STATE] = filters
    return filters


def current() -> Filters:
    """The Filters the router computed for this run (pages call this instead of reading widgets)."""
    return st.session_state.get(_FILTERS_STATE) or Filters()


def previous_period(filters: Filters) -> Filters | None:
    """The same slice over the equally long period just before, for "change vs previous" figures."""
    if not (filters.date_from and filters.date_to):
        return None
    length = (filters.date_to - filters.date_from).days + 1
    return filters.model_copy(
        update={"date_from": filters.date_from - timedelta(days=length), "date_to": filters.date_from - timedelta(days=1)}
    )


def period(filters: Filters) -> tuple[date, date] | None:
    """(first day, last day) of the filter period, None when open-ended."""
    return (filters.date_from, filters.date_to) if filters.date_from and filters.date_to else None


def describe(filters: Filters) -> str:
    """One line saying what the page shows, e.g. '2026-01-01 – 2026-01-30 · team payments'."""
    parts = []
    if filters.date_from and filters.date_to:
        parts.append(f"{filters.date_from:%d %b %Y} – {filters.date_to:%d %b %Y}")
    for name in ("team", "user", "project", "source", "model"):
        value = getattr(filters, name)
        if value:
            parts.append(f"{'person' if name == 'user' else name} **{value}**")
    return " · ".join(parts) or "all data"


def cli_command(kind: str, filters: Filters) -> str:
    """The `agentledger report` command line that gives the same rows as this view."""
    flags = {"--from": filters.date_from, "--to": filters.date_to, "--team": filters.team, "--user": filters.user,
             "--project": filters.project, "--source": filters.source, "--model": filters.model}
    args = " ".join(f"{flag} {shlex.quote(str(value))}" for flag, value in flags.items() if value)
    return f"agentledger report {kind} {args} --format csv".replace("  ", " ")


GOTO_STATE = "_agentledger_goto"


def open_person_on_select(table_key: str, users: list[str]):
    """A dataframe on_select callback: set the Person filter to the selected row and go to Sessions.

    It must be a callback: a URL-bound widget's value may only change before the script reruns.
    """

    def callback() -> None:
        rows = st.session_state[table_key].selection.rows
        if rows:
            st.session_state["user"] = users[rows[0]]
            st.session_state[GOTO_STATE] = "views/sessions.py"

    return callback


def follow_pending_jump() -> None:
    """Switch page if a callback asked for it during this rerun."""
    target = st.session_state.pop(GOTO_STATE, None)
    if target:
        st.switch_page(target)
