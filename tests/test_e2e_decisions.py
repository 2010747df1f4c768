"""End to end: consensus rounds, the automatic majority vote, and the proposer's requests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import ManualClock
from tests.harness import (
    ADMIN,
    ANNA,
    BERT,
    CARL,
    DORA,
    EVE,
    ST,
    DecisionSteps,
    Harness,
    make_config,
    make_model,
)

MEMBERS = {ANNA: "anna", BERT: "bert", CARL: "Carl", DORA: "dora"}


@pytest.fixture
async def st(tmp_path: Path) -> AsyncIterator[tuple[Harness, DecisionSteps]]:
    """An ST with Anna, Bert, Carl and Dora; Eve is in the chat but not on the roster."""
    clock = ManualClock()
    config = make_config(tmp_path, extra='[policy]\nmin_deadline = "1s"\n')
    h = Harness(make_model(clock=clock.monotonic), config, clock=clock)
    h.model.group_limit_per_minute = None  # these tests are about decisions, not flood limits
    await h.start()
    await h.bind(ST, "ST", "Steuerungsteam")
    for user in MEMBERS:
        h.model.send_message(ST, user, "Hallo")
    await h.settle()
    for user, username in MEMBERS.items():
        if user == CARL:
            continue
        await h.admit(ST, username, "zivilgesellschaft")
    carl_hello = next(m for m in h.model.messages(ST) if m.from_id == CARL)
    await h.say(ST, ADMIN, "/admit zivilgesellschaft", reply_to=carl_hello.message_id)
    try:
        yield h, DecisionSteps(h)
    finally:
        await h.stop()


async def due(h: Harness, seconds: float) -> None:
    h.clock.advance(seconds)
    await h.services.decisions.run_due()
    await h.settle()
    await h.flush_edits()


async def test_consensus_in_round_one(st) -> None:
    h, d = st
    await h.say(ST, ANNA, "/vorschlag 2d Wir kaufen Saatgut für 80 €.")
    card = d.card(ST, 1)
    assert "Wir kaufen Saatgut" in card.text and "Konsensrunde 1 von 2" in card.text
    assert [b["text"] for b in card.reply_markup["inline_keyboard"][0]] == [
        "Zustimmung",
        "Bedenken",
        "Enthaltung",
        "Einwand",
    ]
    answer = await d.press(ST, 1, ANNA, "agree")
    assert answer["text"] == "Gespeichert: Zustimmung"
    await d.press(ST, 1, BERT, "agree")
    await d.press(ST, 1, CARL, "abstain")
    await due(h, 2 * 86400 + 1)
    result = h.bot_texts(ST)[-1]
    assert "Konsens" in result and "Antworten: 3 von 4" in result
    assert "Beschluss: <b>Konsens</b>" in result or "Beschluss: Konsens" in result
    proposal = await h.services.storage.proposals.get(1)
    assert proposal.outcome == "consensus"
    assert d.card(ST, 1).reply_markup is None


async def test_objection_revision_objection_then_vote_accepts(st) -> None:
    h, d = st
    await h.say(ST, ANNA, "/propose 1d Budget 2027 wie besprochen")
    await d.press(ST, 1, ANNA, "agree")
    await d.press(ST, 1, BERT, "object")
    await d.press(ST, 1, CARL, "agree")
    await d.press(ST, 1, DORA, "agree")  # everyone responded: closes early
    result = h.bot_texts(ST)[-1]
    assert "Einwände" in result and "Bert" in result and "/ueberarbeiten 1" in result
    await h.say(ST, ANNA, "/revise 1 Budget 2027, ohne Posten X")
    card2 = d.card(ST, 1, round_number=2)
    assert "ohne Posten X" in card2.text and "Bert" in card2.text and "besteht" in card2.text
    for user in (ANNA, CARL, DORA):
        await d.press(ST, 1, user, "agree", round_number=2)
    await due(h, 86400 + 1)  # Bert stays silent: his objection stands
    poll = h.model.bot_messages(ST)[-1]
    assert poll.poll is not None
    assert poll.poll.question.startswith("Mehrheitsabstimmung zu #1:")
    assert poll.poll.is_anonymous is False and poll.poll.allows_multiple_answers is False
    assert [o.text for o in poll.poll.options] == ["Ja", "Nein", "Enthaltung"]
    assert poll.poll.params.get("hide_results_until_closes") is True
    assert poll.reply_to == card2.message_id
    poll_id = poll.poll.id
    h.model.answer_poll(poll_id, ANNA, [0])
    h.model.answer_poll(poll_id, BERT, [1])
    h.model.answer_poll(poll_id, CARL, [0])
    h.model.answer_poll(poll_id, EVE, [1])  # not on the roster
    await h.settle()
    await due(h, 3 * 86400 + 1)
    result = h.bot_texts(ST)[-1]
    assert "Angenommen" in result and "Ja 2 · Nein 1" in result
    assert "1 Antwort(en) von außerhalb" in result
    assert h.model.polls[poll_id].is_closed
    proposal = await h.services.storage.proposals.get(1)
    assert proposal.outcome == "accepted"


async def test_objections_that_stand_lead_to_a_vote_that_rejects(st) -> None:
    h, d = st
    await h.say(ST, ANNA, "/propose 1d Wir verlegen das Treffen auf Sonntag")
    await d.press(ST, 1, BERT, "object")
    await due(h, 86400 + 1)
    await due(h, 48 * 3600 + 1)  # no revision: round 2 opens by itself with the same text
    card2 = d.card(ST, 1, round_number=2)
    assert "Sonntag" in card2.text and "besteht" in card2.text
    await d.press(ST, 1, CARL, "object", round_number=2)
    await due(h, 86400 + 1)
    poll = h.model.bot_messages(ST)[-1].poll
    assert poll is not None
    for user, option in ((ANNA, 0), (BERT, 1), (CARL, 1), (DORA, 0)):
        h.model.answer_poll(poll.id, user, [option])
    await h.settle()  # everyone voted: closes early
    result = h.bot_texts(ST)[-1]
    assert "Abgelehnt" in result and "Ja 2 · Nein 2" in result  # a tie is no majority
    assert poll.is_closed
    assert (await h.services.storage.proposals.get(1)).outcome == "rejected"


async def test_everyone_responded_closes_the_round_early(st) -> None:
    h, d = st
    await h.say(ST, ANNA, "/propose 7d Frühe Einigung")
    for user in (ANNA, BERT, CARL):
        await d.press(ST, 1, user, "agree")
    assert (await h.services.storage.proposals.get(1)).status == "round_open"
    await d.press(ST, 1, DORA, "concern")
    assert (await h.services.storage.proposals.get(1)).outcome == "consensus"
    result = h.bot_texts(ST)[-1]
    assert "Bedenken:" in result and "Dora: ohne Begründung" in result


async def test_majority_needs_a_failed_round_and_the_proposer(st) -> None:
    h, d = st
    await h.say(ST, ANNA, "/propose 1d Eine Frage")
    reply = await h.say(ST, ANNA, "/abstimmung 1")
    assert reply is not None and "erst nach einer gescheiterten" in reply.text
    await d.press(ST, 1, BERT, "object")
    await due(h, 86400 + 1)
    reply = await h.say(ST, BERT, "/majority 1")
    assert reply is not None and "Das kann nur, wer #1 vorgeschlagen hat" in reply.text
    await h.say(ST, ANNA, "/majority 1")
    assert h.model.bot_messages(ST)[-1].poll is not None
    assert (await h.services.storage.proposals.get(1)).status == "vote_open"
    reply = await h.say(ST, ANNA, "/revise 1 neu")
    assert reply is not None and "Mehrheitsabstimmung" in reply.text


async def test_withdraw_by_the_proposer_only(st) -> None:
    h, d = st
    await h.say(ST, ANNA, "/propose 1d Zurückzuziehen")
    reply = await h.say(ST, BERT, "/zurueckziehen 1")
    assert reply is not None and "vorgeschlagen" in reply.text
    await h.say(ST, ANNA, "/withdraw 1")
    assert "Zurückgezogen" in h.bot_texts(ST)[-1]
    assert d.card(ST, 1).reply_markup is None
    answer = await d.press_closed(ST, 1, BERT)
    assert "beendet" in answer["text"]
    reply = await h.say(ST, ANNA, "/withdraw 1")
    assert reply is not None and "schon abgeschlossen" in reply.text


async def test_bad_arguments_change_nothing(st) -> None:
    h, _d = st
    for text, expected in (
        ("/propose", "/vorschlag [FRIST] TEXT"),
        ("/propose 3d", "/vorschlag [FRIST] TEXT"),
        ("/propose 2s Zu kurz? nein, geht", None),
        ("/propose 0s Sofort", "zu kurz"),
        ("/propose 2020-01-01 Früher", "Vergangenheit"),
        ("/propose 2026-13-40 Kaputt", "verstehe ich nicht"),
        ("/revise", "/ueberarbeiten ID TEXT"),
        ("/revise abc Text", "/ueberarbeiten ID TEXT"),
        ("/revise 99 Text", "gibt es in diesem Team nicht"),
        ("/majority", "/abstimmung ID"),
        ("/withdraw #99", "gibt es in diesem Team nicht"),
    ):
        reply = await h.say(ST, ANNA, text)
        if expected is None:
            continue
        assert reply is not None and expected in reply.text, (text, reply)
    assert [p.id for p in await h.services.storage.proposals.open_proposals()] == [1]


async def test_non_members_cannot_propose_or_count(st) -> None:
    h, d = st
    reply = await h.say(ST, EVE, "/propose 1d Ich bin nicht im Team")
    assert reply is not None and "nur Mitglieder" in reply.text
    await h.say(ST, ANNA, "/propose 1d Etwas")
    answer = await d.press(ST, 1, EVE, "object")
    assert answer["show_alert"] and "nicht auf der Mitgliederliste" in answer["text"]
    assert await h.services.storage.proposals.responses(1) == {}


async def test_forged_callback_data_changes_nothing(st) -> None:
    h, d = st
    await h.say(ST, ANNA, "/propose 1d Etwas")
    card = d.card(ST, 1)
    for data in ("1:999:a", "2:1:a", "1:1:x", "garbage", "1:1:a:extra", "1:01:a"):
        query = h.model.press_button(ST, card.message_id, BERT, callback_data=data, forge=True)
        answer = await h.model.wait_callback_answer(query)
        assert answer["show_alert"] and "nicht (mehr) gültig" in answer["text"], data
    await h.settle()
    assert await h.services.storage.proposals.responses(1) == {}


async def test_a_press_from_another_chat_changes_nothing(st) -> None:
    h, _d = st
    await h.say(ST, ANNA, "/propose 1d Etwas")
    await h.bind(-1001000000004, "KT", "Kernteam")
    kt_message = h.model.bot_messages(-1001000000004)[-1]
    query = h.model.press_button(
        -1001000000004, kt_message.message_id, ANNA, callback_data="1:1:o", forge=True
    )
    answer = await h.model.wait_callback_answer(query)
    assert "nicht (mehr) gültig" in answer["text"]
    await h.settle()
    assert await h.services.storage.proposals.responses(1) == {}


async def test_responses_can_change_until_the_close_and_the_last_counts(st) -> None:
    h, d = st
    await h.say(ST, ANNA, "/propose 1d Etwas")
    await d.press(ST, 1, BERT, "object")
    await d.press(ST, 1, BERT, "agree")
    await d.press(ST, 1, ANNA, "agree")
    stored = await h.services.storage.proposals.responses(1)
    assert {p: r.choice for p, r in stored.items()} == {
        (await h.services.storage.people.by_telegram_id(BERT)).id: "agree",
        (await h.services.storage.people.by_telegram_id(ANNA)).id: "agree",
    }
    await due(h, 86400 + 1)
    assert (await h.services.storage.proposals.get(1)).outcome == "consensus"


async def test_admit_is_refused_once_the_team_has_decided(st) -> None:
    h, d = st
    await h.say(ST, ANNA, "/propose 1d Etwas")
    for user in (ANNA, BERT, CARL, DORA):
        await d.press(ST, 1, user, "agree")
    await h.say(ST, EVE, "Hallo")
    reply = await h.admit(ST, "eve", "politik")
    assert "Aufbauphase ist vorbei" in reply.text or "Entsendung" in reply.text
    team = await h.services.storage.teams.by_chat(ST)
    assert not await h.services.storage.rosters.is_member(
        team.id, (await h.services.storage.people.by_telegram_id(EVE)).id
    )


async def test_open_and_decisions_lists(st) -> None:
    h, d = st
    reply = await h.say(ST, ANNA, "/offen")
    assert reply is not None and "nichts offen" in reply.text
    await h.say(ST, ANNA, "/propose 1d Erstens")
    await h.say(ST, ANNA, "/propose 1d Zweitens")
    await d.press(ST, 1, BERT, "agree")
    listing = await h.say(ST, CARL, "/open")
    assert listing is not None
    assert "#1 „Erstens“" in listing.text and "#2 „Zweitens“" in listing.text
    assert "noch nicht geantwortet: Anna, Carl, Dora" in listing.text
    for user in (ANNA, CARL, DORA):
        await d.press(ST, 1, user, "agree")
    await h.say(ST, ANNA, "/withdraw 2")
    decided = await h.say(ST, CARL, "/beschluesse")
    assert decided is not None
    lines = decided.text.splitlines()
    assert "#2 „Zweitens“ – Zurückgezogen" in lines[1]
    assert "#1 „Erstens“ – Konsens" in lines[2]


async def test_a_member_leaving_mid_round_no_longer_counts(st) -> None:
    h, d = st
    await h.say(ST, ANNA, "/propose 1d Etwas")
    await d.press(ST, 1, BERT, "object")
    for user in (ANNA, CARL):
        await d.press(ST, 1, user, "agree")
    h.model.member_leaves(ST, BERT)  # Bert's objection leaves with him
    await h.settle()
    await h.flush_edits()
    card = d.card(ST, 1).text
    assert "Noch nicht geantwortet: Dora" in card and "Einwand 0" in card and "(im Team: 3)" in card
    assert (await h.services.storage.proposals.get(1)).status == "round_open"
    await d.press(ST, 1, DORA, "agree")
    assert (await h.services.storage.proposals.get(1)).outcome == "consensus"
