"""The group budget (20 messages and edits a minute per group) is spent on what matters:
one planned flush per chat however many items wait behind a spent budget."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.texts.i18n import Html
from tests.harness import PT, Harness, make_config, make_model

# -- (c) one planned flush per chat ----------------------------------------------------------


class TickingClock(ManualClock):
    """A manual clock on which time also passes while the bot works, as on a real one: every
    reading moves both readings on by a few milliseconds (varying, as real work does)."""

    def __init__(self) -> None:
        super().__init__()
        self._ticks = random.Random(11)
        self.ticking = False

    def _tick(self) -> None:
        if self.ticking:
            self.advance(self._ticks.uniform(0.0005, 0.02))

    def now(self) -> datetime:
        moment = super().now()
        self._tick()
        return moment

    def monotonic(self) -> float:
        moment = super().monotonic()
        self._tick()
        return moment


@pytest.fixture
async def ticking(tmp_path: Path) -> AsyncIterator[Harness]:
    clock = TickingClock()
    harness = Harness(make_model(clock=clock.monotonic), make_config(tmp_path), clock=clock)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()


async def test_items_behind_a_spent_budget_plan_one_flush_for_the_chat(ticking: Harness) -> None:
    h = ticking
    outbox = h.outbox
    planned: list[tuple[int, float]] = []
    jobs = []
    schedule = outbox.schedule

    def counting(delay: float, chat_id: int, run: Callable[[], Awaitable[None]]) -> None:
        planned.append((chat_id, delay))
        jobs.append(run)
        schedule(delay, chat_id, run)

    outbox.schedule = counting
    assert isinstance(h.clock, TickingClock)
    h.clock.ticking = True
    for n in range(20):
        await outbox.send(PT, Html(f"Nachricht {n}"))
    assert planned == []  # within the budget: everything went out at once
    for n in range(40):
        await outbox.send(PT, Html(f"Wartet {n}"))
    assert await outbox.pending(PT) == 40
    assert len([p for p in planned if p[0] == PT]) == 1, planned
    queued = [job for job in h.app.job_queue.jobs() if job.name == f"outbox-flush:{PT}"]
    assert len(queued) == 1
    h.clock.advance(61)  # the planned flush runs (as the job queue runs it): 20 go out
    await jobs[0]()
    assert await outbox.pending(PT) == 20
    assert len([p for p in planned if p[0] == PT]) == 2, planned  # and one for the rest
    for n in range(10):
        await outbox.send(PT, Html(f"Noch {n}"))
    assert len([p for p in planned if p[0] == PT]) == 2, planned
    h.clock.advance(61)
    await jobs[1]()
    h.clock.advance(61)
    await jobs[2]()
    assert await outbox.pending(PT) == 0
    assert len(planned) == 3


async def test_an_earlier_flush_replaces_the_planned_one(ticking: Harness) -> None:
    """A 429 on a join request's answer (no message: outside the budget) asks for a retry in
    3 s while the chat's messages wait a minute for the budget: the retry goes at 3 s (not
    with the minute's flush), which plans the minute again; of the two jobs for that minute
    one sends, the other finds nothing to do."""
    h = ticking
    outbox = h.outbox
    jobs = []
    schedule = outbox.schedule

    def keeping(delay: float, chat_id: int, run: Callable[[], Awaitable[None]]) -> None:
        jobs.append((delay, run))
        schedule(delay, chat_id, run)

    outbox.schedule = keeping
    for n in range(21):
        await outbox.send(PT, Html(f"Nachricht {n}"))
    assert [round(delay) for delay, _ in jobs] == [60]
    h.model.fail_next("approveChatJoinRequest", error_code=429, retry_after=3)
    await outbox.approve_join_request(PT, 4242)
    assert [round(delay) for delay, _ in jobs] == [60, 3]
    h.clock.advance(3)
    await jobs[1][1]()
    assert len(h.model.calls_of("approveChatJoinRequest")) == 2  # retried after 3 s
    assert [round(delay) for delay, _ in jobs] == [60, 3, 57]  # the message: its minute
    assert len(h.model.calls_of("sendMessage")) == 20 and await outbox.pending(PT) == 1
    h.clock.advance(57)
    await jobs[0][1]()
    await jobs[2][1]()
    assert len(h.model.calls_of("sendMessage")) == 21 and await outbox.pending(PT) == 0
    assert len(jobs) == 3
