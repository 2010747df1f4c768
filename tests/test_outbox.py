"""The outbox: each group's budget, priorities, coalesced edits, 429s and network errors —
through the real Application and the local Bot API, whose own flood limit is on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram.constants import ParseMode

from bot.clock import ManualClock
from bot.telegram_side.outbox import Priority
from bot.texts.render import MAX_MESSAGE, visible_length
from tests.harness import ADMIN, ANNA, DORA, PT, Harness, make_config, make_model


@pytest.fixture
async def clocked(tmp_path: Path) -> AsyncIterator[Harness]:
    clock = ManualClock()
    harness = Harness(make_model(clock=clock.monotonic), make_config(tmp_path), clock=clock)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()


def sends_in(h: Harness, chat_id: int) -> list:
    return [
        c
        for c in h.model.calls
        if c.params.get("chat_id") == chat_id
        and c.method in ("sendMessage", "editMessageText", "sendPoll")
    ]


async def test_a_burst_of_replies_stays_within_the_group_budget(clocked: Harness) -> None:
    h = clocked
    await h.bind(PT, "PT", "Projektteam")  # 1 message
    for _ in range(24):
        h.model.send_message(PT, ANNA, "/team")
    await h.settle()
    assert len(sends_in(h, PT)) == 20
    assert all(c.ok for c in sends_in(h, PT)), "no 429 provoked"
    outbox = h.services.outbox
    assert outbox.pending(PT) == 5
    assert any(job.name == f"outbox-flush:{PT}" for job in h.app.job_queue.jobs())
    h.clock.advance(61)
    await outbox.flush(PT)
    assert outbox.pending(PT) == 0
    assert len(sends_in(h, PT)) == 25
    assert all(c.ok for c in sends_in(h, PT))


async def test_a_quiet_group_is_answered_at_once_while_another_is_busy(clocked: Harness) -> None:
    h = clocked
    await h.bind(PT, "PT", "Projektteam")
    for _ in range(25):
        h.model.send_message(PT, ANNA, "/team")
    await h.settle()
    reply = await h.say(DORA, DORA, "/help")
    assert reply is not None
    assert h.services.outbox.pending(PT) > 0


async def test_queued_items_go_out_by_priority_and_edits_are_coalesced(clocked: Harness) -> None:
    h = clocked
    outbox = h.services.outbox
    card = await outbox.send(PT, "Karte v0")
    assert card.sent and card.message is not None
    for n in range(19):
        await outbox.send(PT, f"Füller {n}")
    assert outbox.pending(PT) == 0
    # The budget is spent: everything now waits, whatever order it came in.
    await outbox.edit(PT, card.message.message_id, "Karte v1")
    await outbox.send(PT, "Erinnerung", priority=Priority.NOTICE)
    await outbox.edit(PT, card.message.message_id, "Karte v2")
    await outbox.send(PT, "Ergebnis")
    assert outbox.pending(PT) == 3
    h.clock.advance(61)
    await outbox.flush(PT)
    late = sends_in(h, PT)[20:]
    assert [c.params["text"] for c in late] == ["Ergebnis", "Erinnerung", "Karte v2"]
    assert h.model.bot_messages(PT)[0].text == "Karte v2"


async def test_a_429_reschedules_instead_of_losing_the_message(clocked: Harness) -> None:
    h = clocked
    outbox = h.services.outbox
    h.model.fail_next("sendMessage", error_code=429, retry_after=7)
    delivery = await outbox.send(PT, "Trotzdem da")
    assert not delivery.sent and outbox.pending(PT) == 1
    h.clock.advance(3)
    await outbox.flush(PT)  # too early: still blocked, nothing sent
    assert outbox.pending(PT) == 1
    h.clock.advance(5)
    await outbox.flush(PT)
    assert outbox.pending(PT) == 0
    assert "Trotzdem da" in h.bot_texts(PT)


async def test_network_errors_are_retried_with_backoff(clocked: Harness) -> None:
    h = clocked
    outbox = h.services.outbox
    h.model.start_bot(ANNA)
    await h.settle()
    before = len(h.bot_texts(ANNA))
    h.model.fail_next("sendMessage", network_error=True, count=2)
    await outbox.send(ANNA, "Hallo Anna")
    assert outbox.pending(ANNA) == 1
    h.clock.advance(1)
    await outbox.flush(ANNA)
    assert outbox.pending(ANNA) == 1  # failed again: now it waits 2 s
    h.clock.advance(1)
    await outbox.flush(ANNA)
    assert outbox.pending(ANNA) == 1
    h.clock.advance(1)
    await outbox.flush(ANNA)
    assert outbox.pending(ANNA) == 0
    assert h.bot_texts(ANNA)[before:] == ["Hallo Anna"]


async def test_not_modified_is_success(clocked: Harness) -> None:
    h = clocked
    outbox = h.services.outbox
    card = await outbox.send(PT, "Gleich")
    assert card.message is not None
    again = await outbox.edit(PT, card.message.message_id, "Gleich")
    assert again.sent and again.error is None
    assert outbox.pending(PT) == 0


async def test_a_10000_character_text_goes_out_without_an_api_error(clocked: Harness) -> None:
    h = clocked
    outbox = h.services.outbox
    text = "\n".join(f"<b>Absatz {n}</b> " + "Wort " * 30 for n in range(70))
    assert visible_length(text) > 10_000
    await outbox.send(PT, text)
    calls = sends_in(h, PT)
    assert len(calls) >= 3 and all(c.ok for c in calls)
    assert all(visible_length(c.params["text"]) <= MAX_MESSAGE for c in calls)
    edit = await outbox.edit(PT, h.model.bot_messages(PT)[0].message_id, text)
    assert edit.sent
    assert h.model.bot_messages(PT)[0].text.endswith("…")


async def test_user_text_cannot_break_the_markup(clocked: Harness) -> None:
    h = clocked
    await h.bind(PT, "PT", "<b>Projekt</b> & <i>")
    reply = await h.say(PT, ADMIN, "/team")
    assert reply is not None and "<b>Projekt</b> & <i>" in reply.text
    assert all(c.ok for c in h.model.calls_of("sendMessage"))
    assert h.model.calls_of("sendMessage")[-1].params["parse_mode"] == ParseMode.HTML
