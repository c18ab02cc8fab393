"""The global filters: sidebar widgets bound to the URL, so a filtered view is a shareable link.

The widgets are derived from analytics.filters (one select per dimension, labelled and explained as
the Filters model declares). A link is read defensively before any widget sees it: a reversed or
impossible period is put in order, a name in another case is spelled as the ledger spells it, and a
name the ledger does not hold stops every page with "no such ..." instead of showing the whole org.
"""

from __future__ import annotations

import shlex
from datetime import date

import streamlit as st

from analytics import periods, queries
from analytics.filters import FilterChoices, Filters, UnknownValue, cli_arguments, dimensions, resolve
from dashboard import data
from store.config import LAKE_PREFIX, LakeTarget, is_lake_spec
from store.db import DatabaseError

# Query-parameter names double as widget keys (Streamlit binds them: ?team=payments&user=alice).
PERIOD_KEY = "period"
PRESET_KEY = "period_preset"
FILTER_KEYS = (PERIOD_KEY, *(d.name for d in dimensions()))
_FILTERS_STATE = "_agentledger_filters"
_UNKNOWN_STATE = "_agentledger_unknown_filter"
# Wide bounds: a shared link with any real period must not be rejected as out of range.
_EARLIEST = date(2000, 1, 1)
_LATEST = date(2100, 12, 31)


def default_period(choices: FilterChoices, today: date | None = None) -> tuple[date, date]:
    """The last days that hold data (analytics.periods.default_period), ending on the newest plausible day."""
    return periods.default_period(choices.first_day, choices.last_day, today)


def named_periods(choices: FilterChoices) -> dict[str, periods.Period]:
    """The one-click periods (this month, last month, this quarter, the default, all data) by name."""
    return {p.name: p for p in periods.calendar_periods(periods.utc_today(), choices.first_day, choices.last_day)}


def _pick_period(presets: dict[str, periods.Period]) -> None:
    # A callback: the URL-bound period may only change before the script reruns.
    chosen = presets.get(st.session_state.get(PRESET_KEY))
    if chosen:
        st.session_state[PERIOD_KEY] = (chosen.first, chosen.last)
        _remember(PERIOD_KEY)


def _preset_of(span: tuple[date | None, date | None], presets: dict[str, periods.Period]) -> str | None:
    return next((p.name for p in presets.values() if (p.first, p.last) == span), None)


def _period(value) -> tuple[date | None, date | None]:
    # While a user is picking a range the widget returns one date: treat it as a single day.
    if isinstance(value, date):
        return value, value
    if not value:
        return None, None
    if len(value) == 1:
        return value[0], value[0]
    return min(value[0], value[1]), max(value[0], value[1])


def _clean_period_link() -> None:
    """A linked period beyond the picker's bounds (a far-future day) is clamped into them; one that
    is not dates at all is left to the picker, which drops it. A reversed period is read in order."""
    raw = st.query_params.get_all(PERIOD_KEY)
    try:
        days = [date.fromisoformat(d) for d in raw[:2]]
    except ValueError:
        return
    if days and any(d < _EARLIEST or d > _LATEST for d in days):
        clamped = sorted(min(max(d, _EARLIEST), _LATEST) for d in days)
        st.session_state[PERIOD_KEY] = (clamped[0], clamped[-1])


def _clean_name_links(choices: FilterChoices) -> None:
    """Spell each named filter in the link as the ledger does; remember one the ledger does not hold."""
    st.session_state.pop(_UNKNOWN_STATE, None)
    asked = {d.name: st.query_params.get(d.name) for d in dimensions() if st.query_params.get(d.name)}
    try:
        resolved = resolve(Filters(**asked), choices)
    except UnknownValue as error:
        st.session_state[_UNKNOWN_STATE] = str(error)
        return
    for name, value in asked.items():
        if getattr(resolved, name) != value:
            # The bound widget takes the ledger's spelling (a link may not be rewritten directly).
            st.session_state[name] = getattr(resolved, name)


def unknown_filter() -> str | None:
    """'no such team: ...' when the link names something the ledger does not hold (the page must stop)."""
    return st.session_state.get(_UNKNOWN_STATE)


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


