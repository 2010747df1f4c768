"""End to end: restarts, Telegram's errors, long texts, migrations, reasons, tally modes."""

from __future__ import annotations

from tests.harness import (
    ANNA,
    BERT,
    CARL,
    DORA,
    EVE,
    LT,
    PLAIN,
    ST,
    DecisionSteps,
    Harness,
    Teams,
)


async def test_a_deadline_passed_during_downtime_closes_once_before_queued_presses(
    team: Teams,
) -> None:
    h, d = await team("ST")
    await h.say(ST, ANNA, "/propose 1d Über Nacht")
    await d.press(ST, 1, ANNA, "agree")
    await d.press(ST, 1, CARL, "agree")
    card = d.card(ST, 1)
    await h.stop()
    # While the bot is down, Bert presses, and the deadline passes.
    query = h.model.press_button(ST, card.message_id, BERT, button_text="Einwand")
    h.clock.advance(86400 + 5)
    again = Harness(h.model, h.config, clock=h.clock)
    await again.start()
    try:
        answer = await again.model.wait_callback_answer(query)
        await again.settle()
        assert "beendet" in answer["text"]
        [result] = [t for t in again.bot_texts(ST) if "Ergebnis Runde 1" in t]
        assert "Konsens" in result and "Antworten: 2 von 4" in result  # not Bert's late press
        # The result went out before the press was answered.
        result_call = next(
            i
            for i, c in enumerate(again.model.calls)
            if c.method == "sendMessage" and "Ergebnis Runde 1" in c.params.get("text", "")
        )
        answer_call = next(
            i
            for i, c in enumerate(again.model.calls)
            if c.method == "answerCallbackQuery" and c.params.get("callback_query_id") == query
        )
        assert result_call < answer_call
        await again.services.decisions.run_due()  # nothing is closed twice
        await again.settle()
        assert len([t for t in again.bot_texts(ST) if "Ergebnis Runde 1" in t]) == 1
        # The record of events, which no chat shows: the round was closed once.
        st = await again.services.storage.teams.by_chat(ST)
        closes = [
            e
            for e in await again.services.storage.events.for_team(st.id)
            if e.kind == "round.closed"
        ]
        assert len(closes) == 1
    finally:
        await again.stop()


async def test_a_429_delays_a_card_edit_without_losing_it(team: Teams) -> None:
    h, d = await team("ST")
    await h.say(ST, ANNA, "/propose 1d Etwas")
    h.model.fail_next("editMessageText", error_code=429, retry_after=30)
    await d.press(ST, 1, BERT, "agree")
    assert "Zustimmung (1): Bert" not in d.card(ST, 1).text
    assert await h.outbox.pending(ST) == 1
    h.clock.advance(31)
    await h.services.outbox.flush(ST)
    await h.settle()
    assert "Zustimmung (1): Bert" in d.card(ST, 1).text


async def test_a_long_text_is_shortened_on_the_card_and_posted_in_full(team: Teams) -> None:
    h, _d = await team("ST")
    text = "Lange Begründung\n" + ("Viele Worte über den Garten. " * 120)
    await h.say(ST, ANNA, f"/propose 1d {text}")
    full, card = h.model.bot_messages(ST)[-2:]
    assert "Ganzer Text von Vorschlag #1" in full.text
    assert full.text.count("Viele Worte") == 120
    assert "…" in card.text and len(card.text) < 2500
    assert f"https://t.me/c/{str(ST)[4:]}/{full.message_id}" in str(card.entities)


async def test_a_reason_is_given_privately_by_deep_link_or_by_replying_to_the_card(
    team: Teams,
) -> None:
    h, d = await team("ST")
    h.model.start_bot(BERT)
    await h.settle()
    await h.say(ST, ANNA, "/propose 1d Etwas")
    answer = await d.press(ST, 1, BERT, "object")
    assert "privat" in answer["text"] and answer["url"] is None
    assert "Einwand erhoben" in h.bot_texts(BERT)[-1]
    reply = await h.say(BERT, BERT, "Zu teuer für uns")
    assert reply is not None and "gespeichert" in reply.text
    # Carl never started the bot: the answer opens the deep link.
    answer = await d.press(ST, 1, CARL, "concern")
    assert answer["url"] == "https://t.me/wiq_test_bot?start=reason_1"
    h.model.start_bot(CARL, payload="reason_1")
    await h.settle()
    assert "Bedenken" in h.bot_texts(CARL)[-1]
    await h.say(CARL, CARL, "Termin knapp")
    # Dora replies to the card instead.
    await d.press(ST, 1, DORA, "object")
    await h.say(ST, DORA, "Nicht mit mir", reply_to=d.card(ST, 1).message_id)
    await d.press(ST, 1, ANNA, "agree")
    result = h.bot_texts(ST)[-1]
    assert "Bert: Zu teuer für uns" in result
    assert "Carl: Termin knapp" in result
    assert "Dora: Nicht mit mir" in result
    # A private message with nothing asked is answered kindly.
    reply = await h.say(BERT, BERT, "Noch was")
    assert reply is not None and "keine Frage" in reply.text


