"""End to end: consensus rounds, the automatic majority vote, and the proposer's requests."""

from __future__ import annotations

from tests.harness import ANNA, BERT, CARL, DORA, EVE, KT, ST, Teams

NOTHING_COUNTED = "Geantwortet: 0 von 4 Stimmberechtigten"


async def test_a_round_everyone_agrees_to_is_a_consensus_in_round_one(team: Teams) -> None:
    h, d = await team("ST")
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
    await h.due(2 * 86400 + 1)
    result = h.bot_texts(ST)[-1]
    assert "Konsens" in result and "Antworten: 3 von 4" in result
    assert "Beschluss: <b>Konsens</b>" in result or "Beschluss: Konsens" in result
    assert d.card(ST, 1).reply_markup is None
    decided = await h.say(ST, DORA, "/beschluesse")
    assert decided is not None and "#1 „Wir kaufen Saatgut für 80 €.“ – Konsens" in decided.text


async def test_an_objection_that_stands_after_the_revision_goes_to_a_vote_that_accepts(
    team: Teams,
) -> None:
    h, d = await team("ST")
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
    await h.due(86400 + 1)  # Bert stays silent: his objection stands
    poll = h.model.bot_messages(ST)[-1]
    assert poll.poll is not None
    # The vote says when it ends: in its poll, in the round's result, on the card (12.1).
    vote = await h.services.storage.votes.vote_of(1)
    assert vote is not None
    until = h.services.local_datetime(vote.deadline, "de")
    assert poll.poll.question.startswith(f"Mehrheitsabstimmung zu #1 bis {until}:")
    result = next(t for t in reversed(h.bot_texts(ST)) if t.startswith("Ergebnis Runde 2"))
    assert until in result.splitlines()[-1]
    card2 = d.card(ST, 1, round_number=2)
    assert until in card2.text.splitlines()[-1] and "Mehrheitsabstimmung" in card2.text
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
    await h.due(3 * 86400 + 1)
    result = h.bot_texts(ST)[-1]
    assert "Angenommen" in result and "Ja 2 · Nein 1" in result
    assert "1 Antwort(en) von außerhalb" in result
    assert h.model.polls[poll_id].is_closed
    # The card shows where the whole proposal ended, not where its round did.
    final = d.card(ST, 1, round_number=2).text.splitlines()[-1]
    assert "Angenommen" in final and "durch Mehrheitsabstimmung" in final and "Ja 2" in final
    assert "Runde beendet" not in d.card(ST, 1, round_number=2).text
    decided = await h.say(ST, DORA, "/beschluesse")
    assert decided is not None and "#1 „Budget 2027 wie besprochen“ – Angenommen" in decided.text


async def test_objections_that_stand_lead_to_a_vote_where_a_tie_rejects(team: Teams) -> None:
    h, d = await team("ST")
    await h.say(ST, ANNA, "/propose 1d Wir verlegen das Treffen auf Sonntag")
    await d.press(ST, 1, BERT, "object")
    await h.due(86400 + 1)
    await h.due(48 * 3600 + 1)  # no revision: round 2 opens by itself with the same text
    card2 = d.card(ST, 1, round_number=2)
    assert "Sonntag" in card2.text and "besteht" in card2.text
    await d.press(ST, 1, CARL, "object", round_number=2)
    await h.due(86400 + 1)
    poll = h.model.bot_messages(ST)[-1].poll
    assert poll is not None
    for user, option in ((ANNA, 0), (BERT, 1), (CARL, 1), (DORA, 0)):
        h.model.answer_poll(poll.id, user, [option])
    await h.settle()  # everyone voted: closes early
    result = h.bot_texts(ST)[-1]
    assert "Abgelehnt" in result and "Ja 2 · Nein 2" in result  # a tie is no majority
    assert poll.is_closed
    decided = await h.say(ST, DORA, "/beschluesse")
    assert decided is not None
    assert "#1 „Wir verlegen das Treffen auf Sonntag“ – Abgelehnt" in decided.text


