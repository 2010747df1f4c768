"""When things are due that are not a proposal's own deadline: the weekly digest's moments
and a round's or vote's reminder. Plain functions of time, without I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEK = timedelta(days=7)


def _at(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The local wall-clock moment `at` on `day`, as UTC (across daylight-saving changes)."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def last_slot(now: datetime, weekday: str, at: time, tz: ZoneInfo) -> datetime:
    """The latest weekly moment (weekday, local time) at or before `now`."""
    local = now.astimezone(tz)
    day = local.date() - timedelta(days=(local.weekday() - WEEKDAYS.index(weekday)) % 7)
    slot = _at(day, at, tz)
    if slot > now:
        slot = _at(day - WEEK, at, tz)
    return slot


def next_slot(now: datetime, weekday: str, at: time, tz: ZoneInfo) -> datetime:
    """The first weekly moment strictly after `now`."""
    previous = last_slot(now, weekday, at, tz)
    return _at(previous.astimezone(tz).date() + WEEK, at, tz)


def reminder_at(opened_at: datetime, deadline: datetime, before: timedelta) -> datetime | None:
    """When to remind: `before` the deadline, but never in the first half of a short round
    or vote (its card or poll has only just been posted); None for no reminder at all."""
    if before <= timedelta(0) or deadline <= opened_at:
        return None
    return max(deadline - before, opened_at + (deadline - opened_at) / 2)