async def test_after_close_tally_shows_only_who_is_missing(team: Teams) -> None:
    h, d = await team("ST", extra='show_tally = "after_close"\n')
    await h.say(ST, ANNA, "/propose 1d Geheim bis zum Schluss")
    await d.press(ST, 1, BERT, "object")
    await d.press(ST, 1, ANNA, "agree")
    card = d.card(ST, 1).text
    assert "Geantwortet: 2 von 4" in card and "Noch nicht geantwortet (2): Carl, Dora" in card
    assert "Einwand (1): Bert" not in card and "Zustimmung (1)" not in card
    listing = await h.say(ST, CARL, "/open")
    assert listing is not None and "Bert" not in listing.text
    await h.due(86400 + 1)
    card = d.card(ST, 1).text
    assert "Einwand (1): Bert" in card


async def test_a_chat_mode_round_counts_a_member_first_seen_pressing(team: Teams) -> None:
    h, d = await team("LT", members=(ANNA, BERT, CARL))
    await h.say(LT, ANNA, "/propose 1d Gemeinsam gießen")
    assert "0 von 3 Stimmberechtigten" in d.card(LT, 1).text
    answer = await d.press(LT, 1, EVE, "agree")  # Eve is in the chat, never seen before
    assert answer["text"] == "Gespeichert: Zustimmung"
    card = d.card(LT, 1).text
    assert "Zustimmung (1): Eve" in card and "1 von 4 Stimmberechtigten" in card


async def test_an_open_round_and_vote_carry_on_when_the_group_becomes_a_supergroup(
    team: Teams,
) -> None:
    h, d = await team("KT", chat=PLAIN)
    await h.say(PLAIN, ANNA, "/propose 1d Runde offen")
    await h.say(PLAIN, ANNA, "/propose 1d Abstimmung offen")
    await d.press(PLAIN, 1, BERT, "agree")
    await d.press(PLAIN, 2, BERT, "object")
    await h.say(PLAIN, ANNA, "/majority 2")  # refused: no failed round yet
    h.clock.advance(86400 + 1)
    await h.services.decisions.on_deadline(2)
    await h.settle()
    await h.say(PLAIN, ANNA, "/majority 2")
    old_poll = h.model.bot_messages(PLAIN)[-1].poll
    assert old_poll is not None
    h.model.answer_poll(old_poll.id, ANNA, [0])
    h.model.answer_poll(old_poll.id, BERT, [1])
    await h.settle()
    new_id = h.model.migrate_to_supergroup(PLAIN)
    await h.settle()
    card = d.card(new_id, 1)
    assert "Runde offen" in card.text and card.reply_markup is not None
    new_poll = next(m.poll for m in h.model.bot_messages(new_id) if m.poll)
    assert new_poll.question.startswith("Mehrheitsabstimmung zu #2")
    await d.press(new_id, 1, CARL, "agree")
    h.model.answer_poll(new_poll.id, BERT, [0])  # Bert changes his mind in the new poll
    h.model.answer_poll(new_poll.id, CARL, [0])
    await h.settle()
    await h.due(3 * 86400)
    result = next(t for t in h.bot_texts(new_id) if "Mehrheitsabstimmung zu #2" in t and "Ja" in t)
    assert "Ja 3 · Nein 0" in result
    # Round 1 of #1 counts Bert's press from before the migration and Carl's after it.
    round_one = next(t for t in h.bot_texts(new_id) if "Ergebnis Runde 1 zu #1" in t)
    assert "Antworten: 2 von 4" in round_one


async def test_consensus_only_rejects_or_expires_without_a_vote(team: Teams) -> None:
    h, d = await team("KT", chat=PLAIN, extra='[policy.KT]\nprocess = "consensus_only"\n')
    await h.say(PLAIN, ANNA, "/propose 1d Nur im Konsens")
    await d.press(PLAIN, 1, BERT, "object")
    await h.due(86400 + 1)
    await h.due(48 * 3600 + 1)
    await h.due(86400 + 1)  # Bert's objection stands in round 2
    assert "Beschluss: <b>Abgelehnt</b>" in h.model.calls_of("sendMessage")[-1].params["text"]
    assert not any(m.poll for m in h.model.bot_messages(PLAIN))
    await h.say(PLAIN, ANNA, "/propose 1d Keiner da")
    await h.due(86400 + 1)
    await h.due(48 * 3600 + 1)
    await h.due(86400 + 1)
    assert "Beschluss: <b>Abgelaufen</b>" in h.model.calls_of("sendMessage")[-1].params["text"]
    reply = await h.say(PLAIN, ANNA, "/revise 2 neu")
    assert reply is not None and "abgeschlossen" in reply.text