async def test_everyone_responded_closes_the_round_early(team: Teams) -> None:
    h, d = await team("ST")
    await h.say(ST, ANNA, "/propose 7d Frühe Einigung")
    for user in (ANNA, BERT, CARL):
        await d.press(ST, 1, user, "agree")
    assert d.card(ST, 1).reply_markup is not None  # still open: Dora has not answered
    await d.press(ST, 1, DORA, "concern")
    assert d.card(ST, 1).reply_markup is None
    result = h.bot_texts(ST)[-1]
    assert "Beschluss: Konsens" in result
    assert "Bedenken:" in result and "Dora: ohne Begründung" in result


async def test_only_the_proposer_asks_for_the_vote_and_only_after_a_failed_round(
    team: Teams,
) -> None:
    h, d = await team("ST")
    await h.say(ST, ANNA, "/propose 1d Eine Frage")
    reply = await h.say(ST, ANNA, "/abstimmung 1")
    assert reply is not None and "erst nach einer gescheiterten" in reply.text
    await d.press(ST, 1, BERT, "object")
    await h.due(86400 + 1)
    reply = await h.say(ST, BERT, "/majority 1")
    assert reply is not None and "Das kann nur, wer #1 vorgeschlagen hat" in reply.text
    await h.say(ST, ANNA, "/majority 1")
    assert h.model.bot_messages(ST)[-1].poll is not None
    listing = await h.say(ST, CARL, "/offen")
    assert listing is not None and "#1 „Eine Frage“ – Mehrheitsabstimmung bis" in listing.text
    reply = await h.say(ST, ANNA, "/revise 1 neu")
    assert reply is not None and "Mehrheitsabstimmung" in reply.text


async def test_only_the_proposer_withdraws_and_the_card_then_takes_no_press(team: Teams) -> None:
    h, d = await team("ST")
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


