"""End to end: a reason that comes after its round closed (SPEC §3.4). The last member's
Einwand closes the round at once; their reason, a moment later, is added to that round's
result in place, to the objection the next round carries on its card, to the record and to
/export, and they are told where it went. Once the proposal is decided, a reason is refused
kindly and nothing changes."""

from __future__ import annotations

import csv
import io

from bot.texts.i18n import Html
from localapi.records import MessageRec
from tests.harness import ANNA, BERT, CARL, DORA, PLAIN, ST, DecisionSteps, Harness, Teams

REASONS_COLUMN = "Begründungen (Einwände, Bedenken)"


def result_of(h: Harness, chat_id: int, proposal_id: int, round_number: int) -> MessageRec:
    """The result message of a round (its text as it is now, after any edit)."""
    headline = f"Ergebnis Runde {round_number} zu #{proposal_id} "
    found = [m for m in h.model.bot_messages(chat_id) if (m.text or "").startswith(headline)]
    assert len(found) == 1, [m.text for m in found]
    return found[0]


def link_to(chat_id: int, message_id: int) -> str:
    return f"https://t.me/c/{str(chat_id)[4:]}/{message_id}"


def links_in(message: MessageRec) -> list[str]:
    return [e["url"] for e in message.entities if e.get("type") == "text_link"]


async def bert_objects_last(h: Harness, d: DecisionSteps, round_number: int = 1) -> None:
    """Anna, Carl and Dora agree; Bert's Einwand, the last response, closes the round."""
    for user in (ANNA, CARL, DORA):
        await d.press(ST, 1, user, "agree", round_number=round_number)
    await d.press(ST, 1, BERT, "object", round_number=round_number)
    assert d.card(ST, 1, round_number).reply_markup is None  # closed at once


async def reasons_exported(h: Harness) -> str:
    asked = h.model.send_message(ST, CARL, "/exportieren")
    await h.settle()
    [table] = [
        m for m in h.model.bot_messages(ST) if m.document and m.message_id > asked["message_id"]
    ][:1]
    assert table.document is not None
    rows = list(csv.DictReader(io.StringIO(table.document.data.decode("utf-8-sig")), delimiter=";"))
    return rows[0][REASONS_COLUMN]


async def test_a_private_reason_after_round_one_closed_is_added_to_its_result(
    team: Teams,
) -> None:
    h, d = await team("ST")
    h.model.start_bot(BERT)
    await h.settle()
    await h.say(ST, ANNA, "/propose 1d Wir streichen den Zaun grün")
    await bert_objects_last(h, d)
    result = result_of(h, ST, 1, 1)
    assert "Bert: ohne Begründung" in result.text
    in_the_chat = len(h.model.bot_messages(ST))

    told = await h.say(BERT, BERT, "Grün beißt sich mit dem Spielplatz")
    await h.flush_edits()

    edited = result_of(h, ST, 1, 1)
    assert edited.message_id == result.message_id  # in place, no new message
    assert "Bert: Grün beißt sich mit dem Spielplatz (nachgetragen)" in edited.text
    assert "ohne Begründung" not in edited.text
    assert "/ueberarbeiten 1" in edited.text  # what happens next is still what it said
    assert len(h.model.bot_messages(ST)) == in_the_chat
    assert told is not None and "Runde 1 war da schon beendet" in told.text
    assert "nachgetragen" in told.text
    assert links_in(told) == [link_to(ST, result.message_id)]
    # The next round's card carries it, the record has it, the export shows it.
    await h.say(ST, ANNA, "/revise 1 Wir streichen den Zaun blau")
    card2 = d.card(ST, 1, round_number=2).text
    assert "Bert: Grün beißt sich mit dem Spielplatz – besteht" in card2
    team_ = await h.services.storage.teams.by_chat(ST)
    assert team_ is not None
    [event] = [
        e for e in await h.services.storage.events.for_team(team_.id) if e.kind == "round.reason"
    ]
    assert event.data["after_close"] is True
    assert event.data["reason"] == "Grün beißt sich mit dem Spielplatz"
    exported = await reasons_exported(h)
    assert exported == "Runde 1, Einwand: Grün beißt sich mit dem Spielplatz (nachgetragen)"


