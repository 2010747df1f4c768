"""End to end: an early close ("everyone has responded") counts every update that came before
the one that completed it (SPEC §3.5, §4). Updates of different people are handled
concurrently, so the race is staged: one person's updates are held (handed to the update
processor, not yet handled) while another's completes the electorate."""

from __future__ import annotations

import pytest

from bot.charter.policy import parse_duration
from tests.harness import ANNA, BERT, CARL, DORA, EVE, ST, Harness, Teams

FIVE = (ANNA, BERT, CARL, DORA, EVE)
MAJORITY = '[policy.ST]\nprocess = "majority"\n'
# An early close at once (0s: it still waits for what is being handled here) or a grace later.
GRACES = ("0s", "2s")


def results(h: Harness, prefix: str) -> list[str]:
    return [text for text in h.bot_texts(ST) if prefix in text]


async def past_the_grace(h: Harness, grace: str) -> None:
    await h.due(parse_duration(grace).total_seconds() + 1)


def press(h: Harness, card_id: int, user: int, button: str) -> str:
    """A press sent to the bot, not waited for (a held one gets no answer yet)."""
    return h.model.press_button(ST, card_id, user, button_text=button)


@pytest.mark.parametrize("grace", GRACES)
async def test_an_einwand_pressed_just_before_the_last_zustimmung_blocks_konsens(
    team: Teams, grace: str
) -> None:
    h, d = await team("ST", grace=grace)
    await h.say(ST, ANNA, "/propose 1d Budget")
    for user in (ANNA, BERT, CARL):
        await d.press(ST, 1, user, "agree")
    card = d.card(ST, 1).message_id
    h.hold(CARL)
    carl = press(h, card, CARL, "Einwand")  # Carl changes his mind ...
    dora = press(h, card, DORA, "Zustimmung")  # ... a moment before Dora, the last, agrees
    assert "Gespeichert" in (await h.model.wait_callback_answer(dora))["text"]
    await h.settle()  # Dora's press is handled; Carl's is still on its way
    await h.due(5)  # however long it takes: the round waits for it
    assert results(h, "Ergebnis Runde 1") == []
    h.release(CARL)
    answer = await h.model.wait_callback_answer(carl)
    assert "geschlossen" not in answer["text"]
    await h.settle()
    await past_the_grace(h, grace)
    [result] = results(h, "Ergebnis Runde 1")
    assert "Einwände" in result and "Carl" in result and "Konsens" not in result
    assert "Antworten: 4 von 4" in result


@pytest.mark.parametrize("grace", GRACES)
async def test_a_vote_counts_each_persons_last_answer_before_the_completing_one(
    team: Teams, grace: str
) -> None:
    h, _ = await team("ST", members=FIVE, grace=grace, extra=MAJORITY)
    await h.say(ST, ANNA, "/propose 1d Budget")
    poll = next(m.poll for m in h.model.bot_messages(ST) if m.poll)
    for user, option in ((ANNA, 0), (CARL, 0), (DORA, 2), (BERT, 1)):  # Ja, Ja, Enth., Nein
        h.model.answer_poll(poll.id, user, [option])
    await h.settle()
    h.hold(BERT)
    h.model.answer_poll(poll.id, BERT, [])  # Bert retracts his Nein ...
    h.model.answer_poll(poll.id, BERT, [2])  # ... and abstains, in the same batch as
    h.model.answer_poll(poll.id, EVE, [1])  # Eve's Nein, the last answer
    await h.settle()  # Eve's answer is handled; Bert's two are still on their way
    await h.due(5)
    assert results(h, "Mehrheitsabstimmung zu #1") == []
    assert not poll.is_closed
    h.release(BERT)
    await h.settle()
    await past_the_grace(h, grace)
    [result] = results(h, "Mehrheitsabstimmung zu #1")
    assert "Angenommen" in result and "Ja 2 · Nein 1 · Enthaltung 2" in result
    assert poll.is_closed
    vote = await h.services.storage.votes.vote_of(1)
    bert = await h.services.storage.people.by_telegram_id(BERT)
    assert vote is not None and bert is not None
    assert (await h.services.storage.votes.ballots(vote.id))[bert.id] == "abstain"


async def test_a_retraction_within_the_grace_keeps_the_vote_open(team: Teams) -> None:
    h, _ = await team("ST", grace="2s", extra=MAJORITY)
    await h.say(ST, ANNA, "/propose 1d Budget")
    poll = next(m.poll for m in h.model.bot_messages(ST) if m.poll)
    for user in (ANNA, BERT, CARL, DORA):
        h.model.answer_poll(poll.id, user, [0])
    await h.settle()
    h.model.answer_poll(poll.id, DORA, [])  # everyone had voted; Dora takes hers back
    await h.settle()
    await h.due(3)
    assert results(h, "Mehrheitsabstimmung zu #1") == [] and not poll.is_closed
    h.model.answer_poll(poll.id, DORA, [1])  # and votes again: everyone has voted
    await h.settle()
    await h.due(3)
    [result] = results(h, "Mehrheitsabstimmung zu #1")
    assert "Angenommen" in result and "Ja 3 · Nein 1" in result


async def test_a_deadline_before_the_grace_ends_closes_the_round_once(team: Teams) -> None:
    h, d = await team("ST", grace="10m")
    await h.say(ST, ANNA, "/propose 60s Budget")
    for user in (ANNA, BERT, CARL, DORA):
        await d.press(ST, 1, user, "agree")
    assert results(h, "Ergebnis Runde 1") == []  # everyone agreed: the close is 10 min away
    await h.due(61)  # the deadline comes first
    [result] = results(h, "Ergebnis Runde 1")
    assert "Konsens" in result and "Antworten: 4 von 4" in result
    await h.due(600)
    assert len(results(h, "Ergebnis Runde 1")) == 1


async def test_an_early_close_due_when_the_bot_stopped_comes_once_after_the_restart(
    team: Teams,
) -> None:
    h, d = await team("ST", grace="2s")
    await h.say(ST, ANNA, "/propose 1d Budget")
    for user in (ANNA, BERT, CARL):
        await d.press(ST, 1, user, "agree")
    await d.press(ST, 1, DORA, "object")  # the last: the round closes in 2 s
    await h.stop()
    assert h.clock is not None
    h.clock.advance(3)
    for _ in range(2):  # started again, and once more: the close is stored, and done once
        again = Harness(h.model, h.config, clock=h.clock)
        await again.start()
        try:
            [result] = results(again, "Ergebnis Runde 1")
            assert "Einwände" in result and "Dora" in result
        finally:
            await again.stop()
