"""Reading the deadline a person types in front of a command's text (SPEC §3.1), as a UTC moment.

What people type, in German and English alike (both are understood in every network):

- a span from now: `3d`, `12h`, `30m`, `90s`, `1w`, `1d12h`, `3T`; `3 Tage`, `3 Tagen`, `1 Tag`,
  `2 Wochen`, `12 Std`, `12 Stunden`, `30 Min`, `1,5 Std`; `3 days`, `2 weeks`, `12 hours`,
  `30 min`; also after `in` (`in 3 Tagen`). A span is elapsed time: `3 Tage` is 72 hours, also
  across a change of summer time.
- a day: `heute`, `morgen`, `übermorgen`, `today`, `tomorrow`; a weekday (`Freitag`, `Friday`:
  the next one after today, never today itself); a date `01.12.2026`, `1.12.26`, `1.12.`,
  `2026-12-01`, `1. Dezember`, `1. Dez. 2026`, `1 Dec`, `Dec 1`, `1st December 2026`. A date
  without a year is the next such day (`1.2.` in December is next February's), unless it passed
  less than LATELY (60 days) ago: `1.5.` on 4 May is refused as past, not read as next year's.
- a day and a time: `01.12.2026 18:00`, `morgen 18 Uhr`, `Freitag um 18:30 Uhr`,
  `Friday at 6pm`, `2026-12-01T18:00`. A day without a time means END_OF_DAY (23:59) that day,
  so that "bis Freitag" includes Friday.
- `bis` (`bis zum`), `until` or `by` in front of any of these.

Slash dates (`12/1`) are refused: 12/1 is the 12th of January in Germany and the 1st of December
in the USA. A word that looks like a deadline but is none (`32.13.`, `morgn`, `3 Tagn`, a time
`25:00`) is refused with the reason, instead of becoming the first word of the text: see
`take_deadline`. Every refusal is a `bot.charter.refusals.Refusal` with the typed words as
`text`; the handler adds `min` and `max` (durations in words).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import MINYEAR, UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.charter import refusals
from bot.charter.refusals import Refusal

# Far enough for the same date next year; farther is almost surely a typo.
MAX_AHEAD = timedelta(days=366)
# A day without a time means the end of that day, so that "until 1 December" includes the 1st.
END_OF_DAY = time(23, 59)
# A date without a year that passed less than this ago is refused as past (see _local_moment).
LATELY = timedelta(days=60)
_EARLIEST = datetime.min.replace(tzinfo=UTC)
_LATEST = datetime.max.replace(tzinfo=UTC)

_SECOND = timedelta(seconds=1)
_MINUTE = timedelta(minutes=1)
_HOUR = timedelta(hours=1)
_DAY = timedelta(days=1)
_WEEK = timedelta(weeks=1)

# The units of a span, as people write them (lower case, without a final dot).
UNITS: dict[str, timedelta] = {
    **dict.fromkeys(
        ("s", "sek", "sekunde", "sekunden", "sec", "secs", "second", "seconds"), _SECOND
    ),
    **dict.fromkeys(("m", "min", "mins", "minute", "minuten", "minutes"), _MINUTE),
    **dict.fromkeys(("h", "std", "stunde", "stunden", "hr", "hrs", "hour", "hours"), _HOUR),
    **dict.fromkeys(("d", "t", "tg", "tag", "tage", "tagen", "day", "days"), _DAY),
    **dict.fromkeys(("w", "wo", "woche", "wochen", "wk", "wks", "week", "weeks"), _WEEK),
}
# Months have no fixed length: "3 Monate" is refused with the forms that work.
_MONTH_UNITS = frozenset(("monat", "monate", "monaten", "mon", "month", "months"))
# A misspelt unit is recognised against these (the short ones are too close to other words),
# and suggested as written here; plurals first, since most spans are more than one.
_UNIT_WORDS = {
    word.lower(): word
    for word in (
        "Sekunden",
        "Sekunde",
        "Minuten",
        "Minute",
        "Stunden",
        "Stunde",
        "Tage",
        "Tagen",
        "Wochen",
        "Woche",
        "seconds",
        "second",
        "minutes",
        "minute",
        "hours",
        "hour",
        "days",
        "weeks",
        "week",
    )
}

# Days by name: how many days from today, and the weekdays (Monday is 0).
_RELATIVE_DAYS = {
    "heute": 0,
    "today": 0,
    "morgen": 1,
    "tomorrow": 1,
    "übermorgen": 2,
    "uebermorgen": 2,
}
_WEEKDAYS = {
    **{
        name: number
        for number, name in enumerate(
            ("montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag", "sonntag")
        )
    },
    "sonnabend": 5,
    **{
        name: number
        for number, name in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
}
# What a misspelt day name is recognised against, and how the refusal suggests it.
_DAY_WORDS = {
    **{word: word for word in ("heute", "morgen", "übermorgen", "today", "tomorrow")},
    **{word: word.capitalize() for word in _WEEKDAYS},
}
_MONTHS = {
    **dict.fromkeys(("januar", "jänner", "january", "jan"), 1),
    **dict.fromkeys(("februar", "february", "feb"), 2),
    **dict.fromkeys(("märz", "maerz", "march", "mär", "mrz", "mar"), 3),
    **dict.fromkeys(("april", "apr"), 4),
    **dict.fromkeys(("mai", "may"), 5),
    **dict.fromkeys(("juni", "june", "jun"), 6),
    **dict.fromkeys(("juli", "july", "jul"), 7),
    **dict.fromkeys(("august", "aug"), 8),
    **dict.fromkeys(("september", "sept", "sep"), 9),
    **dict.fromkeys(("oktober", "october", "okt", "oct"), 10),
    **dict.fromkeys(("november", "nov"), 11),
    **dict.fromkeys(("dezember", "december", "dez", "dec"), 12),
}
_BEFORE_A_DEADLINE = frozenset(("bis", "until", "by"))
_BEFORE_A_SPAN = frozenset(("in",))
_AFTER_BIS = frozenset(("zum", "zur", "am"))
_BEFORE_A_TIME = frozenset(("um", "at"))

_COMPACT = re.compile(r"(?:\d+[smhdwt])+")
_COMPACT_PART = re.compile(r"(\d+)([smhdwt])")
_NUMBER = r"\d+(?:[.,]\d{1,3})?"
_NUMBER_ALONE = re.compile(_NUMBER)
_NUMBER_AND_UNIT = re.compile(rf"({_NUMBER})([a-zäöüß]+)")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_ISO_DATE_TIME = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})t(\d{1,2}):(\d{2})(?::(\d{2}))?")
_DOTTED_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})?")
_DAY_WITH_DOT = re.compile(r"(\d{1,2})\.")
_DAY_NUMBER = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?")
_YEAR = re.compile(r"20\d\d")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
_HOUR_ALONE = re.compile(r"\d{1,2}")
_CLOCK_WITH_DOT = re.compile(r"(\d{1,2})\.(\d{2})")
_TWELVE_HOURS = re.compile(r"(\d{1,2})(?::(\d{2}))?(am|pm)")
_SLASHED = re.compile(r"\d{1,2}/\d{1,2}(?:/\d{2,4})?")
# Starts like a date but is none of the forms above: 2026-12-01T18, 1.12.2026/18:00, …
_DATE_LIKE = re.compile(r"\d{1,4}[-.]\d{1,2}[-.]")
_WORD = re.compile(r"\S+")
# Stripped off a word before it is read (kept out of the text that follows): "3 Tage: Grillfest".
_TRAILING = ",;:"


@dataclass(frozen=True, slots=True)
class Leading:
    """What starts a command's arguments: the deadline typed (None: none, the policy's
    default applies) and the text after it."""

    deadline: datetime | None
    rest: str


@dataclass(frozen=True, slots=True)
class _Word:
    text: str  # as typed, without the trailing punctuation
    key: str  # lower case, for reading
    end: int  # where it ends in the whole text (after any trailing punctuation)


@dataclass(frozen=True, slots=True)
class _Span:
    length: timedelta | None  # None: too long for a timedelta


@dataclass(frozen=True, slots=True)
class _Date:
    year: int | None  # None: the next such day
    month: int
    day: int


@dataclass(frozen=True, slots=True)
class _FromToday:
    days: int


@dataclass(frozen=True, slots=True)
class _Weekday:
    weekday: int


_Day = _Date | _FromToday | _Weekday


@dataclass(frozen=True, slots=True)
class _OnDay:
    day: _Day
    at: tuple[int, int, int] | None  # hour, minute, second (checked when resolved)


_Meaning = _Span | _OnDay


def take_deadline(
    text: str,
    now: datetime,
    tz: ZoneInfo,
    min_deadline: timedelta,
    max_ahead: timedelta = MAX_AHEAD,
) -> Leading | Refusal:
    """The deadline that starts `text` (`/propose [DEADLINE] TEXT`) and the text after it, or
    the refusal that says why the deadline typed cannot be used.

    The words in front are a deadline iff they read as one, so `/vorschlag 3 Tage Grillfest`
    runs three days and `/vorschlag 3 neue Bänke` has no deadline; a text that really starts
    with such words needs a deadline in front of it (`/vorschlag 7d Morgen wird gegrillt`).
    Words that look like a deadline but are none are refused, not taken into the text.
    """
    if now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    words = _words(text)
    found = _leading(words)
    if found is None:
        return Leading(None, text.strip())
    used, meaning = found
    typed = " ".join(word.text for word in words[:used])
    if isinstance(meaning, Refusal):
        return meaning.with_params(text=typed)
    moment = _resolve(meaning, now, tz)
    if moment is None:
        return refusals.DEADLINE_NO_SUCH_DATE.with_params(text=typed)
    if moment < now:
        return refusals.DEADLINE_IN_THE_PAST.with_params(text=typed)
    if moment - now < min_deadline:
        return refusals.DEADLINE_TOO_SOON.with_params(text=typed)
    if moment - now > max_ahead:
        return refusals.DEADLINE_TOO_FAR.with_params(text=typed)
    return Leading(moment, text[words[used - 1].end :].strip())


def parse_deadline(
    text: str,
    now: datetime,
    tz: ZoneInfo,
    min_deadline: timedelta,
    max_ahead: timedelta = MAX_AHEAD,
) -> datetime | Refusal:
    """The moment (aware, UTC) that `text`, all of it, means as a deadline; or why not.

    Spans are elapsed time: `3d` is 72 hours even across a change of summer time. Days and
    times are local to `tz`. A local time that does not exist (the hour skipped in spring) or
    happens twice (the hour repeated in autumn) follows zoneinfo's fold=0: the offset in force
    before the change, so 02:30 in the gap means 03:30 summer time, and a repeated 02:30 the
    first one.
    """
    taken = take_deadline(text, now, tz, min_deadline, max_ahead)
    if isinstance(taken, Refusal):
        return taken
    if taken.deadline is None or taken.rest:
        return refusals.DEADLINE_UNREADABLE.with_params(text=text.strip())
    return taken.deadline


# -- reading the words ---------------------------------------------------------------------------


def _words(text: str) -> list[_Word]:
    words = []
    for match in _WORD.finditer(text):
        typed = match.group(0)
        stripped = typed.rstrip(_TRAILING) or typed
        words.append(_Word(stripped, stripped.lower(), match.end()))
    return words


def _leading(words: list[_Word]) -> tuple[int, _Meaning | Refusal] | None:
    """How many words at the front are a deadline, and what they mean (or why they cannot
    be one); None if the text does not start with a deadline."""
    if not words:
        return None
    start = 0
    span_only = False
    if words[0].key in _BEFORE_A_DEADLINE:
        start = 2 if len(words) > 2 and words[1].key in _AFTER_BIS else 1
    elif words[0].key in _BEFORE_A_SPAN:
        start, span_only = 1, True
    if start >= len(words):
        return None
    found = _span(words, start)
    if found is None and not span_only:
        found = _day_and_time(words, start)
    if found is None:
        found = _near_miss(words, start)
    return found


def _span(words: list[_Word], i: int) -> tuple[int, _Meaning | Refusal] | None:
    key = words[i].key
    if _COMPACT.fullmatch(key):
        try:
            total = sum(
                (int(number) * UNITS[unit] for number, unit in _COMPACT_PART.findall(key)),
                timedelta(),
            )
        except OverflowError:
            return i + 1, _Span(None)
        return i + 1, _Span(total)
    if match := _NUMBER_AND_UNIT.fullmatch(key.rstrip(".")):
        number, unit = match.groups()
        return _number_and_unit(number, unit, i + 1)
    if _NUMBER_ALONE.fullmatch(key) and i + 1 < len(words):
        unit = words[i + 1].key.rstrip(".")
        return _number_and_unit(key, unit, i + 2)
    return None


def _number_and_unit(number: str, unit: str, used: int) -> tuple[int, _Meaning | Refusal] | None:
    if unit in UNITS:
        try:
            return used, _Span(float(number.replace(",", ".")) * UNITS[unit])
        except OverflowError:
            return used, _Span(None)
    if unit in _MONTH_UNITS:
        return used, refusals.DEADLINE_UNREADABLE
    # a letter missing, added or swapped, not a wrong one: "3 Stände", "2 Wachen" are words
    if (suggestion := _misspelt(unit, _UNIT_WORDS, replaced=False)) is not None:
        return used, refusals.DEADLINE_TYPO.with_params(suggestion=f"{number} {suggestion}")
    return None


def _day_and_time(words: list[_Word], i: int) -> tuple[int, _Meaning | Refusal] | None:
    found = _day(words, i)
    if found is None:
        return None
    used, day = found
    if isinstance(day, _OnDay):  # 2026-12-01T18:00: the time came with it
        return used, day
    at = _time(words, used)
    if at is None:
        return used, _OnDay(day, None)
    after, clock = at
    if clock is None:
        return after, refusals.DEADLINE_NO_SUCH_DATE
    return after, _OnDay(day, clock)


def _day(words: list[_Word], i: int) -> tuple[int, _Day | _OnDay] | None:
    key = words[i].key
    following = words[i + 1].key.rstrip(".") if i + 1 < len(words) else None
    if key in _RELATIVE_DAYS:
        return i + 1, _FromToday(_RELATIVE_DAYS[key])
    if key in _WEEKDAYS:
        return i + 1, _Weekday(_WEEKDAYS[key])
    if match := _ISO_DATE.fullmatch(key):
        year, month, day = (int(part) for part in match.groups())
        return i + 1, _Date(year, month, day)
    if match := _ISO_DATE_TIME.fullmatch(key):
        year, month, day, hour, minute = (int(part) for part in match.groups()[:5])
        second = int(match.group(6) or 0)
        return i + 1, _OnDay(_Date(year, month, day), (hour, minute, second))
    if match := _DOTTED_DATE.fullmatch(key):
        day, month = int(match.group(1)), int(match.group(2))
        return i + 1, _Date(_full_year(match.group(3)), month, day)
    # 1. Dezember, 1 Dec, 1st December: the day, then the month's name
    number = _DAY_WITH_DOT.fullmatch(key) or _DAY_NUMBER.fullmatch(key)
    if number and following in _MONTHS:
        return _with_year(words, i + 2, int(number.group(1)), _MONTHS[following])
    # Dec 1, December 1st: the month's name, then the day
    named = _MONTHS.get(key.rstrip("."))
    if named is not None and following is not None and (number := _DAY_NUMBER.fullmatch(following)):
        return _with_year(words, i + 2, int(number.group(1)), named)
    return None


def _with_year(words: list[_Word], i: int, day: int, month: int) -> tuple[int, _Date]:
    if i < len(words) and _YEAR.fullmatch(words[i].key):
        return i + 1, _Date(int(words[i].key), month, day)
    return i, _Date(None, month, day)


def _full_year(written: str | None) -> int | None:
    if written is None:
        return None
    return 2000 + int(written) if len(written) == 2 else int(written)


def _time(words: list[_Word], i: int) -> tuple[int, tuple[int, int, int] | None] | None:
    """A time of day after a day (`18:00`, `18 Uhr`, `um 18.30 Uhr`, `at 6pm`): the words
    it takes and the time, None for a time that does not exist; None if no time follows."""
    if i < len(words) and words[i].key in _BEFORE_A_TIME:
        return _time(words, i + 1)
    if i >= len(words):
        return None
    key = words[i].key
    uhr = i + 1 < len(words) and words[i + 1].key.rstrip(".") == "uhr"
    hour: int
    minute = 0
    if match := _CLOCK.fullmatch(key):
        hour, minute = int(match.group(1)), int(match.group(2))
        used = i + 2 if uhr else i + 1
    elif uhr and _HOUR_ALONE.fullmatch(key):
        hour, used = int(key), i + 2
    elif uhr and (match := _CLOCK_WITH_DOT.fullmatch(key)):
        hour, minute, used = int(match.group(1)), int(match.group(2)), i + 2
    elif match := _TWELVE_HOURS.fullmatch(key):
        hour, minute, used = int(match.group(1)), int(match.group(2) or 0), i + 1
        if not 1 <= hour <= 12:
            return used, None
        hour = hour % 12 + (12 if match.group(3) == "pm" else 0)
    else:
        return None
    if hour > 23 or minute > 59:
        return used, None
    return used, (hour, minute, 0)


def _near_miss(words: list[_Word], i: int) -> tuple[int, Refusal] | None:
    """Words that look like a deadline but are none: refused, not read as the text."""
    key = words[i].key
    if _SLASHED.fullmatch(key.rstrip(".")):
        return i + 1, refusals.DEADLINE_MONTH_FIRST
    if _DATE_LIKE.match(key):
        return i + 1, refusals.DEADLINE_UNREADABLE
    if (suggestion := _misspelt(key.rstrip("."), _DAY_WORDS)) is not None:
        return i + 1, refusals.DEADLINE_TYPO.with_params(suggestion=suggestion)
    return None


def _misspelt(word: str, known: dict[str, str], *, replaced: bool = True) -> str | None:
    """The known word `word` is one slip away from (a letter missing, added, two swapped,
    or, if `replaced`, one wrong), as the refusal suggests it; None if none. A longer word that
    starts with a known one (`Morgens`, `Freitags`, `Wochenenden`) is a word of its own."""
    if len(word) < 4 or word in known:
        return None
    for candidate, shown in known.items():
        if (
            len(candidate) >= 4
            and word[0] == candidate[0]
            and not word.startswith(candidate)
            and _one_slip(word, candidate, replaced=replaced)
        ):
            return shown
    return None


def _one_slip(a: str, b: str, *, replaced: bool = True) -> bool:
    """Whether a and b differ by one edit: a letter inserted, deleted, two neighbours swapped,
    or (if `replaced`) one replaced; the optimal string alignment distance is 1."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [k for k in range(len(a)) if a[k] != b[k]]
        if len(diff) == 1:
            return replaced
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:k] + long[k + 1 :] == short for k in range(len(long)))