async def test_no_quorum_rounds_count_toward_the_maximum(team: Teams) -> None:
    h, d = await team("ST")
    await h.say(ST, ANNA, "/propose 1d Wenig Beteiligung")
    await d.press(ST, 1, ANNA, "agree")  # 1 of 4, quorum 2
    await h.due(86400 + 1)
    assert "Zu wenige Antworten" in h.bot_texts(ST)[-1]
    await h.due(48 * 3600 + 1)
    await h.due(86400 + 1)  # round 2: nobody
    assert h.model.bot_messages(ST)[-1].poll is not None  # fallback vote at once


async def test_a_card_and_a_poll_that_never_went_out_are_posted_after_a_restart(
    team: Teams,
) -> None:
    h, _ = await team("ST")
    h.model.fail_next("sendMessage", network_error=True)
    await h.say(ST, ANNA, "/propose 1d Verloren?")
    assert not any("Verloren?" in t for t in h.bot_texts(ST))
    await h.stop()  # the outbox's retry never runs: as if the process died
    again = Harness(h.model, h.config, clock=h.clock)
    await again.start()
    try:
        cards = [t for t in again.bot_texts(ST) if "Verloren?" in t]
        assert len(cards) == 1
        d2 = DecisionSteps(again)
        await d2.press(ST, 1, BERT, "object")
        await again.due(86400 + 1)
        again.model.fail_next("sendPoll", network_error=True)
        await again.say(ST, ANNA, "/majority 1")
        assert not any(m.poll for m in again.model.bot_messages(ST))
    finally:
        await again.stop()
    third = Harness(h.model, h.config, clock=h.clock)
    await third.start()
    try:
        polls = [m.poll for m in third.model.bot_messages(ST) if m.poll]
        assert len(polls) == 1 and polls[0].question.startswith("Mehrheitsabstimmung zu #1")
        third.model.answer_poll(polls[0].id, ANNA, [0])
        await third.settle()
        listing = await third.say(ST, CARL, "/offen")
        assert listing is not None and "noch nicht geantwortet: Bert, Carl, Dora" in listing.text
    finally:
        await third.stop()


async def test_a_failed_answer_keeps_the_committed_response(team: Teams) -> None:
    h, d = await team("ST")
    await h.say(ST, ANNA, "/propose 1d Etwas")
    h.model.fail_next(
        "answerCallbackQuery",
        error_code=400,
        description="Bad Request: query is too old and response timeout expired or query "
        "ID is invalid",
    )
    card = d.card(ST, 1)
    h.model.press_button(ST, card.message_id, BERT, button_text="Zustimmung")
    await h.settle()
    assert "answerCallbackQuery" in [c.method for c in h.model.calls]  # tried, and failed
    listing = await h.say(ST, CARL, "/offen")  # the response was committed all the same
    assert listing is not None and "noch nicht geantwortet: Anna, Carl, Dora" in listing.text


async def test_the_majority_process_goes_straight_to_the_vote(team: Teams) -> None:
    h, _ = await team("KT", chat=PLAIN, extra='[policy.KT]\nprocess = "majority"\n')
    await h.say(PLAIN, ANNA, "/propose 1d Gleich abstimmen\nOhne Konsensrunde")
    card, poll_message = h.model.bot_messages(PLAIN)[-2:]
    assert "Mehrheitsabstimmung" in card.text and "Ohne Konsensrunde" in card.text
    assert card.reply_markup is None
    assert poll_message.poll is not None and poll_message.reply_to == card.message_id
    for user in (ANNA, BERT, CARL):
        h.model.answer_poll(poll_message.poll.id, user, [0])
    await h.settle()
    await h.due(86400 + 1)
    assert "Angenommen" in h.bot_texts(PLAIN)[-1]


async def test_the_consent_process_takes_silence_as_consent(team: Teams) -> None:
    h, _ = await team("KT", chat=PLAIN, extra='[policy.KT]\nprocess = "consent"\n')
    await h.say(PLAIN, ANNA, "/propose 1d Wer schweigt, stimmt zu")
    await h.due(86400 + 1)
    assert "Beschluss: <b>Konsens</b>" in h.model.calls_of("sendMessage")[-1].params["text"]
