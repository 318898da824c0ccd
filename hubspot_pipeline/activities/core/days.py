"""Activity batches are per UTC day: the window of a day, the days a newly connected workspace starts with,
the day to close after midnight, and the days an activity request covers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

FIRST_CONNECT_DAYS = 90  # a newly connected workspace's email activity is logged from this many days back
FIRST_DAY = date(2024, 1, 1)  # the first day partition (events before it: `hubspot-pipeline activities log`)


def day_window(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a UTC day."""
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def first_connect_since(now: datetime) -> datetime:
    """When a newly connected workspace's events start being logged: the start of the UTC day
    FIRST_CONNECT_DAYS - 1 days ago (today included, so FIRST_CONNECT_DAYS days in all)."""
    return day_window(utc_day(now) - timedelta(days=FIRST_CONNECT_DAYS - 1))[0]


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def day_to_close(now: datetime, last_closed: date | None) -> date | None:
    """Yesterday, once, after midnight UTC: a last run of the day that ended logs what arrived late."""
    yesterday = utc_day(now) - timedelta(days=1)
    return yesterday if last_closed is None or last_closed < yesterday else None


def requested_days(
    date_from: date | None, date_to: date | None, pending: Iterable[date], today: date
) -> list[date]:
    """The days an activity request covers: its range, or every day with pending events; never before
    FIRST_DAY nor after today."""
    if date_from is not None:
        days = days_between(max(date_from, FIRST_DAY), min(date_to or today, today))
    else:
        days = sorted(set(pending))
    return [day for day in days if FIRST_DAY <= day <= today]
