"""How the bot shows a moment or a day: one formatter (Babel's), in the reader's language and
the network's timezone, the same in every message (cards, reminders, /open, digests, results,
the export's captions; the export's table cells sort as text: `sortable`).

German: "Do., 05.11.2026, 09:31 Uhr" and "05.11.2026"; English, day before month:
"Thu 5 Nov 2026, 09:31" and "5 Nov 2026". Where the reader may be elsewhere (a private chat, a
file that travels) the moment names its timezone: "… 09:31 Uhr MEZ", "… 09:31 CET", and a
zone without a short name people know by its name, "… 09:31 Uhr America/New_York".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from babel.dates import format_datetime

from bot.texts.i18n import DEFAULT_LANGUAGE


@dataclass(frozen=True, slots=True)
class _Patterns:
    moment: str  # a date with its weekday and the time: a deadline, a "Stand"
    day: str  # a date: when something was decided, since when someone is a member
    zone_locale: str  # whose short names of timezones people know: MEZ/MESZ, CET/CEST


PATTERNS = {
    "de": _Patterns("EEE, dd.MM.yyyy, HH:mm 'Uhr'", "dd.MM.yyyy", "de"),
    # en_GB's names: English itself gives "+0100" where people say CET
    "en": _Patterns("EEE d MMM yyyy, HH:mm", "d MMM yyyy", "en_GB"),
}


def _patterns(lang: str) -> tuple[str, _Patterns]:
    lang = lang if lang in PATTERNS else DEFAULT_LANGUAGE
    return lang, PATTERNS[lang]


def moment(at: datetime, lang: str, tz: tzinfo, *, zone: bool = False) -> str:
    """A moment as people read it: weekday, full date and time, in `tz`; with `zone`, the
    timezone named after it (for readers who may be elsewhere)."""
    lang, patterns = _patterns(lang)
    shown = format_datetime(at, patterns.moment, tzinfo=tz, locale=lang)
    return f"{shown} {zone_name(at, lang, tz)}" if zone else shown


def day(at: datetime, lang: str, tz: tzinfo) -> str:
    """The day of a moment, in `tz`: 05.11.2026, 5 Nov 2026."""
    lang, patterns = _patterns(lang)
    return format_datetime(at, patterns.day, tzinfo=tz, locale=lang)


def sortable(at: datetime, tz: tzinfo) -> str:
    """A moment in a table's cell, sortable and the same in every language: 2026-11-24 14:05."""
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def utc(at: datetime, *, seconds: bool = False) -> str:
    """A moment in an operator's line (logs, `wiq-bot health`, backups), in UTC and the same
    in every language: 2026-11-24 14:05 UTC (with seconds: 2026-11-24 14:05:09 UTC)."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC")


def file_stamp(at: datetime) -> str:
    """A moment in a file's name, sortable: 20261124T140509Z."""
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def zone_name(at: datetime, lang: str, tz: tzinfo) -> str:
    """The timezone at that moment as people know it: MEZ or MESZ, CET or CEST; a zone that
    has no such name (Babel gives an offset) by its own name, Europe/Lisbon."""
    _, patterns = _patterns(lang)
    short = format_datetime(at, "z", tzinfo=tz, locale=patterns.zone_locale)
    if any(char.isdigit() for char in short):
        return str(getattr(tz, "key", None) or tz.tzname(at) or short)
    return short
