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
# Wide bounds: a shared link with any real period must not be rejected as out of range.
_EARLIEST = date(2000, 1, 1)
_LATEST = date(2100, 12, 31)


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


# Streamlit's st.switch_page (used when a table row opens a person or a session) rebuilds the URL
# and bound widgets whose parameter vanished fall back to their defaults. The filters are therefore
# also remembered here: updated at the end of every run and by each widget's on_change (so a filter
# the user clears stays cleared), and put back before the widgets are drawn if the URL lost them.
_MEMORY = "_agentledger_filter_memory"


def _remember(key: str) -> None:
    st.session_state.setdefault(_MEMORY, {})[key] = st.session_state.get(key)


def _restore_dropped(defaults: dict[str, object]) -> None:
    memory = st.session_state.get(_MEMORY, {})
    for key, value in memory.items():
        if key not in st.query_params and value is not None and value != defaults.get(key):
            st.session_state[key] = value


def _select(label: str, key: str, options: list[str], help_text: str) -> str | None:
    return st.selectbox(
        label, options, index=None, key=key, bind="query-params", placeholder="All", help=help_text,
        on_change=_remember, args=(key,),
    )


def render() -> Filters:
    """Draw the filter widgets in the sidebar and return the Filters they describe."""
    choices = data.filter_choices()
    start, end = default_period(choices)
    _restore_dropped({"period": (start, end)})
    with st.sidebar:
        st.subheader("Filters")
        period = st.date_input(
            "Period (UTC days)", value=(start, end), min_value=_EARLIEST,
            max_value=_LATEST, key="period", bind="query-params", on_change=_remember, args=("period",),
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
    st.session_state[_MEMORY] = {key: st.session_state.get(key) for key in FILTER_KEYS}
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
            _remember("user")
            st.session_state[GOTO_STATE] = "views/sessions.py"

    return callback


def follow_pending_jump() -> None:
    """Switch page if a callback asked for it during this rerun."""
    target = st.session_state.pop(GOTO_STATE, None)
    if target:
        # query_params={} and not None: with None Streamlit clears the URL, which it refuses
        # while filters are bound to it; the bound filters come back with their widgets.
        st.switch_page(target, query_params={})
