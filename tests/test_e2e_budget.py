"""The group budget (20 messages and edits a minute per group) is spent on what matters:
one message per chat for a declined nomination, and one planned flush per chat however many
items wait behind a spent budget."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.texts.i18n import Html
from tests.harness import (
    ANNA,
    BERT,
    EVE,
    PT,
    ST,
    DecisionSteps,
    Harness,
    make_config,
    make_model,
)

# What spends a group's budget: every message and every edit, polls and their stop too.
WRITES = ("sendMessage", "editMessageText", "editMessageReplyMarkup", "sendPoll", "stopPoll")


def writes_since(h: Harness, mark: int, chat_id: int) -> list:
    return [
        c
        for c in h.model.calls[mark:]
        if c.method in WRITES and str(c.params.get("chat_id")) == str(chat_id)
    ]


async def decline(h: Harness, candidate: int) -> dict:
    question = next(m for m in reversed(h.model.bot_messages(candidate)) if m.reply_markup)
    query = h.model.press_button(candidate, question.message_id, candidate, button_text="Ablehnen")
    answer = await h.model.wait_callback_answer(query)
    await h.settle()
    await h.flush_edits()
    return answer


# -- (a) a declined nomination: one message per chat -----------------------------------------


@pytest.mark.parametrize("before", ["nothing", "a press", "the PT approved"])
async def test_a_declined_nomination_costs_each_chat_one_message_and_its_card_edit(
    net: tuple[Harness, DecisionSteps], before: str
) -> None:
    h, d = net
    h.model.start_bot(EVE)
    await h.settle()
    await h.say(PT, ANNA, "/nominieren 2d @eve UT kennt alle Lösungsteams")
    if before == "a press":  # the PT's card has a response on it already
        await d.press(PT, 1, BERT, "agree")
    if before == "the PT approved":  # its card is closed, its Beschluss posted
        await d.press(PT, 1, ANNA, "agree")
        await d.press(PT, 1, BERT, "agree")
    await h.flush_edits()
    cards = {PT: d.card(PT, 1), ST: d.card(ST, 2)}
    mark = len(h.model.calls)
    answer = await decline(h, EVE)
    assert "Absage" in answer["text"]
    for chat, proposal_id in ((PT, 1), (ST, 2)):
        writes = writes_since(h, mark, chat)
        sent = [c for c in writes if c.method == "sendMessage"]
        edits = [c for c in writes if c.method == "editMessageText"]
        still_open = not (chat == PT and before == "the PT approved")
        assert len(sent) == 1 and len(edits) == int(still_open), [
            (c.method, c.params) for c in writes
        ]
        assert len(writes) == 1 + int(still_open)
        text = sent[0].params["text"]
        assert "Eve" in text and "abgelehnt" in text and "/nominieren" in text, text
        if still_open:
            assert edits[0].params["message_id"] == cards[chat].message_id
            assert f"#{proposal_id}" in text and "<b>zurückgezogen</b>" in text, text
        else:
            assert "sie ist beendet" in text and "zurückgezogen" not in text, text
        assert d.card(chat, proposal_id).reply_markup is None
    mine = writes_since(h, mark, EVE)
    assert [c.method for c in mine] == ["sendMessage"]
    assert "Du hast die Nominierung" in mine[0].params["text"]


async def test_a_nomination_one_team_rejects_costs_the_other_chat_one_message(
    net: tuple[Harness, DecisionSteps],
) -> None:
    """The PT rejects (Einwand twice, then the vote says Nein) while the ST has not decided:
    the ST's decision is withdrawn, and the ST hears it once, with why."""
    h, d = net
    h.model.start_bot(EVE)
    await h.settle()
    await h.say(PT, ANNA, "/nominieren 2d @eve UT")
    for round_number in (1, 2):
        for user in (ANNA, BERT):
            await d.press(PT, 1, user, "object", round_number=round_number)
    poll = next(m.poll for m in h.model.bot_messages(PT) if m.poll)
    mark = len(h.model.calls)
    h.model.answer_poll(poll.id, ANNA, [1])
    h.model.answer_poll(poll.id, BERT, [1])  # everyone voted: closed at once, Abgelehnt
    await h.settle()
    await h.flush_edits()
    st = writes_since(h, mark, ST)
    assert [c.method for c in sorted(st, key=lambda c: c.method)] == [
        "editMessageText",
        "sendMessage",
    ], [(c.method, c.params) for c in st]
    text = next(c.params["text"] for c in st if c.method == "sendMessage")
    assert "#2" in text and "Projektteam" in text and "<b>zurückgezogen</b>" in text, text
    assert d.card(ST, 2).reply_markup is None
    pt = [c.params.get("text", "") for c in writes_since(h, mark, PT) if c.method == "sendMessage"]
    assert sum("abgelehnt; sie ist beendet" in t for t in pt) == 1, pt
    assert "deine Nominierung" in h.last_text(EVE)


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
