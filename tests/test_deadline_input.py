"""Reading the deadlines people type (SPEC §3.1), in the network's timezone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.charter.deadline_input import (
    DeadlineError,
    DeadlineReason,
    looks_like_deadline,
    parse_deadline,
    split_deadline,
)

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)  # 12:00 summer time in Berlin
ONE_HOUR = timedelta(hours=1)


def parse(text: str, now: datetime = NOW, min_deadline: timedelta = ONE_HOUR) -> datetime:
    return parse_deadline(text, now, BERLIN, min_deadline)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "after"),
    [
        ("90s", timedelta(seconds=90)),
        ("30m", timedelta(minutes=30)),
        ("12h", timedelta(hours=12)),
        ("3d", timedelta(days=3)),
        ("1w", timedelta(weeks=1)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("3D", timedelta(days=3)),
        ("  3d  ", timedelta(days=3)),
    ],
)
def test_a_duration_counts_from_now(text, after):
    assert parse(text, min_deadline=timedelta(seconds=60)) == NOW + after


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2026-12-01", utc(2026, 12, 1, 22, 59)),  # 23:59 winter time
        ("2026-07-01", utc(2026, 7, 1, 21, 59)),  # 23:59 summer time
        ("2026-5-4", utc(2026, 5, 4, 21, 59)),  # today, 23:59
        ("2026-12-01T18:00", utc(2026, 12, 1, 17, 0)),
        ("2026-12-01 18:00", utc(2026, 12, 1, 17, 0)),
        ("2026-12-01t18:00", utc(2026, 12, 1, 17, 0)),
        ("2026-12-01T18:00:30", utc(2026, 12, 1, 17, 0, 30)),
        ("2026-12-01T8:05", utc(2026, 12, 1, 7, 5)),
        ("2026-07-01T18:00", utc(2026, 7, 1, 16, 0)),
    ],
)
def test_a_date_means_a_local_moment(text, moment):
    result = parse(text)
    assert result == moment
    assert result.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "bald",
        "3 Tage",
        "3x",
        "d3",
        "-3d",
        "+3d",
        "3.5d",
        "2026-13-40",
        "2026-02-30",
        "2026-12-01T25:00",
        "2026-12-01T18:60",
        "2026-12-01T18",
        "01.12.2026",
        "12/01/2026",
        "2026-12-01T18:00+01:00",
    ],
)
def test_text_that_is_no_deadline_is_unparseable(text):
    with pytest.raises(DeadlineError) as caught:
        parse(text)
    assert caught.value.reason is DeadlineReason.UNPARSEABLE
    assert caught.value.text == text


@pytest.mark.parametrize("text", ["0m", "0s", "30m", "59m59s", "2026-05-04T12:30"])
def test_a_deadline_sooner_than_min_deadline_is_too_soon(text):
    with pytest.raises(DeadlineError) as caught:
        parse(text)
    assert caught.value.reason is DeadlineReason.TOO_SOON
    assert caught.value.min_deadline == ONE_HOUR


@pytest.mark.parametrize("text", ["1h", "60m", "2026-05-04T13:00"])
def test_exactly_min_deadline_is_enough(text):
    assert parse(text) == NOW + ONE_HOUR


def test_tests_may_lower_min_deadline():
    assert parse("90s", min_deadline=timedelta(seconds=30)) == NOW + timedelta(seconds=90)


@pytest.mark.parametrize(
    "text", ["2026-01-01", "2026-05-03", "2026-05-04T11:59", "2025-12-24 18:00"]
)
def test_a_moment_in_the_past_is_refused(text):
    with pytest.raises(DeadlineError) as caught:
        parse(text)
    assert caught.value.reason is DeadlineReason.IN_THE_PAST


@pytest.mark.parametrize(
    "text", ["2027-06-01", "400d", "60w", "99999999999999999999d", "9999-12-31T23:59"]
)
def test_more_than_a_year_ahead_is_too_far(text):
    with pytest.raises(DeadlineError) as caught:
        parse(text)
    assert caught.value.reason is DeadlineReason.TOO_FAR
    assert caught.value.max_ahead == timedelta(days=366)


def test_the_same_date_next_year_is_still_allowed():
    assert parse("2027-05-04") == utc(2027, 5, 4, 21, 59)


def test_now_must_be_aware():
    with pytest.raises(ValueError, match="aware"):
        parse_deadline("3d", datetime(2026, 5, 4, 12, 0), BERLIN, ONE_HOUR)


# --- summer time --------------------------------------------------------------------------------


def test_a_date_across_the_end_of_summer_time_uses_winter_time():
    before_the_change = utc(2026, 10, 20, 10, 0)  # CEST, UTC+2
    assert parse("2026-10-30", now=before_the_change) == utc(2026, 10, 30, 22, 59)  # CET, UTC+1
    assert parse("2026-10-30T18:00", now=before_the_change) == utc(2026, 10, 30, 17, 0)


def test_a_duration_across_the_end_of_summer_time_is_elapsed_time():
    # 12:00 CEST plus 72 hours is 11:00 CET by the clock on the wall.
    before_the_change = utc(2026, 10, 24, 10, 0)
    deadline = parse("3d", now=before_the_change)
    assert deadline == utc(2026, 10, 27, 10, 0)
    assert deadline.astimezone(BERLIN).hour == 11


def test_an_hour_that_happens_twice_means_the_first_one():
    # On 25 October 2026 the clocks go back from 03:00 CEST to 02:00 CET.
    assert parse("2026-10-25T02:30", now=utc(2026, 10, 1)) == utc(2026, 10, 25, 0, 30)


def test_an_hour_that_does_not_exist_means_an_hour_later_in_summer_time():
    # On 29 March 2026 the clocks jump from 02:00 CET to 03:00 CEST.
    deadline = parse("2026-03-29T02:30", now=utc(2026, 3, 1))
    assert deadline == utc(2026, 3, 29, 1, 30)
    assert deadline.astimezone(BERLIN).strftime("%H:%M %Z") == "03:30 CEST"


# --- telling `/propose 3d TEXT` from `/propose TEXT` ----------------------------------------------


@pytest.mark.parametrize(
    ("token", "is_deadline"),
    [
        ("3d", True),
        ("90s", True),
        ("1d12h", True),
        ("2026-12-01", True),
        ("2026-12-01T18:00", True),
        ("2026-12-01 18:00", True),
        ("2026-13-40", True),  # the shape of a date: reported as a mistake, not taken as text
        ("0m", True),
        ("Grillfest", False),
        ("3D-Drucker", False),
        ("3", False),
        ("-3d", False),
        ("18:00", False),
        ("", False),
    ],
)
def test_a_word_looks_like_a_deadline_iff_it_has_the_shape_of_one(token, is_deadline):
    assert looks_like_deadline(token) is is_deadline


@pytest.mark.parametrize(
    ("text", "deadline", "rest"),
    [
        ("3d Grillfest am Samstag", "3d", "Grillfest am Samstag"),
        ("Grillfest am Samstag", None, "Grillfest am Samstag"),
        ("3D-Drucker kaufen", None, "3D-Drucker kaufen"),
        ("2026-12-01 Grillfest", "2026-12-01", "Grillfest"),
        ("2026-12-01 18:00 Grillfest", "2026-12-01 18:00", "Grillfest"),
        ("2026-12-01T18:00 Grillfest", "2026-12-01T18:00", "Grillfest"),
        ("  12h  Erste Zeile\nZweite Zeile", "12h", "Erste Zeile\nZweite Zeile"),
        ("2026-13-40 Grillfest", "2026-13-40", "Grillfest"),
        ("3d", "3d", ""),
        ("", None, ""),
    ],
)
def test_the_first_word_is_a_deadline_iff_it_looks_like_one(text, deadline, rest):
    assert split_deadline(text) == (deadline, rest)


def test_a_split_date_and_time_parses_as_one_deadline():
    deadline, _ = split_deadline("2026-12-01 18:00 Grillfest")
    assert parse(deadline) == utc(2026, 12, 1, 17, 0)