async def test_a_reply_to_the_card_after_round_two_opened_reaches_its_card_and_result(
    team: Teams,
) -> None:
    h, d = await team("ST")
    await h.say(ST, ANNA, "/propose 1d Sommerfest am 1. Juli")
    await bert_objects_last(h, d)
    await h.say(ST, ANNA, "/revise 1 Sommerfest am 8. Juli")  # before Bert's reason came
    assert "Bert: ohne Begründung – besteht" in d.card(ST, 1, round_number=2).text

    said = h.model.send_message(
        ST, BERT, "Da sind Ferien", reply_to=d.card(ST, 1, round_number=1).message_id
    )
    await h.settle()
    await h.flush_edits()

    told = h.reply_after(ST, said["message_id"])
    assert told is not None and told.reply_to == said["message_id"]
    assert "nachgetragen" in told.text and "Die Karte von Runde 2 führt sie" in told.text
    result1 = result_of(h, ST, 1, 1)
    assert links_in(told) == [link_to(ST, result1.message_id)]
    assert "Bert: Da sind Ferien (nachgetragen)" in result1.text
    assert "Bert: Da sind Ferien – besteht" in d.card(ST, 1, round_number=2).text
    # Bert stays silent in round 2: his objection stands with the reason he gave.
    for user in (ANNA, CARL, DORA):
        await d.press(ST, 1, user, "agree", round_number=2)
    await h.due(86400 + 1)
    assert "Bert: Da sind Ferien" in result_of(h, ST, 1, 2).text


async def test_in_round_two_the_result_and_the_card_agree_on_a_reason_given_after_the_close(
    team: Teams,
) -> None:
    h, d = await team("ST")
    h.model.start_bot(BERT)
    await h.settle()
    await h.say(ST, ANNA, "/propose 1d Neue Satzung")
    await d.press(ST, 1, BERT, "object")
    await h.say(BERT, BERT, "Zu lang")  # in time, while round 1 is open
    for user in (ANNA, CARL, DORA):
        await d.press(ST, 1, user, "agree")
    await h.say(ST, ANNA, "/revise 1 Neue Satzung, kürzer")
    await bert_objects_last(h, d, round_number=2)  # the last round: the vote starts
    assert h.model.bot_messages(ST)[-1].poll is not None
    assert "Bert: Zu lang" in result_of(h, ST, 1, 2).text

    told = await h.say(BERT, BERT, "Immer noch zu lang und unklar")
    await h.flush_edits()

    assert told is not None and "Runde 2 war da schon beendet" in told.text
    result2 = result_of(h, ST, 1, 2)
    assert links_in(told) == [link_to(ST, result2.message_id)]
    assert "Bert: Immer noch zu lang und unklar (nachgetragen)" in result2.text
    assert "Bert: Zu lang" not in result2.text
    card2 = d.card(ST, 1, round_number=2).text
    assert "Bert: Immer noch zu lang und unklar – besteht" in card2
    # The vote decides; a reason after that is refused kindly and changes nothing.
    poll = h.model.bot_messages(ST)[-1].poll
    assert poll is not None
    for user, option in ((ANNA, 0), (BERT, 1), (CARL, 0), (DORA, 0)):
        h.model.answer_poll(poll.id, user, [option])
    await h.settle()
    await h.due(61)  # the group's budget is spent by now: the result waited for it
    assert any(
        "Mehrheitsabstimmung zu #1" in text and "Angenommen" in text for text in h.bot_texts(ST)
    )
    said = h.model.send_message(ST, BERT, "Und noch was", reply_to=d.card(ST, 1, 2).message_id)
    await h.settle()
    await h.flush_edits()
    refused = h.reply_after(ST, said["message_id"])
    assert refused is not None and refused.reply_to == said["message_id"]
    assert "#1 ist schon entschieden (Beschluss: Angenommen)" in refused.text
    assert "Und noch was" not in result_of(h, ST, 1, 2).text
    assert "Und noch was" not in d.card(ST, 1, round_number=2).text


