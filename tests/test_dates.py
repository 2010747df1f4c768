"""How the bot shows dates (bot/texts/dates.py): one formatter, readable in each language,
correct across a change of summer time, naming the timezone where asked."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.texts import dates

BERLIN = ZoneInfo("Europe/Berlin")
ROOT = Path(__file__).resolve().parent.parent
THURSDAY = datetime(2026, 11, 5, 8, 31, tzinfo=UTC)  # 09:31 in Berlin (CET)
SUNDAY = datetime(2026, 7, 5, 8, 31, tzinfo=UTC)  # 10:31 in Berlin (CEST)


@pytest.mark.parametrize(
    ("lang", "at", "shown"),
    [
        ("de", THURSDAY, "Do., 05.11.2026, 09:31 Uhr"),
        ("de", SUNDAY, "So., 05.07.2026, 10:31 Uhr"),
        ("en", THURSDAY, "Thu 5 Nov 2026, 09:31"),  # the day before the month, 24 hours
        ("en", SUNDAY, "Sun 5 Jul 2026, 10:31"),
        ("fr", THURSDAY, "Do., 05.11.2026, 09:31 Uhr"),  # a language we have no texts for
    ],
)
def test_a_moment_shows_weekday_full_date_and_time(lang: str, at: datetime, shown: str) -> None:
    assert dates.moment(at, lang, BERLIN) == shown


@pytest.mark.parametrize(("lang", "shown"), [("de", "05.11.2026"), ("en", "5 Nov 2026")])
def test_a_day_shows_the_full_date(lang: str, shown: str) -> None:
    assert dates.day(THURSDAY, lang, BERLIN) == shown


def test_a_day_is_the_networks_day_not_utcs() -> None:
    late = datetime(2026, 11, 5, 23, 30, tzinfo=UTC)  # 00:30 on Friday in Berlin
    assert dates.day(late, "de", BERLIN) == "06.11.2026"
    assert dates.moment(late, "en", BERLIN) == "Fri 6 Nov 2026, 00:30"


@pytest.mark.parametrize(
    ("lang", "at", "shown"),
    [
        ("de", THURSDAY, "Do., 05.11.2026, 09:31 Uhr MEZ"),
        ("de", SUNDAY, "So., 05.07.2026, 10:31 Uhr MESZ"),
        ("en", THURSDAY, "Thu 5 Nov 2026, 09:31 CET"),
        ("en", SUNDAY, "Sun 5 Jul 2026, 10:31 CEST"),
    ],
)
def test_where_the_reader_may_be_elsewhere_the_timezone_is_named(
    lang: str, at: datetime, shown: str
) -> None:
    assert dates.moment(at, lang, BERLIN, zone=True) == shown


def test_a_zone_without_a_short_name_is_named_by_its_name() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    assert dates.moment(THURSDAY, "de", tokyo, zone=True) == "Do., 05.11.2026, 17:31 Uhr Asia/Tokyo"


def test_the_end_of_summer_time_shows_the_wall_clock_and_its_zone() -> None:
    # 25 October 2026: at 03:00 CEST the clocks go back to 02:00 CET; 02:30 happens twice.
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    second = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert dates.moment(first, "de", BERLIN) == "So., 25.10.2026, 02:30 Uhr"
    assert dates.moment(second, "de", BERLIN) == "So., 25.10.2026, 02:30 Uhr"
    assert dates.moment(first, "de", BERLIN, zone=True).endswith("02:30 Uhr MESZ")
    assert dates.moment(second, "de", BERLIN, zone=True).endswith("02:30 Uhr MEZ")
    # the same UTC time of day shows an hour earlier after the change
    assert dates.moment(datetime(2026, 10, 24, 10, 0, tzinfo=UTC), "en", BERLIN) == (
        "Sat 24 Oct 2026, 12:00"
    )
    assert dates.moment(datetime(2026, 10, 26, 10, 0, tzinfo=UTC), "en", BERLIN) == (
        "Mon 26 Oct 2026, 11:00"
    )


def test_the_start_of_summer_time_skips_an_hour() -> None:
    # 29 March 2026: at 02:00 CET the clocks jump to 03:00 CEST.
    before = datetime(2026, 3, 29, 0, 59, tzinfo=UTC)
    after = datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert dates.moment(before, "de", BERLIN, zone=True) == "So., 29.03.2026, 01:59 Uhr MEZ"
    assert dates.moment(after, "de", BERLIN, zone=True) == "So., 29.03.2026, 03:00 Uhr MESZ"


def test_a_table_cell_sorts_as_text() -> None:
    assert dates.sortable(THURSDAY, BERLIN) == "2026-11-05 09:31"


def test_no_other_module_formats_dates() -> None:
    """One formatter: a date shown anywhere else would look different from the card's."""
    own = ROOT / "bot" / "texts" / "dates.py"
    formatting = re.compile(r"\bstrftime\(|\bformat_(?:datetime|date|time|skeleton)\b")
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("bot", "handlers")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path != own
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if formatting.search(line)
    ]
    assert found == []
