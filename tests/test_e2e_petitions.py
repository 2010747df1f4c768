"""End to end: Anliegen. A petition raised privately reaches the PT chat as the bot's own new
message, with the sender's name or anonymously; PT members' replies reach the sender, and the
sender's answers reach the PT — and an anonymous sender stays unknown to the PT throughout."""

from __future__ import annotations

import json
from typing import Any

from telegram import Update

from localapi.records import MessageRec
from tests.harness import ANNA, BERT, CARL, EVE, PT, DecisionSteps, Harness

# Someone in no team whose name, username and id are easy to look for.
HENRIKE = 987654321
HENRIKE_TRACES = ("Henrike", "Zappelmann", "henri_zapp", str(HENRIKE))


async def press(h: Harness, user_id: int, message: MessageRec, label: str) -> dict[str, Any]:
    query = h.model.press_button(user_id, message.message_id, user_id, button_text=label)
    answer = await h.model.wait_callback_answer(query)
    await h.settle()
    return answer


async def press_data(h: Harness, user_id: int, message: MessageRec, data: str) -> dict[str, Any]:
    """A press with data the current keyboard no longer shows (a stale client, or forged)."""
    query = h.model.press_button(
        user_id, message.message_id, user_id, callback_data=data, forge=True
    )
    answer = await h.model.wait_callback_answer(query)
    await h.settle()
    return answer


def petition_posts(h: Harness) -> list[MessageRec]:
    return [m for m in h.model.bot_messages(PT) if "Anliegen #" in (m.text or "")]


def last(h: Harness, chat_id: int) -> MessageRec:
    message = h.model.last_bot_message(chat_id)
    assert message is not None
    return message


async def test_a_named_petition_reaches_the_pt_and_the_answer_reaches_the_sender(
    net: tuple[Harness, DecisionSteps],
) -> None:
    h, _ = net
    ask = await h.say(EVE, EVE, "/anliegen")
    assert ask is not None and "Schreib mir dein Anliegen" in ask.text
    choice = await h.say(EVE, EVE, "Die Treffen liegen immer zu spät am Abend.")
    assert choice is not None and "Die Treffen liegen" in choice.text
    assert choice.button_texts == ["Mit meinem Namen", "Anonym", "Abbrechen"]
    answer = await press(h, EVE, choice, "Mit meinem Namen")
    assert "angekommen" in answer["text"]

    (post,) = petition_posts(h)
    assert "Anliegen #1 von Eve (@eve)" in post.text
    assert "Die Treffen liegen immer zu spät am Abend." in post.text
    # A new message of the bot's own, never a forward (which would carry the sender).
    assert post.by_bot and not h.model.calls_of("forwardMessage")
    confirmation = h.model.find_message(EVE, choice.message_id)
    assert "mit deinem Namen" in confirmation.text and not confirmation.buttons

    ack = await h.say(PT, ANNA, "Danke! Ab Mai fangen wir früher an.", reply_to=post.message_id)
    assert ack is not None and "Deine Antwort auf Anliegen #1 ist zugestellt" in ack.text
    delivered = last(h, EVE)
    assert "Antwort des Projektteams" in delivered.text and "von Anna" in delivered.text
    assert "Danke! Ab Mai fangen wir früher an." in delivered.text


async def test_an_anonymous_petition_never_reveals_its_sender_to_the_pt(
    net: tuple[Harness, DecisionSteps],
) -> None:
    h, _ = net
    h.model.add_user(HENRIKE, "Henrike", last_name="Zappelmann", username="henri_zapp")
    choice = await h.say(
        HENRIKE, HENRIKE, "/anliegen Ich fühle mich bei den Abstimmungen übergangen."
    )
    assert choice is not None
    await press(h, HENRIKE, choice, "Anonym")
    (post,) = petition_posts(h)
    assert "Anliegen #1 (anonym)" in post.text
    assert "Ich fühle mich bei den Abstimmungen übergangen." in post.text
    assert "anonym: dort erfährt niemand" in h.model.find_message(HENRIKE, choice.message_id).text

    # Bert answers; Henrike answers the answer; Anna answers that follow-up.
    await h.say(PT, BERT, "Magst du erzählen, was passiert ist?", reply_to=post.message_id)
    delivered = last(h, HENRIKE)
    assert "Magst du erzählen, was passiert ist?" in delivered.text and "von Bert" in delivered.text
    sent = await h.say(
        HENRIKE, HENRIKE, "Mein Einwand zu #3 kam nie vor.", reply_to=delivered.message_id
    )
    assert sent is not None and "weitergegeben" in sent.text
    follow_up = last(h, PT)
    assert "Nachtrag zu Anliegen #1 (anonym)" in follow_up.text
    assert "Mein Einwand zu #3 kam nie vor." in follow_up.text
    assert follow_up.reply_to == post.message_id
    await h.say(PT, ANNA, "Wir schauen uns #3 an.", reply_to=follow_up.message_id)
    assert "Wir schauen uns #3 an." in last(h, HENRIKE).text and "von Anna" in last(h, HENRIKE).text

    # Everything the PT can see: its chat (including what /beschluesse, /offen and /export
    # show there, and the links behind names), and the record's entries for the team.
    for command in ("/beschluesse", "/offen", "/export"):
        await h.say(PT, ANNA, command)
    seen = [h.model.transcript(PT)]
    seen += [
        json.dumps(call.params, ensure_ascii=False, default=str)
        for call in h.model.calls
        if str(call.params.get("chat_id")) == str(PT)
    ]
    seen += [m.document.data.decode("utf-8", "replace") for m in h.model.messages(PT) if m.document]
    for text in seen:
        for trace in HENRIKE_TRACES:
            assert trace.lower() not in text.lower(), trace
    # The record of events, which no chat shows, has nothing of her either.
    henrike = await h.services.storage.people.by_telegram_id(HENRIKE)
    assert henrike is not None
    record = await h.services.storage.db.fetchall(
        "SELECT * FROM events WHERE actor_id = ? OR subject_id = ?", (henrike.id, henrike.id)
    )
    assert record == []


