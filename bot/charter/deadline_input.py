"""Reading the deadline a person typed (`3d`, `2026-12-01`, `2026-12-01T18:00`) as a UTC moment."""

from __future__ import annotations

import re
from datetime import MINYEAR, UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.charter.policy import parse_duration

# Far enough for the same date next year; farther is almost surely a typo.
MAX_AHEAD = timedelta(days=366)
# A bare date means the end of that day, so that "until 1 December" includes the 1st.
END_OF_DAY = time(23, 59)
_EARLIEST = datetime.min.replace(tzinfo=UTC)
_LATEST = datetime.max.replace(tzinfo=UTC)

_DURATION = re.compile(r"(?:\d+[smhdw])+", re.IGNORECASE)
_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_DATE_TIME = re.compile(_DATE.pattern + r"[Tt ]" + _TIME.pattern)
_FIRST_WORD = re.compile(r"\s*(\S+)")


class DeadlineReason(StrEnum):
    UNPARSEABLE = "unparseable"
    TOO_SOON = "too_soon"
    IN_THE_PAST = "in_the_past"
    TOO_FAR = "too_far"


class DeadlineError(ValueError):
    """A deadline that cannot be used; `reason` (and the limits) let a handler explain why."""

    def __init__(
        self,
        reason: DeadlineReason,
        text: str,
        *,
        min_deadline: timedelta | None = None,
        max_ahead: timedelta | None = None,
    ) -> None:
        super().__init__(f"{reason.value}: {text!r}")
        self.reason = reason
        self.text = text
        self.min_deadline = min_deadline
        self.max_ahead = max_ahead


def looks_like_deadline(token: str) -> bool:
    """Whether a word has the shape of a deadline: `3d`, `1d12h`, `2026-12-01`, `2026-12-01T18:00`.

    Shape only: `2026-13-40` or `0m` look like deadlines, so that parse_deadline reports the
    mistake instead of the typo silently becoming the first word of a proposal's text.
    """
    cleaned = token.strip()
    return any(pattern.fullmatch(cleaned) for pattern in (_DURATION, _DATE, _DATE_TIME))


def split_deadline(text: str) -> tuple[str | None, str]:
    """Split `/propose [DEADLINE] TEXT` into the deadline (or None) and the text.

    The first word is a deadline iff it looks like one, so `/propose 3d Grillfest` runs three
    days and a text that really starts with such a word needs a deadline in front of it. A date
    followed by a time (`2026-12-01 18:00`) is one deadline of two words.
    """
    first = _FIRST_WORD.match(text)
    if first is None or not looks_like_deadline(first.group(1)):
        return None, text.strip()
    rest = text[first.end() :]
    second = _FIRST_WORD.match(rest)
    if second and _DATE.fullmatch(first.group(1)) and _TIME.fullmatch(second.group(1)):
        return f"{first.group(1)} {second.group(1)}", rest[second.end() :].strip()
    return first.group(1), rest.strip()


def parse_deadline(
    text: str,
    now: datetime,
    tz: ZoneInfo,
    min_deadline: timedelta,
    max_ahead: timedelta = MAX_AHEAD,
) -> datetime:
    """The moment (aware, UTC) a deadline means, at least `min_deadline` after `now`.

    Durations are elapsed time: `3d` is 72 hours even across a change of summer time. Dates are
    local to `tz`. A local time that does not exist (the hour skipped in spring) or happens twice
    (the hour repeated in autumn) follows zoneinfo's fold=0: the offset in force before the
    change, so 02:30 in the gap means 03:30 summer time, and a repeated 02:30 the first one.
    """
    if now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    moment = _read(text.strip(), now, tz)
    if moment is None:
        raise DeadlineError(DeadlineReason.UNPARSEABLE, text)
    if moment < now:
        raise DeadlineError(DeadlineReason.IN_THE_PAST, text)
    if moment - now < min_deadline:
        raise DeadlineError(DeadlineReason.TOO_SOON, text, min_deadline=min_deadline)
    if moment - now > max_ahead:
        raise DeadlineError(DeadlineReason.TOO_FAR, text, max_ahead=max_ahead)
    return moment


def _read(text: str, now: datetime, tz: ZoneInfo) -> datetime | None:
    """The moment in UTC, or None for no deadline; beyond datetime's range, its first or last."""
    try:
        if _DURATION.fullmatch(text):
            try:
                return (now + parse_duration(text)).astimezone(UTC)
            except OverflowError:
                return _LATEST
        local = _local_moment(text, tz)
    except ValueError:
        # 2026-13-40, 25:00 and the like: the right shape, but no such day or time.
        return None
    if local is None:
        return None
    try:
        return local.astimezone(UTC)
    except OverflowError:
        return _EARLIEST if local.year == MINYEAR else _LATEST


def _local_moment(text: str, tz: ZoneInfo) -> datetime | None:
    if match := _DATE.fullmatch(text):
        year, month, day = (int(part) for part in match.groups())
        return datetime.combine(date(year, month, day), END_OF_DAY, tzinfo=tz)
    if match := _DATE_TIME.fullmatch(text):
        year, month, day, hour, minute = (int(part) for part in match.groups()[:5])
        second = int(match.group(6) or 0)
        return datetime(year, month, day, hour, minute, second, tzinfo=tz)
    return None
