"""End to end in an English-speaking network (`language = "en"`): the main paths — a round
with its majority vote, a nomination, a reminder and the digests — speak English only."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cache

from bot.texts.i18n import catalogue
from tests.harness import (
    ADMIN,
    ANNA,
    BERT,
    CARL,
    DORA,
    EVE,
    PT,
    ST,
    UT,
    Harness,
    Teams,
)
from tests.test_e2e_digests import at

WORD = re.compile(r"[A-Za-zÄÖÜäöüß]{4,}")


@cache
def german_only_words() -> frozenset[str]:
    """Words of the German texts that no English text uses: any of them is German."""
    german = {w.lower() for text in catalogue("de").values() for w in WORD.findall(text)}
    english = {w.lower() for text in catalogue("en").values() for w in WORD.findall(text)}
    return frozenset(german - english)


def german_in(text: str) -> list[str]:
    found = [w for w in WORD.findall(text) if w.lower() in german_only_words()]
    found += [c for c in "äöüÄÖÜß" if c in text]
    return found


def everything_the_bot_said(h: Harness) -> list[str]:
    said = []
    for call in h.model.calls:
        params = call.params
        for key in ("text", "caption", "question"):
            if isinstance(params.get(key), str):
                said.append(params[key])
        for option in params.get("options") or []:
            said.append(option if isinstance(option, str) else str(option.get("text", "")))
        markup = params.get("reply_markup") or {}
        if isinstance(markup, dict):
            for row in markup.get("inline_keyboard", []):
                said.extend(button.get("text", "") for button in row)
        if call.method == "setMyCommands" and not params.get("language_code"):
            said.extend(c["description"] for c in params.get("commands", []))
    return said


def assert_english(h: Harness) -> None:
    said = everything_the_bot_said(h)
    assert said
    german = {text: german_in(text) for text in said if german_in(text)}
    assert not german, german


async def test_a_round_its_majority_vote_a_nomination_and_the_digests_speak_english(
    team: Teams,
) -> None:
    h, d = await team.network(language="en")
    for person in (CARL, DORA, EVE):
        h.model.start_bot(person)
    await h.settle()
    # A round with an objection, a revision, the objection again, then the vote.
    await h.say(ST, CARL, "/propose 2d Buy a projector for the neighbourhood hall")
    await d.press(ST, 1, DORA, "object")
    await h.say(DORA, DORA, "Too expensive this year")
    await d.press(ST, 1, CARL, "agree")
    await h.say(ST, CARL, "/revise 1 Rent a projector for the summer")
    await d.press(ST, 1, DORA, "object", round_number=2)
    await d.press(ST, 1, CARL, "agree", round_number=2)
    [poll] = [m for m in h.model.bot_messages(ST) if m.poll is not None]
    assert poll.poll.question.startswith("Majority vote on #1")
    h.model.answer_poll(poll.poll.id, CARL, [0])
    h.model.answer_poll(poll.poll.id, DORA, [2])
    await h.settle()
    assert any("Accepted" in text for text in h.bot_texts(ST))
    # A nomination: both teams approve, the candidate accepts.
    await h.say(PT, ANNA, "/nominate 2d @eve UT knows every solution team")
    for chat, proposal, people in ((PT, 2, (ANNA, BERT)), (ST, 3, (CARL, DORA))):
        for person in people:
            await d.press(chat, proposal, person, "agree")
    question = next(m for m in reversed(h.model.bot_messages(EVE)) if m.reply_markup)
    query = h.model.press_button(EVE, question.message_id, EVE, button_text="Accept")
    await h.model.wait_callback_answer(query)
    await h.settle()
    assert any("appointed" in text for text in h.bot_texts(UT))
    # An open round is reminded; the week's digests go out.
    await h.say(ST, DORA, "/propose 5d Plan the winter market")
    await h.due(4 * 86400 + 60)
    assert any("Reminder" in text for text in h.bot_texts(ST))
    await at(h, datetime(2026, 11, 9, 8, 0, tzinfo=UTC))
    assert any("weekly digest" in text.lower() for text in h.bot_texts(PT))
    for command in ("/open", "/decisions", "/digest", "/help", "/members"):
        await h.say(ST, CARL, command)
    await h.say(PT, ADMIN, "/export")
    assert_english(h)


def test_the_check_finds_german() -> None:
    assert german_in("Der Vorschlag wurde angenommen")
    assert german_in("Zustimmung")
    assert not german_in("The proposal was accepted")


async def test_seats_are_typed_in_english_too(team: Teams) -> None:
    h, _ = await team.network(language="en")
    h.model.send_message(ST, EVE, "Hello")
    await h.settle()
    refused = await h.say(ST, ADMIN, "/admit @eve senate")
    assert refused is not None
    assert "politics | administration | civil_society | ut" in (refused.text or "")
    admitted = await h.say(ST, ADMIN, "/admit @eve civil_society")
    assert admitted is not None and "✅" in (admitted.text or "")
    members = await h.say(ST, ADMIN, "/members")
    assert members is not None and "civil society" in (members.text or "").lower()