async def test_a_malformed_command_gets_its_usage_and_changes_nothing(team: Teams) -> None:
    h, _ = await team("ST")
    for text, expected in (
        ("/propose", "/vorschlag [FRIST] TEXT"),
        ("/propose 3d", "/vorschlag [FRIST] TEXT"),
        ("/propose 2s Zu kurz? nein, geht", None),
        ("/propose 0s Sofort", "zu kurz"),
        ("/propose 2020-01-01 Früher", "Vergangenheit"),
        ("/propose 2026-13-40 Kaputt", "gibt es im Kalender nicht"),
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
    listing = await h.say(ST, CARL, "/offen")
    assert listing is not None and "#1 „Zu kurz? nein, geht“" in listing.text
    assert "#2" not in listing.text


async def test_someone_off_the_roster_neither_proposes_nor_counts(team: Teams) -> None:
    h, d = await team("ST")
    reply = await h.say(ST, EVE, "/propose 1d Ich bin nicht im Team")
    assert reply is not None and "nur Mitglieder" in reply.text
    await h.say(ST, ANNA, "/propose 1d Etwas")
    answer = await d.press(ST, 1, EVE, "object")
    assert answer["show_alert"] and "nicht auf der Mitgliederliste" in answer["text"]
    assert NOTHING_COUNTED in d.card(ST, 1).text


async def test_forged_callback_data_changes_nothing(team: Teams) -> None:
    h, d = await team("ST")
    await h.say(ST, ANNA, "/propose 1d Etwas")
    card = d.card(ST, 1)
    for data in ("1:999:a", "2:1:a", "1:1:x", "garbage", "1:1:a:extra", "1:01:a"):
        query = h.model.press_button(ST, card.message_id, BERT, callback_data=data, forge=True)
        answer = await h.model.wait_callback_answer(query)
        assert answer["show_alert"] and "nicht (mehr) gültig" in answer["text"], data
    await h.settle()
    await h.flush_edits()
    assert NOTHING_COUNTED in d.card(ST, 1).text


async def test_a_press_from_another_chat_changes_nothing(team: Teams) -> None:
    h, d = await team("ST")
    await h.say(ST, ANNA, "/propose 1d Etwas")
    await team("KT", members=())
    kt_message = h.model.bot_messages(KT)[-1]
    query = h.model.press_button(KT, kt_message.message_id, ANNA, callback_data="1:1:o", forge=True)
    answer = await h.model.wait_callback_answer(query)
    assert "nicht (mehr) gültig" in answer["text"]
    await h.settle()
    await h.flush_edits()
    assert NOTHING_COUNTED in d.card(ST, 1).text


async def test_responses_can_change_until_the_close_and_the_last_counts(team: Teams) -> None:
    h, d = await team("ST")
    await h.say(ST, ANNA, "/propose 1d Etwas")
    await d.press(ST, 1, BERT, "object")
    await d.press(ST, 1, BERT, "agree")
    await d.press(ST, 1, ANNA, "agree")
    card = d.card(ST, 1).text
    assert "Zustimmung (2): Anna, Bert" in card and "Einwand (" not in card
    await h.due(86400 + 1)
    result = h.bot_texts(ST)[-1]
    assert "Antworten: 2 von 4" in result and "Beschluss: Konsens" in result


async def test_network_admins_no_longer_admit_directly_once_the_team_decided(team: Teams) -> None:
    h, d = await team("ST")
    await h.say(ST, ANNA, "/propose 1d Etwas")
    for user in (ANNA, BERT, CARL, DORA):
        await d.press(ST, 1, user, "agree")
    await h.say(ST, EVE, "Hallo")
    reply = await h.admit(ST, "eve", "politik")
    assert "Aufbauphase ist vorbei" in reply.text or "Entsendung" in reply.text
    listing = await h.say(ST, ANNA, "/mitglieder")
    assert listing is not None and "Mitglieder: 4" in listing.text and "Eve" not in listing.text


async def test_open_names_who_has_not_answered_and_decisions_lists_the_newest_first(
    team: Teams,
) -> None:
    h, d = await team("ST")
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


async def test_a_member_leaving_mid_round_no_longer_counts(team: Teams) -> None:
    h, d = await team("ST")
    await h.say(ST, ANNA, "/propose 1d Etwas")
    await d.press(ST, 1, BERT, "object")
    for user in (ANNA, CARL):
        await d.press(ST, 1, user, "agree")
    h.model.member_leaves(ST, BERT)  # Bert's objection leaves with him
    await h.settle()
    await h.flush_edits()
    card = d.card(ST, 1).text
    assert "Noch nicht geantwortet (1): Dora" in card and "Einwand (" not in card
    assert "von 3 Stimmberechtigten" in card
    assert d.card(ST, 1).reply_markup is not None  # still open
    await d.press(ST, 1, DORA, "agree")
    assert "Beschluss: Konsens" in h.bot_texts(ST)[-1]


async def test_a_proposal_straight_to_the_vote_shows_its_beschluss_on_its_card(
    team: Teams,
) -> None:
    """Process `majority`: the card says until when the vote runs, and once it closed, the
    Beschluss (issue 12.1) — the card is edited, not only a result posted."""
    h, _ = await team("ST", extra='[policy.ST]\nprocess = "majority"\n')
    await h.say(ST, ANNA, "/vorschlag 2d Bänke am Markt\nVier Stück aus dem Fonds")
    card, poll = h.model.bot_messages(ST)[-2:]
    assert poll.poll is not None and poll.reply_to == card.message_id
    vote = await h.services.storage.votes.vote_of(1)
    assert vote is not None
    until = h.services.local_datetime(vote.deadline, "de")
    assert until in (card.text or "") and until in poll.poll.question
    for user, option in ((ANNA, 0), (BERT, 0), (CARL, 1), (DORA, 2)):
        h.model.answer_poll(poll.poll.id, user, [option])
    await h.settle()
    await h.due(1)  # everyone voted: the vote closes, the card is edited
    edited = next(m for m in h.model.bot_messages(ST) if m.message_id == card.message_id)
    assert (edited.text or "").splitlines()[-1] == (
        "Beschluss: Angenommen durch Mehrheitsabstimmung (Ja 2 · Nein 1 · Enthaltung 1)"
    )
