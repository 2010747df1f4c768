"""The durable inbox (SPEC §9), in this process: an update Telegram delivers again is handled
once; what a stop left unhandled is handled at the next start, once, in update_id order; the
inbox keeps no personal text once an update is handled, and forgets handled update_ids after
a while. The real process, killed and stopped, is in test_e2e_process.py."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime

from bot.app import DUE_WORK
from bot.clock import ManualClock
from bot.telegram_side.inbox import KEEP_HANDLED, has_long_digits
from storage.db import Database
from storage.inbox import Inbox, Received
from tests.harness import ANNA, BERT, CARL, ST, Harness, Teams, peek


def inbox_rows(h: Harness) -> list[tuple[int, str | None, str | None, int]]:
    with peek(h.config) as conn:
        return list(
            conn.execute(
                "SELECT update_id, payload, handled_at, deliveries FROM inbox ORDER BY update_id"
            )
        )


def replies_to(h: Harness, chat_id: int, message_id: int) -> list[str]:
    return [m.text or "" for m in h.model.bot_messages(chat_id) if m.reply_to == message_id]


async def sweep(h: Harness) -> None:
    for work in DUE_WORK:
        await work.run(h.services)


async def test_an_update_telegram_delivers_again_is_handled_once(team: Teams) -> None:
    h, d = await team("ST")
    await h.say(ST, ANNA, "/propose 7d Wir streichen den Zaun")
    sent = h.model.send_message(ST, BERT, "/members")
    h.model.press_button(ST, d.card(ST, 1).message_id, CARL, button_text="Zustimmung")
    delivered = h.model.pending_updates
    await h.settle()
    assert len(replies_to(h, ST, sent["message_id"])) == 1
    answers = len(h.model.calls_of("answerCallbackQuery"))

    # The confirmation never reached Telegram (a kill, a dropped connection): it delivers
    # the same updates again.
    h.model.deliver_again(delivered)
    await h.settle()

    assert len(replies_to(h, ST, sent["message_id"])) == 1  # not a second member list
    assert len(h.model.calls_of("answerCallbackQuery")) == answers  # not answered twice
    rows = {row[0]: row for row in inbox_rows(h)}
    for update in delivered:
        _, payload, handled_at, deliveries = rows[update.update_id]
        assert handled_at is not None and payload is None and deliveries == 2


async def test_what_a_stop_left_unhandled_is_handled_at_start_once_in_order(
    team: Teams,
) -> None:
    h, d = await team("ST")
    await h.say(ST, ANNA, "/propose 7d Wir streichen den Zaun")
    card = d.card(ST, 1)
    await h.stop()
    # What a killed process leaves: updates stored (a getUpdates answer, as Telegram sent it)
    # and never handled; Telegram has them confirmed and will not send them again.
    sent = h.model.send_message(ST, BERT, "/members")
    h.model.press_button(ST, card.message_id, CARL, button_text="Einwand")
    h.model.press_button(ST, card.message_id, CARL, button_text="Zustimmung")  # changed mind
    updates = h.model.pending_updates
    answer = json.dumps({"ok": True, "result": [u.to_dict() for u in updates]})
    db = Database(h.config.database)
    await db.open()
    try:
        await Inbox(db).receive(answer, h.clock.now() if h.clock else datetime.now(UTC))
    finally:
        await db.close()
    # Confirmed, as the killed process's next getUpdates did: Telegram will not send them again.
    await h.model.call("getUpdates", {"offset": updates[-1].update_id + 1, "timeout": 0})
    assert not h.model.pending_updates

    again = Harness(h.model, h.config, clock=h.clock)
    await again.start()
    try:
        await again.settle()
        assert len(replies_to(again, ST, sent["message_id"])) == 1
        # Both of Carl's presses were handled, in update_id order: his last one stands.
        with peek(h.config) as conn:
            stored = conn.execute("SELECT choice FROM responses").fetchall()
        assert stored == [("agree",)]
        assert all(row[2] is not None and row[1] is None for row in inbox_rows(again))
    finally:
        await again.stop()


async def test_handled_update_ids_are_forgotten_after_two_days(team: Teams) -> None:
    h, _ = await team("ST")
    await h.say(ST, ANNA, "/members")
    assert inbox_rows(h)
    assert isinstance(h.clock, ManualClock)
    h.clock.advance(KEEP_HANDLED.total_seconds() - 60)
    await sweep(h)
    assert inbox_rows(h)  # still within the window in which Telegram may deliver again
    h.clock.advance(120)
    await sweep(h)
    assert inbox_rows(h) == []


async def test_an_answer_the_inbox_could_not_store_is_not_confirmed_and_comes_again(
    team: Teams,
) -> None:
    h, _ = await team("ST")
    store = h.services.storage.inbox
    receive = store.receive
    failures = []

    async def fails_once(answer: str, now: datetime) -> Received:
        if not failures and "/members" in answer:
            failures.append(answer)
            raise sqlite3.OperationalError("disk I/O error")
        return await receive(answer, now)

    store.receive = fails_once  # type: ignore[method-assign]
    sent = h.model.send_message(ST, BERT, "/members")
    await h.settle(limit=10)  # PTB waits a second after the failed getUpdates
    assert failures  # the first answer with it could not be stored: it was not confirmed …
    assert len(replies_to(h, ST, sent["message_id"])) == 1  # … came again, and was handled once


async def test_an_update_with_a_number_beyond_64_bits_is_skipped_one_with_long_digits_is_not(
    team: Teams,
) -> None:
    # No Telegram sends a number beyond 64 bits (SQLite could not store it): the inbox reads
    # each update once, from the JSON it came as, and skips such a one, marked handled. A long
    # number in a text is no such number: that message is answered.
    h, _ = await team("ST")
    huge = {"message_id": 10**30, "date": 1, "chat": {"id": ST, "type": "supergroup"}}
    forged = h.model.send_odd_message(
        ST, "/members", from_user=h.model.user_dict(ANNA), fields={"reply_to_message": huge}
    )
    digits = h.model.send_message(ST, BERT, "/members 1234567890123456789012345")
    await h.settle()

    assert replies_to(h, ST, forged["message_id"]) == []
    assert len(replies_to(h, ST, digits["message_id"])) == 1
    assert all(handled_at is not None for _, _, handled_at, _ in inbox_rows(h))
    assert not h.model.pending_updates


def test_nineteen_digits_in_a_row_are_what_makes_the_inbox_look_number_by_number() -> None:
    assert has_long_digits(b'{"update_id":1234567890123456789}')
    assert has_long_digits(b'{"id":-99999999999999999999}')
    assert not has_long_digits(b'{"id":-123456789012345678,"date":1764000000}')
    assert not has_long_digits(b'{"text":"123456789 1234567890"}')  # two numbers, not one
    assert not has_long_digits(b"")
