"""End to end: the edges found in review — closes racing presses, crashes after a commit,
empty electorates, removals that stick, plain-text alerts, stale presses."""

from __future__ import annotations

from bot.charter.outcomes import Response
from bot.flows.responses import PressResult
from tests.harness import ADMIN, ANNA, BERT, CARL, DORA, EVE, LT, PLAIN, ST, Harness, Teams


async def test_a_press_during_a_close_is_refused_not_silently_dropped(team: Teams) -> None:
    h, d = await team("ST")
    await h.say(ST, ANNA, "/propose 1d Budget")
    for user in (ANNA, BERT, CARL):
        await d.press(ST, 1, user, "agree")
    # A press in the middle of a close cannot be staged through the chat: call the flow.
    store, decisions = h.services.storage.rounds, h.services.decisions
    round_ = await store.current_round(1)
    dora = await h.services.storage.people.by_telegram_id(DORA)
    real_carried, seen = store.carried, {}

    async def press_meanwhile(round_id: int):  # the close is working out its result
        if "press" not in seen:
            seen["press"] = await decisions.responses.press(
                round_.id, ST, DORA, dora.id, Response.OBJECT, 10**9
            )
        return await real_carried(round_id)

    store.carried = press_meanwhile
    h.clock.advance(86400 + 1)
    await decisions.on_deadline(1)
    store.carried = real_carried
    await h.settle()
    assert seen["press"].result is PressResult.CLOSED
    result = h.bot_texts(ST)[-1]
    assert "Antworten: 3 von 4" in result and "Beschluss: Konsens" in result  # not Dora's


async def test_a_round_everyone_left_waits_for_its_deadline(team: Teams) -> None:
    h, d = await team("ST")
    await h.say(ST, ANNA, "/propose 2d Budget")
    for user in (ANNA, BERT, CARL, DORA):
        await h.say(ST, user, "/leave")
    await h.flush_edits()
    card = d.card(ST, 1)
    assert "0 von 0 Stimmberechtigten" in card.text and card.reply_markup is not None  # open
    await h.due(2 * 86400 + 1)
    assert "Ergebnis Runde 1 zu #1 „Budget“: Zu wenige Antworten" in h.bot_texts(ST)[-1]


async def test_a_vote_closed_just_before_a_crash_is_announced_after_the_restart(
    team: Teams,
) -> None:
    h, d = await team("ST", extra="[policy.ST]\nmax_consensus_rounds = 1\n")
    await h.say(ST, ANNA, "/propose 1d Budget")
    await d.press(ST, 1, BERT, "object")
    await h.due(86400 + 1)  # the only round failed: the vote starts
    poll = next(m.poll for m in h.model.bot_messages(ST) if m.poll)
    h.model.answer_poll(poll.id, ANNA, [0])
    h.model.answer_poll(poll.id, CARL, [0])
    await h.settle()
    # The stopPoll fails; the result queues behind it; then the process "dies".
    h.model.fail_next("stopPoll", network_error=True)
    h.clock.advance(3 * 86400 + 1)
    await h.services.decisions.run_due()
    assert not any("Mehrheitsabstimmung zu #1" in t for t in h.bot_texts(ST))
    await h.stop()
    again = Harness(h.model, h.config, clock=h.clock)
    await again.start()
    try:
        assert again.model.polls[poll.id].is_closed
        results = [t for t in again.bot_texts(ST) if "Mehrheitsabstimmung zu #1" in t]
        assert len(results) == 1 and "Angenommen" in results[0]
    finally:
        await again.stop()
    third = Harness(h.model, h.config, clock=h.clock)  # and not twice
    await third.start()
    try:
        assert len([t for t in third.bot_texts(ST) if "Mehrheitsabstimmung zu #1" in t]) == 1
    finally:
        await third.stop()


