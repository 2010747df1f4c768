"""The digest's weekly moments and the reminder's moment, as plain functions of time."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.charter.schedule import last_slot, next_slot, reminder_at

BERLIN = ZoneInfo("Europe/Berlin")
NINE = time(9, 0)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # summer time (UTC+2): Monday 09:00 local is 07:00 UTC
        (utc(2026, 10, 19, 7, 0), utc(2026, 10, 19, 7, 0)),
        (utc(2026, 10, 19, 6, 59, 59), utc(2026, 10, 12, 7, 0)),
        (utc(2026, 10, 25, 12, 0), utc(2026, 10, 19, 7, 0)),
        # after the change on 25 October (UTC+1): 08:00 UTC
        (utc(2026, 10, 26, 7, 30), utc(2026, 10, 19, 7, 0)),
        (utc(2026, 10, 26, 8, 0), utc(2026, 10, 26, 8, 0)),
        # and back to summer time on 28 March 2027
        (utc(2027, 3, 29, 7, 0), utc(2027, 3, 29, 7, 0)),
        (utc(2027, 3, 29, 6, 59), utc(2027, 3, 22, 8, 0)),
    ],
)
def test_the_last_slot_is_at_local_nine_across_daylight_saving(
    now: datetime, expected: datetime
) -> None:
    assert last_slot(now, "monday", NINE, BERLIN) == expected


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (utc(2026, 10, 19, 7, 0), utc(2026, 10, 26, 8, 0)),  # a week later, an hour later in UTC
        (utc(2026, 10, 19, 6, 0), utc(2026, 10, 19, 7, 0)),
        (utc(2027, 3, 22, 8, 0), utc(2027, 3, 29, 7, 0)),
    ],
)
def test_the_next_slot_is_strictly_later(now: datetime, expected: datetime) -> None:
    assert next_slot(now, "monday", NINE, BERLIN) == expected


def test_another_weekday_and_time() -> None:
    friday = last_slot(utc(2026, 11, 24, 12, 0), "friday", time(17, 30), BERLIN)
    assert friday == utc(2026, 11, 20, 16, 30)


def test_a_local_time_skipped_by_the_clock_change_still_gives_one_slot() -> None:
    # 02:30 does not exist on 28 March 2027 in Berlin; the slot is still that Sunday.
    slot = next_slot(utc(2027, 3, 27, 12, 0), "sunday", time(2, 30), BERLIN)
    assert slot.astimezone(BERLIN).date().isoformat() == "2027-03-28"
    assert next_slot(slot, "sunday", time(2, 30), BERLIN) > slot


OPEN = utc(2026, 11, 2, 8, 0)


@pytest.mark.parametrize(
    ("length", "before", "expected"),
    [
        (timedelta(days=7), timedelta(hours=24), timedelta(days=6)),
        # a short round: never in its first half
        (timedelta(hours=4), timedelta(hours=24), timedelta(hours=2)),
        (timedelta(hours=48), timedelta(hours=24), timedelta(hours=24)),
    ],
)
def test_the_reminder_moment(length: timedelta, before: timedelta, expected: timedelta) -> None:
    assert reminder_at(OPEN, OPEN + length, before) == OPEN + expected


def test_no_reminder_when_switched_off() -> None:
    assert reminder_at(OPEN, OPEN + timedelta(days=7), timedelta(0)) is None