# -- what they mean ------------------------------------------------------------------------------


def _resolve(meaning: _Meaning, now: datetime, tz: ZoneInfo) -> datetime | None:
    """The moment in UTC, None for a day or time that does not exist; beyond datetime's range,
    its first or last."""
    if isinstance(meaning, _Span):
        if meaning.length is None:
            return _LATEST
        try:
            return (now + meaning.length).astimezone(UTC)
        except OverflowError:
            return _LATEST
    try:
        local = _local_moment(meaning, now.astimezone(tz))
    except ValueError:
        return None  # 32.13., 30.02.2027, 25:00: the right shape, but no such day or time
    try:
        return local.astimezone(UTC)
    except OverflowError:
        return _EARLIEST if local.year == MINYEAR else _LATEST


def _local_moment(meaning: _OnDay, local_now: datetime) -> datetime:
    hour, minute, second = meaning.at or (END_OF_DAY.hour, END_OF_DAY.minute, 0)
    at = time(hour, minute, second)
    tz = local_now.tzinfo
    today = local_now.date()
    day = meaning.day
    if isinstance(day, _FromToday):
        return datetime.combine(today + timedelta(days=day.days), at, tzinfo=tz)
    if isinstance(day, _Weekday):
        ahead = (day.weekday - today.weekday()) % 7 or 7
        return datetime.combine(today + timedelta(days=ahead), at, tzinfo=tz)
    if day.year is not None:
        return datetime.combine(date(day.year, day.month, day.day), at, tzinfo=tz)
    # No year: the next such day (29 February may be years away: then too far); but a day
    # that passed lately (1.5. on 4 May) is a slip, refused as past, not next year's.
    found = []
    for year in range(today.year - 1, today.year + 5):
        try:
            found.append(datetime.combine(date(year, day.month, day.day), at, tzinfo=tz))
        except ValueError:
            continue
    if not found:
        raise ValueError(f"no day {day.day}.{day.month}.")
    lately = [moment for moment in found if local_now - LATELY <= moment < local_now]
    return lately[-1] if lately else min(moment for moment in found if moment >= local_now)
