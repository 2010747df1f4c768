"""The words that lead on (issue 12.4, 12.7, 12.10): setting up a team says the steps in the
order that works, confirmations echo what was stored, asking for a reason works for someone
who never opened the bot, and the way into an Anliegen opens its first question."""

from __future__ import annotations

import re

import pytest

from bot.charter.outcomes import Response
from bot.charter.teams import MAX_TEAM_NAME
from bot.texts.i18n import catalogue, t
from handlers.common import MAX_ANSWER
from tests.harness import ADMIN, ANNA, BERT, CARL, EVE, PT, ST, Harness, Teams


async def test_setting_up_a_team_says_first_to_write_then_to_admit(h: Harness) -> None:
    reply = await h.say(PT, ADMIN, "/setup PT Projektteam")
    assert reply is not None and reply.text
    text = reply.text
    # The bot knows only who has written or opened it: that comes first, then /aufnehmen.
    write = text.index("schreiben")
    assert write < text.index("/aufnehmen")
    assert "/start" in text  # or opened the bot
    assert "Sitz" not in text  # seats are the ST's


async def test_setting_up_the_steering_team_says_every_member_needs_a_seat(h: Harness) -> None:
    reply = await h.say(ST, ADMIN, "/setup ST Steuerungsteam")
    assert reply is not None and reply.text
    text = reply.text
    assert text.index("schreiben") < text.index("/aufnehmen")
    assert "Sitz" in text
    assert re.search(r"/aufnehmen @\w+ (politik|verwaltung|zivilgesellschaft|ut)\b", text)


def test_the_set_up_steps_have_the_same_placeholders_in_both_languages() -> None:
    for key in ("setup.next.explicit", "setup.next.chat", "setup.next.seat"):
        assert key in catalogue("de") and key in catalogue("en")
    assert "{seat}" in catalogue("de")["setup.next.explicit"]
    assert "/admit" in catalogue("en")["setup.next.seat"]


async def test_admitting_to_a_seat_echoes_the_seat_and_the_body(h: Harness) -> None:
    await h.bind(ST, "ST", "Steuerungsteam")
    await h.say(ST, ANNA, "Hallo")
    reply = await h.admit(ST, "anna", "politik", "Stadtbezirksbeirat", "Alt-West")
    assert reply.text is not None and "✅" in reply.text
    assert "Politik" in reply.text and "Stadtbezirksbeirat Alt-West" in reply.text


async def test_recording_a_delegation_echoes_the_seat_and_the_body(net) -> None:
    h, _ = net
    reply = await h.say(ST, ADMIN, "/delegate @eve verwaltung Amt für Stadtgrün")
    assert reply is not None and reply.text
    assert "Verwaltung" in reply.text and "Amt für Stadtgrün" in reply.text


async def test_a_reason_asked_of_someone_who_never_opened_the_bot(team: Teams) -> None:
    h, d = await team("ST")
    await h.say(ST, ANNA, "/vorschlag 1d Neue Bänke für den Hof")
    answer = await d.press(ST, 1, CARL, "object")
    # The toast says what to do: tap Starten and write it, or reply to the card.
    assert "Einwand" in answer["text"] and "Starten" in answer["text"]
    assert "Karte" in answer["text"]
    assert answer["url"] == "https://t.me/wiq_test_bot?start=reason_1"
    assert len(answer["text"]) <= 200
    # Starten lands Carl in the question: which proposal, and who will see the reason.
    h.model.start_bot(CARL, payload="reason_1")
    await h.settle()
    question = h.bot_texts(CARL)[-1]
    assert "#1" in question and "Neue Bänke für den Hof" in question
    assert "Namen" in question
    reply = await h.say(CARL, CARL, "Zu teuer")
    assert reply is not None and "gespeichert" in (reply.text or "")


async def test_the_question_for_a_concern_names_the_proposal_too(team: Teams) -> None:
    h, d = await team("ST")
    h.model.start_bot(BERT)
    await h.settle()
    await h.say(ST, ANNA, "/vorschlag 1d Hoffest im Mai")
    answer = await d.press(ST, 1, BERT, "concern")
    assert "privat" in answer["text"]
    question = h.bot_texts(BERT)[-1]
    assert "Hoffest im Mai" in question and "Namen" in question


async def test_the_question_in_a_later_round_names_the_proposal_as_revised(team: Teams) -> None:
    """After /ueberarbeiten, the question for a reason names the title the team now reads,
    not the one the proposal started with."""
    h, d = await team("ST")
    h.model.start_bot(BERT)
    await h.settle()
    await h.say(ST, ANNA, "/vorschlag 1d Hoffest im Mai")
    await d.press(ST, 1, BERT, "object")
    await h.say(BERT, BERT, "Im Mai ist der Hof eine Baustelle.")
    await h.due(86400 + 60)
    await h.say(ST, ANNA, "/ueberarbeiten 1 Hoffest im Juni")
    await d.press(ST, 1, BERT, "object", round_number=2)
    question = h.bot_texts(BERT)[-1]
    assert "Hoffest im Juni" in question and "Hoffest im Mai" not in question, question


async def test_the_link_from_a_group_opens_the_first_question_of_an_anliegen(net) -> None:
    h, _ = net
    await h.say(PT, EVE, "/anliegen")
    answer = h.bot_texts(PT)[-1]
    links = re.findall(r"https://t\.me/\S+", answer)
    assert links == ["https://t.me/wiq_test_bot?start=petition"]
    h.model.start_bot(EVE, payload="petition")
    await h.settle()
    question = h.bot_texts(EVE)[-1]
    assert "Worum geht es?" in question
    # Who will read it: the PT (Anna and Bert), by number.
    assert "Projektteam (2 Personen)" in question
    await h.say(EVE, EVE, "Der Hof ist abends zu laut.")
    choice = h.bot_texts(EVE)[-1]
    assert "Projektteam (2 Personen)" in choice and "Anonym" in choice


async def test_free_text_with_nothing_asked_offers_an_anliegen(h: Harness) -> None:
    h.model.start_bot(EVE)
    await h.settle()
    reply = await h.say(EVE, EVE, "Ich hätte da mal was")
    assert reply is not None and "/anliegen" in (reply.text or "")


async def test_personal_data_in_a_group_links_the_bare_private_chat(net) -> None:
    h, _ = net
    reply = await h.say(PT, ANNA, "/meinedaten")
    assert reply is not None and reply.text
    assert re.findall(r"https://t\.me/\S+", reply.text) == ["https://t.me/wiq_test_bot"]


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_answers_to_a_press_keep_their_next_step_within_a_toast(lang: str) -> None:
    """Telegram shows at most 200 characters of a press's answer: the next step must fit, with
    the longest choice and the longest team name."""
    longest = max((t(lang, f"choice.{r.value}") for r in Response), key=len)
    texts = [
        t(lang, "press.reason_start", choice=longest),
        t(lang, "press.reason_private", choice=longest),
        t(lang, "press.not_member", team="T" * MAX_TEAM_NAME),
        t(lang, "press.invalid"),
        t(lang, "press.closed"),
        t(lang, "press.next_round"),
    ]
    for text in texts:
        assert len(text) <= MAX_ANSWER, text
