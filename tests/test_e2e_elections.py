"""End to end: electing the ST's civil-society seats (SPEC §5)."""

from __future__ import annotations

from localapi.records import PollRec
from tests.harness import ADMIN, ANNA, BERT, CARL, DORA, EVE, KT, ST, Harness, Teams

NET = KT  # a group of everyone, bound as the network's chat


async def stand(h: Harness, user: int, yes: bool = True) -> dict:
    question = next(m for m in reversed(h.model.bot_messages(user)) if m.reply_markup)
    buttons = question.reply_markup["inline_keyboard"][0]  # [stand, decline], any language
    query = h.model.press_button(
        user, question.message_id, user, callback_data=buttons[0 if yes else 1]["callback_data"]
    )
    answer = await h.model.wait_callback_answer(query)
    await h.settle()
    return answer


async def eve_and_bert_stand(h: Harness, deadline: str) -> PollRec:
    """The KT chat bound as the NET chat, everyone in it; an election of one seat with Eve
    and Bert, who both stand. Returns the poll."""
    await h.set_up_team("NET", (ANNA, BERT, CARL, DORA, EVE), chat=NET)
    for user in (ANNA, BERT, CARL, DORA, EVE):
        h.model.start_bot(user)
    await h.settle()
    await h.say(NET, ADMIN, f"/wahl {deadline} 1 @eve @bert")
    await stand(h, EVE)
    await stand(h, BERT)
    return next(m.poll for m in h.model.bot_messages(NET) if m.poll is not None)


async def test_two_seats_four_candidates_a_decline_a_tie_and_an_invalid_ballot(
    net, team: Teams
) -> None:
    h, _ = net
    await team("NET", (ANNA, BERT, CARL, DORA, EVE))
    for user in (ANNA, BERT, CARL, DORA, EVE):
        h.model.start_bot(user)
    await h.settle()
    await h.say(NET, ADMIN, "/wahl 3d 2 @anna @bert @carl_x @dora")
    assert "Wahl #1" in h.bot_texts(NET)[-1]
    for user in (ANNA, BERT, CARL):
        await stand(h, user)
    assert not any(m.poll for m in h.model.bot_messages(NET))  # Dora has not answered yet
    await stand(h, DORA, yes=False)
    poll = next(m.poll for m in h.model.bot_messages(NET) if m.poll)
    assert [o.text for o in poll.options] == ["Anna", "Bert", "Carl"]
    assert poll.allows_multiple_answers and not poll.is_anonymous
    h.model.answer_poll(poll.id, ANNA, [0, 1])
    h.model.answer_poll(poll.id, BERT, [0, 2])
    h.model.answer_poll(poll.id, CARL, [1])
    h.model.answer_poll(poll.id, CARL, [0])  # changed: counts once, as the last ballot
    h.model.answer_poll(poll.id, EVE, [0, 1, 2])  # more ticks than seats: invalid
    await h.settle()
    assert "zählt so nicht" in h.bot_texts(EVE)[-1]
    await h.due(3 * 86400 + 1)
    result = next(t for t in reversed(h.bot_texts(NET)) if "Ergebnis der Wahl #1" in t)
    assert "Anna: 3" in result and "Bert: 1" in result and "Carl: 1" in result
    assert "Gewählt: Anna" in result
    assert "Gleichstand um den letzten Sitz: Bert, Carl" in result
    assert "1 Stimmzettel" in result
    assert poll.is_closed
    listing = await h.say(ST, ADMIN, "/members")
    assert listing is not None
    [anna] = [line for line in listing.text.splitlines() if line.startswith("• Anna ")]
    assert "gewählt" in anna and "Sitz: Zivilgesellschaft" in anna
    assert "Bert" not in listing.text  # the tied last seat stays open (Carl sat there already)


async def test_the_poll_opens_when_the_window_to_stand_ends(net, team: Teams) -> None:
    h, _ = net
    await team("NET", ())
    h.model.start_bot(ANNA)
    await h.settle()
    await h.say(NET, ADMIN, "/election 1 @anna @nele_neu")
    await stand(h, ANNA)
    assert not any(m.poll for m in h.model.bot_messages(NET))
    await h.due(7 * 86400 + 1)
    poll = next(m.poll for m in h.model.bot_messages(NET) if m.poll)
    assert poll.options[0].text == "Anna"


async def test_only_network_admins_call_an_election_of_distinct_candidates(
    net, team: Teams
) -> None:
    h, _ = net
    await team("NET", (ANNA,))
    reply = await h.say(NET, ANNA, "/election 2 @bert @carl_x")
    assert reply is not None and "Netzwerk-Admins" in reply.text
    for text in ("/election", "/election zwei @anna", "/election 2 anna"):
        reply = await h.say(NET, ADMIN, text)
        assert reply is not None and "/wahl" in reply.text, text
    reply = await h.say(NET, ADMIN, "/election 1 @anna @anna")
    assert reply is not None and "nur einmal" in reply.text
    many = " ".join(f"@u{n}" for n in range(13))
    reply = await h.say(NET, ADMIN, f"/election 2 {many}")
    assert reply is not None and "12" in reply.text


async def test_a_poll_that_never_went_out_is_sent_again(net, team: Teams) -> None:
    h, _ = net
    await team("NET", ())
    h.model.start_bot(ANNA)
    await h.settle()
    await h.say(NET, ADMIN, "/election 1 @anna")
    h.model.fail_next("sendPoll", error_code=400, description="Bad Request: poll refused")
    await stand(h, ANNA)
    assert not any(m.poll for m in h.model.bot_messages(NET))
    await h.due(60)  # the minute's sweep sends it again
    poll = next(m.poll for m in h.model.bot_messages(NET) if m.poll)
    assert [o.text for o in poll.options] == ["Anna"]
