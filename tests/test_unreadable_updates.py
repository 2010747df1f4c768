"""An update python-telegram-bot cannot read (SPEC §9): Telegram sends fields a library
version does not know yet, or requires fields it left out — seen: a poll answer without the
`option_persistent_ids` python-telegram-bot 22.8 requires. Left alone, the library drops the
whole getUpdates answer and fetches the same batch again, forever: the bot would handle
nothing any more. Here the one unreadable update is stored, marked handled, logged once (its
update_id, no personal data) and skipped; the rest of its batch is handled, the offset moves
past it, and the bot keeps answering — in this process, on the local Bot API."""

from __future__ import annotations

import logging

import pytest
from telegram import Update

from bot.telegram_side.inbox import read_update, unreadable_because
from bot.texts.i18n import t
from tests.harness import ANNA, BERT, CARL, ST, Harness, Teams, peek

SECRET = "Anna Geheimname"


def unreadable_poll_answer(user_id: int) -> dict[str, object]:
    """A poll answer as a newer Bot API sends it to a library that wants another field."""
    return {
        "poll_id": "5012345678901234567",
        "user": {"id": user_id, "is_bot": False, "first_name": SECRET},
        "option_ids": [0],
    }


def replies_to(h: Harness, chat_id: int, message_id: int) -> list[str]:
    return [m.text or "" for m in h.model.bot_messages(chat_id) if m.reply_to == message_id]


def inbox_row(h: Harness, update_id: int) -> tuple[str | None, str | None]:
    with peek(h.config) as conn:
        row = conn.execute(
            "SELECT payload, handled_at FROM inbox WHERE update_id = ?", (update_id,)
        ).fetchone()
    assert row is not None, "the unreadable update is not in the inbox"
    return row[0], row[1]


def test_the_shape_seen_is_unreadable_to_this_python_telegram_bot() -> None:
    # If a later python-telegram-bot reads it, the tests below would prove nothing: say so.
    update = {"update_id": 1, "poll_answer": unreadable_poll_answer(ANNA)}
    assert unreadable_because(update) == "TypeError"
    assert unreadable_because({"update_id": 1, "message": {"message_id": "x"}}) is not None
    assert unreadable_because({"update_id": 1}) is None


async def test_an_unreadable_update_between_two_good_ones_is_skipped_and_both_are_handled(
    team: Teams, caplog: pytest.LogCaptureFixture
) -> None:
    h, _ = await team("ST")
    caplog.set_level(logging.INFO)
    first = h.model.send_message(ST, BERT, "/members")
    bad = h.model.inject_update("poll_answer", unreadable_poll_answer(ANNA))
    second = h.model.send_message(ST, CARL, "/members")
    await h.settle()

    assert len(replies_to(h, ST, first["message_id"])) == 1
    assert len(replies_to(h, ST, second["message_id"])) == 1
    assert not h.model.pending_updates  # the offset moved past all three
    payload, handled_at = inbox_row(h, bad)
    assert handled_at is not None and payload is None  # stored, marked, nothing of it kept
    warnings = [r for r in caplog.records if "update_unreadable" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert f"update_id={bad}" in warnings[0].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert SECRET not in caplog.text  # python-telegram-bot's CRITICAL would print the data

    # The bot keeps answering.
    later = await h.say(ST, BERT, "/members")
    assert later is not None


async def test_an_unreadable_update_last_in_its_batch_or_alone_moves_the_offset(
    team: Teams, caplog: pytest.LogCaptureFixture
) -> None:
    h, _ = await team("ST")
    sent = h.model.send_message(ST, BERT, "/members")
    h.model.inject_update("poll_answer", unreadable_poll_answer(ANNA))
    await h.settle()
    assert len(replies_to(h, ST, sent["message_id"])) == 1
    assert not h.model.pending_updates

    alone = h.model.inject_update("poll_answer", unreadable_poll_answer(CARL))
    await h.settle()
    assert not h.model.pending_updates
    assert inbox_row(h, alone)[1] is not None
    assert await h.say(ST, CARL, "/members") is not None


async def test_an_unreadable_update_delivered_again_is_not_logged_again(
    team: Teams, caplog: pytest.LogCaptureFixture
) -> None:
    h, _ = await team("ST")
    caplog.set_level(logging.INFO)
    sent = h.model.send_message(ST, BERT, "/members")
    h.model.inject_update("poll_answer", unreadable_poll_answer(ANNA))
    delivered = h.model.pending_updates
    await h.settle()
    h.model.deliver_again(delivered)  # the confirmation never reached Telegram
    await h.settle()

    assert not h.model.pending_updates
    assert len(replies_to(h, ST, sent["message_id"])) == 1
    warnings = [r for r in caplog.records if "update_unreadable" in r.getMessage()]
    assert len(warnings) == 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def without_text(button: dict[str, object]) -> dict[str, object]:
    """A keyboard button as this python-telegram-bot cannot read it: without its text (as
    when Telegram moves a field a library version requires)."""
    return {key: value for key, value in button.items() if key != "text"}


def test_the_keyboard_seen_on_a_press_is_unreadable_to_this_python_telegram_bot() -> None:
    # If python-telegram-bot read it, the test below would prove nothing: say so. The bot
    # does not read a pressed button's message's keyboard at all (inbox.read_update).
    message = {
        "message_id": 5,
        "date": 0,
        "chat": {"id": ST, "type": "supergroup", "title": "ST"},
        "text": "Karte",
        "reply_markup": {"inline_keyboard": [[without_text({"text": "x", "callback_data": "1"})]]},
    }
    query = {"id": "1", "from": {"id": ANNA, "is_bot": False, "first_name": "Anna"}}
    update = {"update_id": 1, "callback_query": {**query, "chat_instance": "1", "message": message}}
    with pytest.raises(TypeError):
        Update.de_json(update, None)
    assert unreadable_because(update) is None
    read = read_update(update, None)
    assert read.callback_query is not None and read.callback_query.message is not None
    assert read.callback_query.message.message_id == 5
    assert read.callback_query.message.chat.id == ST


async def test_a_press_on_a_card_whose_keyboard_it_cannot_read_is_recorded_and_answered(
    team: Teams, caplog: pytest.LogCaptureFixture
) -> None:
    h, d = await team("ST")
    await h.say(ST, ANNA, "/propose 7d Wir streichen den Zaun")
    card = d.card(ST, 1)
    agree = t("de", "choice.agree")
    query = h.model.press_button(ST, card.message_id, BERT, button_text=agree)
    [update] = h.model.pending_updates
    keyboard = update.payload["message"]["reply_markup"]["inline_keyboard"]
    keyboard[0] = [without_text(button) for button in keyboard[0]]

    answer = await h.model.wait_callback_answer(query)
    await h.settle()
    assert answer["text"] == t("de", "press.recorded", choice=agree)
    with peek(h.config) as conn:
        stored = conn.execute(
            "SELECT r.choice FROM responses r JOIN people p ON p.id = r.person_id"
            " WHERE p.telegram_id = ?",
            (BERT,),
        ).fetchall()
    assert [row[0] for row in stored] == ["agree"]
    assert not [r for r in caplog.records if "update_unreadable" in r.getMessage()]
