"""Reading the deadlines people type (SPEC §3.1), in the network's timezone: the everyday forms
in German and English, and a clear refusal for what looks like a deadline but is none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.charter import refusals
from bot.charter.deadline_input import END_OF_DAY, Leading, parse_deadline, take_deadline
from bot.charter.refusals import Refusal

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)  # Monday, 12:00 summer time in Berlin
ONE_HOUR = timedelta(hours=1)


def parse(text: str, now: datetime = NOW, min_deadline: timedelta = ONE_HOUR) -> datetime:
    moment = parse_deadline(text, now, BERLIN, min_deadline)
    assert isinstance(moment, datetime), moment
    assert moment.tzinfo is UTC
    return moment


def refused(text: str, now: datetime = NOW, min_deadline: timedelta = ONE_HOUR) -> Refusal:
    refusal = parse_deadline(text, now, BERLIN, min_deadline)
    assert isinstance(refusal, Refusal), refusal
    return refusal


def take(text: str, now: datetime = NOW) -> Leading | Refusal:
    return take_deadline(text, now, BERLIN, ONE_HOUR)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def berlin(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BERLIN).astimezone(UTC)


def end_of(year: int, month: int, day: int) -> datetime:
    return berlin(year, month, day, END_OF_DAY.hour, END_OF_DAY.minute)


# --- a span from now -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "after"),
    [
        # the short forms
        ("90s", timedelta(seconds=90)),
        ("30m", timedelta(minutes=30)),
        ("12h", timedelta(hours=12)),
        ("3d", timedelta(days=3)),
        ("3D", timedelta(days=3)),
        ("1w", timedelta(weeks=1)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("  3d  ", timedelta(days=3)),
        # German
        ("3T", timedelta(days=3)),
        ("3t", timedelta(days=3)),
        ("3 T", timedelta(days=3)),
        ("1 Tag", timedelta(days=1)),
        ("3 Tage", timedelta(days=3)),
        ("3 Tagen", timedelta(days=3)),
        ("in 3 Tagen", timedelta(days=3)),
        ("3Tage", timedelta(days=3)),
        ("1 Woche", timedelta(weeks=1)),
        ("2 Wochen", timedelta(weeks=2)),
        ("12 Std", timedelta(hours=12)),
        ("12 Std.", timedelta(hours=12)),
        ("12Std", timedelta(hours=12)),
        ("12 Stunden", timedelta(hours=12)),
        ("1 Stunde", timedelta(hours=1)),
        ("1,5 Std", timedelta(minutes=90)),
        ("90 Min", timedelta(minutes=90)),
        ("90 Minuten", timedelta(minutes=90)),
        # English
        ("3 days", timedelta(days=3)),
        ("1 day", timedelta(days=1)),
        ("in 3 days", timedelta(days=3)),
        ("2 weeks", timedelta(weeks=2)),
        ("1 week", timedelta(weeks=1)),
        ("12 hours", timedelta(hours=12)),
        ("12 hrs", timedelta(hours=12)),
        ("1.5 hours", timedelta(minutes=90)),
        ("90 minutes", timedelta(minutes=90)),
    ],
)
def test_a_span_counts_from_now(text: str, after: timedelta) -> None:
    assert parse(text, min_deadline=timedelta(seconds=60)) == NOW + after


# --- a day, and a day with a time ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        # German
        ("heute", end_of(2026, 5, 4)),
        ("morgen", end_of(2026, 5, 5)),
        ("Morgen", end_of(2026, 5, 5)),
        ("übermorgen", end_of(2026, 5, 6)),
        ("uebermorgen", end_of(2026, 5, 6)),
        ("Freitag", end_of(2026, 5, 8)),
        ("bis Freitag", end_of(2026, 5, 8)),
        ("Montag", end_of(2026, 5, 11)),  # today is Monday: the next one
        ("Sonnabend", end_of(2026, 5, 9)),
        ("01.12.2026", end_of(2026, 12, 1)),  # 23:59 winter time
        ("1.12.2026", end_of(2026, 12, 1)),
        ("1.12.26", end_of(2026, 12, 1)),
        ("1.12.", end_of(2026, 12, 1)),
        ("bis zum 1.12.", end_of(2026, 12, 1)),
        ("1.7.", end_of(2026, 7, 1)),  # 23:59 summer time
        ("4.5.", end_of(2026, 5, 4)),  # today
        ("1. Dezember", end_of(2026, 12, 1)),
        ("1. Dez.", end_of(2026, 12, 1)),
        ("1. Dez. 2026", end_of(2026, 12, 1)),
        ("3 Mai 2027", end_of(2027, 5, 3)),
        ("01.12.2026 18:00", berlin(2026, 12, 1, 18, 0)),
        ("01.12.2026 18:00 Uhr", berlin(2026, 12, 1, 18, 0)),
        ("1.12. 18 Uhr", berlin(2026, 12, 1, 18, 0)),
        ("morgen 18 Uhr", berlin(2026, 5, 5, 18, 0)),
        ("morgen um 8:05", berlin(2026, 5, 5, 8, 5)),
        ("Freitag um 18.30 Uhr", berlin(2026, 5, 8, 18, 30)),
        # English
        ("today", end_of(2026, 5, 4)),
        ("tomorrow", end_of(2026, 5, 5)),
        ("Friday", end_of(2026, 5, 8)),
        ("by Friday", end_of(2026, 5, 8)),
        ("until Friday", end_of(2026, 5, 8)),
        ("1 Dec", end_of(2026, 12, 1)),
        ("1st December", end_of(2026, 12, 1)),
        ("Dec 1", end_of(2026, 12, 1)),
        ("December 1st, 2026", end_of(2026, 12, 1)),
        ("1 Dec 2026 18:00", berlin(2026, 12, 1, 18, 0)),
        ("Friday at 6pm", berlin(2026, 5, 8, 18, 0)),
        ("tomorrow 6:30am", berlin(2026, 5, 5, 6, 30)),
        ("tomorrow 12am", berlin(2026, 5, 5, 0, 0)),
        # ISO, in either language
        ("2026-12-01", end_of(2026, 12, 1)),
        ("2026-5-4", end_of(2026, 5, 4)),
        ("2026-12-01T18:00", berlin(2026, 12, 1, 18, 0)),
        ("2026-12-01 18:00", berlin(2026, 12, 1, 18, 0)),
        ("2026-12-01t18:00", berlin(2026, 12, 1, 18, 0)),
        ("2026-12-01T18:00:30", berlin(2026, 12, 1, 18, 0, 30)),
        ("2026-07-01T18:00", utc(2026, 7, 1, 16, 0)),
    ],
)
def test_a_day_means_its_end_or_the_time_given_in_local_time(text: str, moment: datetime) -> None:
    assert parse(text) == moment


def test_a_day_without_a_time_ends_at_23_59_local_time() -> None:
    assert END_OF_DAY.hour == 23 and END_OF_DAY.minute == 59
    assert parse("2026-12-01") == utc(2026, 12, 1, 22, 59)  # CET, UTC+1
    assert parse("2026-07-01") == utc(2026, 7, 1, 21, 59)  # CEST, UTC+2


def test_a_date_without_a_year_is_the_next_such_day_unless_it_just_passed() -> None:
    december = utc(2026, 12, 10, 10, 0)
    assert parse("1.2.", now=december) == end_of(2027, 2, 1)  # next February
    assert parse("1 Feb", now=december) == end_of(2027, 2, 1)
    # on 4 May, 1 May is three days ago, not next year's
    assert refused("1.5.") == refusals.DEADLINE_IN_THE_PAST.with_params(text="1.5.")


def test_a_weekday_is_the_next_one_after_today() -> None:
    friday = utc(2026, 5, 8, 8, 0)
    assert parse("Freitag", now=friday) == end_of(2026, 5, 15)
    assert parse("heute", now=friday) == end_of(2026, 5, 8)


# --- the limits --------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["0m", "30m", "59m59s", "2026-05-04T12:30", "heute 12:30"])
def test_a_deadline_sooner_than_min_deadline_is_too_soon(text: str) -> None:
    assert refused(text) == refusals.DEADLINE_TOO_SOON.with_params(text=text)


def test_today_late_in_the_evening_is_too_soon() -> None:
    evening = berlin(2026, 5, 4, 23, 30)
    assert refused("heute", now=evening).key == "deadline.too_soon"


@pytest.mark.parametrize("text", ["1h", "60m", "1 Stunde", "2026-05-04T13:00", "heute 13:00"])
def test_exactly_min_deadline_is_enough(text: str) -> None:
    assert parse(text) == NOW + ONE_HOUR


@pytest.mark.parametrize(
    "text",
    [
        "2026-01-01",
        "2026-05-03",
        "2026-05-04T11:59",
        "2025-12-24 18:00",
        "01.01.2026",
        "heute 9 Uhr",
    ],
)
def test_a_moment_in_the_past_is_refused(text: str) -> None:
    assert refused(text) == refusals.DEADLINE_IN_THE_PAST.with_params(text=text)


@pytest.mark.parametrize(
    "text",
    [
        "2027-06-01",
        "01.06.2027",
        "400d",
        "60w",
        "60 Wochen",
        "60 weeks",
        "99999999999999999999d",
        "99999999999999999999 Tage",
        "9999-12-31T23:59",
        "29.2.",  # the next 29 February is in 2028
    ],
)
def test_more_than_a_year_ahead_is_too_far(text: str) -> None:
    assert refused(text) == refusals.DEADLINE_TOO_FAR.with_params(text=text)


def test_the_same_date_next_year_is_still_allowed() -> None:
    assert parse("2027-05-04") == utc(2027, 5, 4, 21, 59)


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_deadline("3d", datetime(2026, 5, 4, 12, 0), BERLIN, ONE_HOUR)


# --- near misses: refused with the reason, never guessed -------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "32.13.",
        "31.02.2027",
        "31.2.",
        "0.12.",
        "2026-13-40",
        "2026-02-30",
        "2026-12-01T25:00",
        "2026-12-01T18:60",
        "morgen 25:00",
        "01.12.2026 24:00 Uhr",
        "Freitag 13pm",
    ],
)
def test_a_day_or_time_that_does_not_exist_is_refused(text: str) -> None:
    assert refused(text) == refusals.DEADLINE_NO_SUCH_DATE.with_params(text=text)


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [
        ("morgn", "morgen"),
        ("mogen", "morgen"),
        ("übermorgn", "übermorgen"),
        ("Freitg", "Freitag"),
        ("Frietag", "Freitag"),
        ("bis Donerstag", "Donnerstag"),
        ("tomorow", "tomorrow"),
        ("Fridy", "Friday"),
        ("3 Tagn", "3 Tagen"),
        ("2 Wochn", "2 Wochen"),
        ("12 Stunen", "12 Stunden"),
        ("3 dyas", "3 days"),
        ("2 weks", "2 weeks"),
    ],
)
def test_a_misspelt_day_or_unit_is_refused_with_what_was_meant(text: str, suggestion: str) -> None:
    assert refused(text) == refusals.DEADLINE_TYPO.with_params(text=text, suggestion=suggestion)


@pytest.mark.parametrize("text", ["12/1", "1/12", "12/1/2026", "25/12", "12/01/2026"])
def test_a_slashed_date_is_refused_as_ambiguous(text: str) -> None:
    # 12/1 is 12 January in Germany and 1 December in the USA: the bot does not guess
    assert refused(text) == refusals.DEADLINE_MONTH_FIRST.with_params(text=text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "bald",
        "3 Monate",
        "2 months",
        "3x",
        "d3",
        "-3d",
        "+3d",
        "2026-12-01T18",
        "2026-12-01T18:00+01:00",
        "3d Grillfest",  # a deadline and more: not a deadline by itself
    ],
)
def test_text_that_is_no_deadline_is_unreadable(text: str) -> None:
    refusal = refused(text)
    assert refusal.key == "deadline.unparseable"
    assert refusal.params["text"] == text.strip()


# --- summer time --------------------------------------------------------------------------------


def test_a_date_across_the_end_of_summer_time_uses_winter_time() -> None:
    before_the_change = utc(2026, 10, 20, 10, 0)  # CEST, UTC+2
    assert parse("2026-10-30", now=before_the_change) == utc(2026, 10, 30, 22, 59)  # CET, UTC+1
    assert parse("30.10. 18:00", now=before_the_change) == utc(2026, 10, 30, 17, 0)
    assert parse("Freitag", now=before_the_change) == utc(2026, 10, 23, 21, 59)  # still CEST


def test_a_span_across_the_end_of_summer_time_is_elapsed_time() -> None:
    # 12:00 CEST plus 72 hours is 11:00 CET by the clock on the wall.
    before_the_change = utc(2026, 10, 24, 10, 0)
    for text in ("3d", "3 Tage", "3 days"):
        deadline = parse(text, now=before_the_change)
        assert deadline == utc(2026, 10, 27, 10, 0)
        assert deadline.astimezone(BERLIN).hour == 11


def test_tomorrow_across_the_end_of_summer_time_is_the_end_of_that_day() -> None:
    assert parse("morgen", now=utc(2026, 10, 24, 10, 0)) == utc(2026, 10, 25, 22, 59)


def test_an_hour_that_happens_twice_means_the_first_one() -> None:
    # On 25 October 2026 the clocks go back from 03:00 CEST to 02:00 CET.
    assert parse("2026-10-25T02:30", now=utc(2026, 10, 1)) == utc(2026, 10, 25, 0, 30)


def test_an_hour_that_does_not_exist_means_an_hour_later_in_summer_time() -> None:
    # On 29 March 2026 the clocks jump from 02:00 CET to 03:00 CEST.
    deadline = parse("29.03.2026 02:30", now=utc(2026, 3, 1))
    assert deadline == utc(2026, 3, 29, 1, 30)
    assert deadline.astimezone(BERLIN).strftime("%H:%M %Z") == "03:30 CEST"


# --- taking the deadline off the front of `/propose [DEADLINE] TEXT` ---------------------------


@pytest.mark.parametrize(
    ("text", "deadline", "rest"),
    [
        ("3d Grillfest am Samstag", NOW + timedelta(days=3), "Grillfest am Samstag"),
        ("3 Tage Grillfest", NOW + timedelta(days=3), "Grillfest"),
        ("3 Tage: Grillfest", NOW + timedelta(days=3), "Grillfest"),
        ("in 2 Wochen Sommerfest", NOW + timedelta(weeks=2), "Sommerfest"),
        ("morgen Grillfest", end_of(2026, 5, 5), "Grillfest"),
        ("morgen, Grillfest", end_of(2026, 5, 5), "Grillfest"),
        ("Freitag Grillfest", end_of(2026, 5, 8), "Grillfest"),
        ("Freitag um die Ecke", end_of(2026, 5, 8), "um die Ecke"),
        ("01.12.2026 18:00 Grillfest", berlin(2026, 12, 1, 18, 0), "Grillfest"),
        ("1.12. 18 Uhr Grillfest", berlin(2026, 12, 1, 18, 0), "Grillfest"),
        ("morgen 18 Leute einladen", end_of(2026, 5, 5), "18 Leute einladen"),
        ("2026-12-01T18:00 Grillfest", berlin(2026, 12, 1, 18, 0), "Grillfest"),
        ("tomorrow Barbecue", end_of(2026, 5, 5), "Barbecue"),
        ("3 days Barbecue", NOW + timedelta(days=3), "Barbecue"),
        ("1 Dec 18:00 Barbecue", berlin(2026, 12, 1, 18, 0), "Barbecue"),
        (
            "  12h  Erste Zeile\nZweite Zeile",
            NOW + timedelta(hours=12),
            "Erste Zeile\nZweite Zeile",
        ),
        ("3d", NOW + timedelta(days=3), ""),
    ],
)
def test_the_words_in_front_are_the_deadline_iff_they_read_as_one(
    text: str, deadline: datetime, rest: str
) -> None:
    assert take(text) == Leading(deadline, rest)


@pytest.mark.parametrize(
    "text",
    [
        "Grillfest am Samstag",
        "3 neue Bänke für den Hof",
        "3D-Drucker kaufen",
        "18:00 Treffen",
        "Morgens Kaffee für alle",  # a word that starts with a day's name is a word of its own
        "Sorgen um den Spielplatz",
        "Feiertag im Hof",
        "2 Wochenenden Aufbau",
        "3 Stände beim Hoffest",  # a wrong letter in a unit is another word
        "2 Wachen für das Fest",
        "bis wann gilt das?",
        "in der Küche",
        "By the way",
        "Mayday",
        "@eve UT",
        "",
    ],
)
def test_text_without_a_deadline_in_front_is_all_text(text: str) -> None:
    assert take(text) == Leading(None, text.strip())


@pytest.mark.parametrize(
    ("text", "key", "typed"),
    [
        ("3 Tagn Grillfest", "deadline.typo", "3 Tagn"),
        ("morgn Grillfest", "deadline.typo", "morgn"),
        ("32.13. Grillfest", "deadline.no_such_date", "32.13."),
        ("morgen 25:00 Grillfest", "deadline.no_such_date", "morgen 25:00"),
        ("12/1 Grillfest", "deadline.month_first", "12/1"),
        ("60 Wochen Grillfest", "deadline.too_far", "60 Wochen"),
        ("01.01.2026 Grillfest", "deadline.in_the_past", "01.01.2026"),
        ("3 Monate Probezeit", "deadline.unparseable", "3 Monate"),
        ("2026-13-40 Grillfest", "deadline.no_such_date", "2026-13-40"),
    ],
)
def test_words_in_front_that_look_like_a_deadline_but_are_none_are_refused(
    text: str, key: str, typed: str
) -> None:
    refusal = take(text)
    assert isinstance(refusal, Refusal)
    assert refusal.key == key and refusal.params["text"] == typed