def render() -> Filters:
    """Draw the filter widgets in the sidebar and return the Filters they describe."""
    choices = data.filter_choices()
    start, end = default_period(choices)
    presets = named_periods(choices)
    _clean_period_link()
    _clean_name_links(choices)
    _restore_dropped({PERIOD_KEY: (start, end)})
    with st.sidebar:
        st.subheader("Filters")
        period = st.date_input(
            "Period (UTC days)", value=(start, end), min_value=_EARLIEST,
            max_value=_LATEST, key=PERIOD_KEY, bind="query-params", on_change=_remember, args=(PERIOD_KEY,),
            help="Both ends included. The URL keeps every filter: copy it to share this view.",
        )
        # The named period the dates match is shown picked; typing other dates unpicks it.
        st.session_state[PRESET_KEY] = _preset_of(_period(period), presets)
        st.pills("Quick periods", list(presets), format_func=lambda name: presets[name].label, key=PRESET_KEY,
                 on_change=_pick_period, args=(presets,), label_visibility="collapsed")
        holds = st.empty()
        # No format_func: a bound selectbox puts the formatted label in the URL, and a shared link
        # must carry the stable name, not a display name that may change.
        chosen = {
            d.name: st.selectbox(
                d.label, choices.values.get(d.name, []), index=None, key=d.name, bind="query-params",
                placeholder="All", help=d.help[:1].upper() + d.help[1:] + ".", on_change=_remember, args=(d.name,),
            )
            for d in dimensions()
        }
    date_from, date_to = _period(period)
    filters = Filters(date_from=date_from, date_to=date_to, **chosen)
    st.session_state[_FILTERS_STATE] = filters
    st.session_state[_MEMORY] = {key: st.session_state.get(key) for key in FILTER_KEYS}
    with holds.container():
        _say_what_the_period_holds(filters, choices)
    return filters


def _say_what_the_period_holds(filters: Filters, choices: FilterChoices) -> None:
    """One line under the period: its sessions and spend against everything the slice holds, and
    where the data begins and ends (a period can hold little while most data lies before it)."""
    try:
        now = data.view(queries.totals, filters).row(0, named=True)
        everything = data.view(queries.totals, filters.model_copy(update={"date_from": None, "date_to": None})).row(0, named=True)
    except DatabaseError:
        return  # the page itself says the ledger is busy
    if not (choices.first_day and choices.last_day):
        return
    span = f"{choices.first_day:%d %b %Y} – {choices.last_day:%d %b %Y}"
    if now["sessions"] == everything["sessions"]:
        st.caption(f"Holds all {everything['sessions']:,} sessions ({_usd(everything['cost_usd'])}); data runs {span}.")
    else:
        st.caption(f"Holds {now['sessions']:,} of {everything['sessions']:,} sessions ({_usd(now['cost_usd'])} of "
                   f"{_usd(everything['cost_usd'])}); data runs {span}. **All data** shows everything.")


def _usd(value: float | None) -> str:
    return "no priced spend" if value is None else f"${value:,.2f}"


def current() -> Filters:
    """The Filters the router computed for this run (pages call this instead of reading widgets)."""
    return st.session_state.get(_FILTERS_STATE) or Filters()


def period(filters: Filters) -> tuple[date, date] | None:
    """(first day, last day) of the filter period, None when open-ended."""
    return (filters.date_from, filters.date_to) if filters.date_from and filters.date_to else None


def describe(filters: Filters) -> str:
    """One line saying what the page shows, e.g. 'This month (01 Nov – 29 Nov 2026) · team **payments**'."""
    parts = []
    if filters.date_from and filters.date_to:
        days = f"{filters.date_from:%d %b %Y} – {filters.date_to:%d %b %Y}"
        presets = named_periods(data.filter_choices())
        name = _preset_of((filters.date_from, filters.date_to), presets)
        parts.append(f"{presets[name].label} ({days})" if name else days)
    for d in dimensions():
        value = getattr(filters, d.name)
        if value:
            parts.append(f"{d.label.lower() if d.name == 'user' else d.name} **{value}**")
    return " · ".join(parts) or "all data"


def cli_command(kind: str, filters: Filters, db: str | None = None, viewer: str | None = None) -> str:
    """The `agentledger report` command line that gives the same rows as this view (on `db`, a file or a
    lake, when given; as `viewer` sees them, when the dashboard has a signed-in viewer)."""
    where = (["--store", LakeTarget(db[len(LAKE_PREFIX):]).display()] if is_lake_spec(db) else ["--db", db]) if db else []
    args = cli_arguments(filters) + where + (["--as", viewer] if viewer else []) + ["--format", "csv"]
    return shlex.join(["agentledger", "report", kind, *args])


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
