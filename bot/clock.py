"""The one clock: wall time for the record and deadlines, monotonic time for budgets."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


class ManualClock(Clock):
    """A clock that tests move by hand; both readings advance together."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
        self._mono = 1000.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float, *, wall: bool = True) -> None:
        """Time moves on; with `wall=False` only the monotonic reading does (the outbox's
        back-offs and spacing come due, and no moment the record or a text shows changes)."""
        if wall:
            self._now += timedelta(seconds=seconds)
        self._mono += seconds