async def test_a_removal_sticks_in_a_chat_mode_lt(team: Teams) -> None:
    h, d = await team("LT", members=(ANNA, BERT, CARL))
    h.model.member_joins(LT, ADMIN)
    await h.settle()
    await h.say(LT, ADMIN, "/remove @bert stört")
    await h.say(LT, BERT, "Hallo wieder")
    listing = await h.say(LT, ANNA, "/members")
    assert listing is not None and "Bert" not in listing.text
    await h.say(LT, ANNA, "/propose 1d Etwas")
    answer = await d.press(LT, 1, BERT, "agree")
    assert "nicht auf der Mitgliederliste" in answer["text"]
    listing = await h.say(LT, ANNA, "/members")
    assert listing is not None and "Bert" not in listing.text


async def test_alerts_are_plain_text_within_telegrams_limit(team: Teams) -> None:
    h, d = await team("LT", members=(ANNA, BERT, CARL), name="Garten & Hof " + "&" * 50)
    await h.say(LT, ANNA, "/einstellungen mode explicit")
    for user in (ANNA, BERT, CARL):
        await d.press(LT, 1, user, "agree")
    await h.say(LT, ANNA, "/propose 1d Etwas")
    answer = await d.press(LT, 2, EVE, "agree")
    assert "Garten & Hof" in answer["text"] and "&amp;" not in answer["text"]
    assert len(answer["text"]) <= 200


async def test_an_older_press_is_not_shown_as_saved(team: Teams) -> None:
    h, d = await team("ST")
    await h.say(ST, ANNA, "/propose 1d Etwas")
    # Presses out of order cannot be staged through the chat: call the flow with their ids.
    round_ = await h.services.storage.rounds.current_round(1)
    bert = await h.services.storage.people.by_telegram_id(BERT)
    decisions = h.services.decisions
    await decisions.responses.press(round_.id, ST, BERT, bert.id, Response.AGREE, 50)
    # An older press that arrives late never overwrites the newer one, and says so.
    older = await decisions.responses.press(round_.id, ST, BERT, bert.id, Response.OBJECT, 49)
    assert older.result is PressResult.STALE
    await d.press(ST, 1, ANNA, "agree")  # the card, refreshed: Bert's newer answer stands
    card = d.card(ST, 1).text
    assert "Zustimmung (2): Anna, Bert" in card and "Einwand (" not in card


async def test_withdrawing_during_a_vote_stops_counting_ballots(team: Teams) -> None:
    h, d = await team("ST")
    await h.say(ST, ANNA, "/propose 1d Etwas")
    await d.press(ST, 1, BERT, "object")
    await h.due(86400 + 1)
    await h.say(ST, ANNA, "/majority 1")
    poll = next(m.poll for m in h.model.bot_messages(ST) if m.poll)
    await h.say(ST, ANNA, "/withdraw 1")
    assert poll.is_closed
    listing = await h.say(ST, CARL, "/beschluesse")
    assert listing is not None and "#1 „Etwas“ – Zurückgezogen" in listing.text


async def test_a_revised_long_text_is_posted_in_full_for_the_next_round(team: Teams) -> None:
    h, d = await team("ST")
    await h.say(ST, ANNA, "/propose 1d Kurz")
    await d.press(ST, 1, BERT, "object")
    await h.due(86400 + 1)
    long_text = "Neu\n" + "Ausführlich begründet. " * 100
    await h.say(ST, ANNA, f"/revise 1 {long_text}")
    full = [m for m in h.model.bot_messages(ST) if "Ganzer Text von Vorschlag #1" in m.text]
    assert len(full) == 1 and "Ausführlich" in full[0].text
    card = d.card(ST, 1, round_number=2)
    assert f"/{full[0].message_id}" in str(card.entities)


async def test_someone_admitted_mid_round_takes_part_from_the_next(team: Teams) -> None:
    h, d = await team("KT", chat=PLAIN)
    await h.say(PLAIN, ANNA, "/propose 1d Etwas")
    h.model.send_message(PLAIN, EVE, "Hallo")
    await h.settle()
    await h.admit(PLAIN, "eve")  # still the set-up phase: no decision taken yet
    answer = await d.press(PLAIN, 1, EVE, "agree")
    assert "ab der nächsten" in answer["text"]