async def test_a_petition_is_private_within_its_length_and_posted_once(
    net: tuple[Harness, DecisionSteps],
) -> None:
    h, _ = net
    # In a group: the text is neither repeated nor left standing.
    h.model.send_message(PT, EVE, "/anliegen Carl ist immer so laut.")
    await h.settle()
    said = h.model.messages(PT)[-2]
    assert said.deleted
    answer = last(h, PT)
    assert "nur privat" in answer.text and "gelöscht" in answer.text
    assert "laut" not in answer.text
    answer = await h.say(PT, EVE, "/anliegen")
    assert answer is not None and "nur privat" in answer.text and "gelöscht" not in answer.text

    answer = await h.say(EVE, EVE, "/anliegen " + "x" * 3501)
    assert answer is not None and "zu lang (höchstens 3500 Zeichen)" in answer.text

    # Cancelled: nothing goes anywhere; its buttons are stale afterwards.
    choice = await h.say(EVE, EVE, "/anliegen Doch nicht.")
    assert choice is not None
    named = choice.buttons[0][0]["callback_data"]
    answer = await press(h, EVE, choice, "Abbrechen")
    assert "Abgebrochen" in answer["text"] and not choice.buttons
    answer = await press_data(h, EVE, choice, named)
    assert "gilt nicht mehr" in answer["text"] and answer["show_alert"]
    assert petition_posts(h) == []

    # Pressed twice (a double tap, or a client still showing the buttons): posted once.
    choice = await h.say(EVE, EVE, "/anliegen Einmal reicht.")
    assert choice is not None
    named = choice.buttons[0][0]["callback_data"]
    await press(h, EVE, choice, "Anonym")
    answer = await press_data(h, EVE, choice, named)
    assert "schon beim Projektteam" in answer["text"]
    (post,) = petition_posts(h)
    assert "(anonym)" in post.text

    # Forged or foreign data.
    for data in ("c1:999:a", "c1:1:z", "c1:x"):
        answer = await press_data(h, EVE, choice, data)
        assert "gilt nicht mehr" in answer["text"]


async def test_no_petition_before_the_pt_exists(h: Harness) -> None:
    answer = await h.say(EVE, EVE, "/anliegen Hallo?")
    assert answer is not None and "noch kein Projektteam" in answer.text


async def test_a_reply_from_outside_the_pt_is_not_passed_on(
    net: tuple[Harness, DecisionSteps],
) -> None:
    h, _ = net
    choice = await h.say(CARL, CARL, "/anliegen Wer entscheidet über das Budget?")
    assert choice is not None
    await press(h, CARL, choice, "Mit meinem Namen")
    (post,) = petition_posts(h)
    before = len(h.model.bot_messages(CARL))
    # Eve is in the PT's chat but not on its roster.
    answer = await h.say(PT, EVE, "Ich weiß es!", reply_to=post.message_id)
    assert answer is not None and "nur, wer im Projektteam eingetragen ist" in answer.text
    assert len(h.model.bot_messages(CARL)) == before


async def test_a_sender_who_blocked_the_bot_is_reported_to_the_pt_member(
    net: tuple[Harness, DecisionSteps],
) -> None:
    h, _ = net
    choice = await h.say(CARL, CARL, "/anliegen Bitte mehr Pausen.")
    assert choice is not None
    await press(h, CARL, choice, "Mit meinem Namen")
    (post,) = petition_posts(h)
    h.model.block_bot(CARL)
    await h.settle()
    answer = await h.say(PT, ANNA, "Machen wir!", reply_to=post.message_id)
    assert answer is not None and "konnte ich nicht zustellen" in answer.text


async def test_a_petition_carries_on_across_restarts(net: tuple[Harness, DecisionSteps]) -> None:
    h, _ = net
    choice = await h.say(EVE, EVE, "/anliegen Über Nacht gefragt.")
    assert choice is not None
    await h.stop()
    again = Harness(h.model, h.config, clock=h.clock)
    await again.start()
    try:
        await press(again, EVE, choice, "Anonym")
        (post,) = petition_posts(again)
        assert "Über Nacht gefragt." in post.text
    finally:
        await again.stop()
    third = Harness(h.model, h.config, clock=h.clock)
    await third.start()
    try:
        answer = await third.say(PT, ANNA, "Gute Frage.", reply_to=post.message_id)
        assert answer is not None and "zugestellt" in answer.text
        assert "Gute Frage." in last(third, EVE).text
    finally:
        await third.stop()