async def test_a_reason_for_a_decided_proposal_is_refused_kindly_and_nothing_changes(
    team: Teams,
) -> None:
    h, d = await team("ST")
    h.model.start_bot(DORA)
    await h.settle()
    await h.say(ST, ANNA, "/propose 1d Kaffee für alle")
    await d.press(ST, 1, CARL, "concern")  # Carl never started the bot
    for user in (ANNA, BERT):
        await d.press(ST, 1, user, "agree")
    await d.press(ST, 1, DORA, "concern")  # the last: Konsens, decided at once
    assert "Beschluss: Konsens" in result_of(h, ST, 1, 1).text

    refused = await h.say(DORA, DORA, "Nur fair gehandelt")
    assert refused is not None
    # Dora speaks English, so the bot does in her private chat.
    assert "#1 is already decided (decision: Consensus)" in refused.text
    assert "/propose" in refused.text
    h.model.start_bot(CARL, payload="reason_1")  # from the card's link, after the decision
    await h.settle()
    assert "#1 ist schon entschieden" in h.bot_texts(CARL)[-1]
    await h.flush_edits()
    result = result_of(h, ST, 1, 1).text
    assert "Dora: ohne Begründung" in result and "Nur fair" not in result
    responses = await h.services.storage.rounds.responses(1)
    assert all(r.reason is None for r in responses.values())
    again = await h.say(DORA, DORA, "Hallo?")  # the question was answered: nothing pending
    assert again is not None and "no open question" in again.text


async def test_a_reason_that_comes_while_the_result_waits_for_the_budget_goes_out_in_it(
    team: Teams,
) -> None:
    h, d = await team("ST")
    h.model.start_bot(BERT)
    await h.settle()
    await h.say(ST, ANNA, "/propose 1d Wir leihen uns einen Beamer")
    for user in (ANNA, CARL, DORA):
        await d.press(ST, 1, user, "agree")
    h.clock.advance(61)
    for number in range(h.services.outbox.group_per_minute):  # the group's minute is spent
        await h.services.outbox.send(ST, Html(f"Nachricht {number}"))
    before = len(h.model.bot_messages(ST))
    await d.press(ST, 1, BERT, "object")  # closes the round: the result has to wait
    assert len(h.model.bot_messages(ST)) == before

    told = await h.say(BERT, BERT, "Wir haben doch einen")
    assert told is not None and "nachgetragen" in told.text
    assert links_in(told) == []  # the result is not in the chat yet
    await h.due(61)  # the result goes out; then the edit that brings it up to date
    await h.flush_edits()

    result = result_of(h, ST, 1, 1)
    assert "Bert: Wir haben doch einen" in result.text
    assert "ohne Begründung" not in result.text


async def test_in_a_basic_group_the_person_is_told_where_without_a_link(team: Teams) -> None:
    h, d = await team("ST", chat=PLAIN)
    h.model.start_bot(BERT)
    await h.settle()
    await h.say(PLAIN, ANNA, "/propose 1d Ein Schild am Tor")
    for user in (ANNA, CARL, DORA):
        await d.press(PLAIN, 1, user, "agree")
    await d.press(PLAIN, 1, BERT, "object")
    told = await h.say(BERT, BERT, "Das Tor gehört der Stadt")
    await h.flush_edits()
    assert told is not None and links_in(told) == []
    assert "im Team-Chat in ihrem Ergebnis nachgetragen" in told.text
    assert "Bert: Das Tor gehört der Stadt (nachgetragen)" in result_of(h, PLAIN, 1, 1).text
