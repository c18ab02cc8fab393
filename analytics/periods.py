"""Named periods a manager picks instead of typing dates, and the period a figure is compared with.

All days are UTC calendar days, both ends included (as in analytics.filters.Filters). Calendar
periods follow today's date; the default follows the data, so a ledger whose newest day is weeks
old still opens on something.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from analytics.filters import Filters

# The default period: this many days, ending on the newest plausible day that holds data.
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class Period:
    """A named span of days (both ends included)."""

    name: str     # stable id (URL-safe)
    label: str    # what a button says
    first: date
    last: date


def utc_today() -> date:
    """Today's date in UTC (the ledger's days are UTC days)."""
    return datetime.now(timezone.utc).date()


def default_period(first_day: date | None, last_day: date | None, today: date | None = None) -> tuple[date, date]:
    """The last DEFAULT_DAYS days that hold data: ending on the newest day with data (not today),
    never starting before the first day with data."""
    end = last_day or today or utc_today()
    start = end - timedelta(days=DEFAULT_DAYS - 1)
    if first_day and first_day <= end and start < first_day:
        start = first_day
    return start, end


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def calendar_periods(today: date, first_day: date | None = None, last_day: date | None = None) -> list[Period]:
    """The one-click periods, in the order a sidebar offers them: this month, last month, this
    quarter (each up to today), the default and, when the ledger holds data, all of it."""
    this_month = _month_start(today)
    last_month_end = this_month - timedelta(days=1)
    periods = [
        Period("this-month", "This month", this_month, today),
        Period("last-month", "Last month", _month_start(last_month_end), last_month_end),
        Period("this-quarter", "This quarter", _quarter_start(today), today),
    ]
    start, end = default_period(first_day, last_day, today)
    periods.append(Period("recent", f"Last {DEFAULT_DAYS} days with data", start, end))
    if first_day and last_day and first_day <= last_day:
        periods.append(Period("all", "All data", first_day, last_day))
    return periods


def previous_period(filters: Filters) -> Filters | None:
    """The same slice over the equally long period just before (None when the period is open-ended)."""
    if not (filters.date_from and filters.date_to):
        return None
    length = (filters.date_to - filters.date_from).days + 1
    return filters.model_copy(
        update={"date_from": filters.date_from - timedelta(days=length), "date_to": filters.date_from - timedelta(days=1)}
    )