async def test_a_petition_chosen_but_not_yet_posted_when_the_bot_stopped_is_posted_once(
    net: tuple[Harness, DecisionSteps],
) -> None:
    h, _ = net
    choice = await h.say(EVE, EVE, "/anliegen Ging beim Absturz fast verloren.")
    assert choice is not None
    # The choice is stored with its post, which then waits in the outbox (Telegram says
    # "too many requests" for a minute) when the bot stops.
    h.model.fail_next("sendMessage", 429, retry_after=60)
    await press(h, EVE, choice, "Anonym")
    assert petition_posts(h) == []
    await h.stop()
    for _ in range(2):
        again = Harness(h.model, h.config, clock=h.clock)
        await again.start()
        try:
            await again.settle()
        finally:
            await again.stop()
        (post,) = petition_posts(again)
        assert "Ging beim Absturz fast verloren." in post.text and "Eve" not in post.text


async def test_a_reason_asked_for_after_a_petition_is_answered_first(
    net: tuple[Harness, DecisionSteps],
) -> None:
    h, d = net
    h.model.start_bot(ANNA)
    await h.settle()
    ask = await h.say(ANNA, ANNA, "/anliegen")
    assert ask is not None and "Schreib mir dein Anliegen" in ask.text
    await h.say(PT, BERT, "/vorschlag 1d Neue Stühle")
    await d.press(PT, 1, ANNA, "object")
    assert "#1" in last(h, ANNA).text  # the bot asks Anna for her reason
    saved = await h.say(ANNA, ANNA, "Die alten sind noch gut.")
    assert saved is not None and "Begründung zu #1 ist gespeichert" in saved.text
    choice = await h.say(ANNA, ANNA, "Und mein eigentliches Anliegen.")
    assert choice is not None and choice.button_texts[:2] == ["Mit meinem Namen", "Anonym"]


async def test_edits_change_nothing(net: tuple[Harness, DecisionSteps]) -> None:
    """An edited reply is not passed on again, an edited command not run again — whether
    Telegram holds the edit back (not asked for) or delivers it anyway."""
    h, _ = net
    choice = await h.say(EVE, EVE, "/anliegen Zu späte Treffen")
    assert choice is not None
    await press(h, EVE, choice, "Anonym")
    (post,) = petition_posts(h)
    answer = h.model.send_message(PT, ANNA, "Danke, wir schauen", reply_to=post.message_id)
    command = h.model.send_message(PT, BERT, "/vorschlag 1d Neue Stühle")
    await h.settle()
    said = (len(h.bot_texts(EVE)), len(h.bot_texts(PT)))
    h.model.edit_user_message(PT, answer["message_id"], "Danke, wir schauen es uns an")
    h.model.edit_user_message(PT, command["message_id"], "/vorschlag 1d Neue Tische")
    await h.settle()
    # Delivered anyway (a deployment asking for edits): the guard stops them.
    edited = Update.de_json(
        {
            "update_id": 999_999,
            "edited_message": {
                "message_id": command["message_id"],
                "date": 0,
                "edit_date": 1,
                "chat": {"id": PT, "type": "supergroup", "title": "PT"},
                "from": {"id": BERT, "is_bot": False, "first_name": "Bert"},
                "text": "/vorschlag 1d Neue Tische",
                "entities": [{"type": "bot_command", "offset": 0, "length": 10}],
            },
        },
        h.app.bot,
    )
    await h.app.process_update(edited)
    await h.settle()
    assert (len(h.bot_texts(EVE)), len(h.bot_texts(PT))) == said
    listing = await h.say(PT, ANNA, "/offen")
    assert listing is not None and "#1 „Neue Stühle“" in listing.text
    assert "#2" not in listing.text and "Tische" not in listing.text


async def test_a_photo_while_the_petition_waits_for_its_text_gets_an_answer(
    net: tuple[Harness, DecisionSteps],
) -> None:
    h, _ = net
    ask = await h.say(EVE, EVE, "/anliegen")
    assert ask is not None
    photo = Update.de_json(
        {
            "update_id": 999_998,
            "message": {
                "message_id": 9_999,
                "date": 0,
                "chat": {"id": EVE, "type": "private", "first_name": "Eve"},
                "from": {"id": EVE, "is_bot": False, "first_name": "Eve", "language_code": "de"},
                "photo": [{"file_id": "x", "file_unique_id": "y", "width": 1, "height": 1}],
            },
        },
        h.app.bot,
    )
    await h.app.process_update(photo)
    await h.settle()
    assert "nur Textnachrichten" in last(h, EVE).text
    choice = await h.say(EVE, EVE, "Dann eben als Text.")  # the petition still waits for it
    assert choice is not None and choice.button_texts[:2] == ["Mit meinem Namen", "Anonym"]
