"""End to end: UT/KT nominations — the joint candidate of PT and ST (SPEC §5)."""

from __future__ import annotations

import re

import pytest

from tests.harness import (
    ADMIN,
    ANNA,
    BERT,
    CARL,
    DORA,
    EVE,
    LT,
    NEWBIE,
    OUTSIDER,
    PT,
    ST,
    UT,
    DecisionSteps,
    Harness,
    Teams,
)

NOTHING_COUNTED = "Geantwortet: 0 von 2 Stimmberechtigten"


async def approve(h: Harness, d: DecisionSteps, chat: int, proposal_id: int, users) -> None:
    for user in users:
        await d.press(chat, proposal_id, user, "agree")


async def accept(h: Harness, candidate: int, yes: bool = True) -> dict:
    question = next(m for m in reversed(h.model.bot_messages(candidate)) if m.reply_markup)
    query = h.model.press_button(
        candidate, question.message_id, candidate, button_text="Annehmen" if yes else "Ablehnen"
    )
    answer = await h.model.wait_callback_answer(query)
    await h.settle()
    return answer


@pytest.mark.parametrize("when", ["before", "between", "after"])
@pytest.mark.parametrize("first", ["PT", "ST"])
async def test_appointed_once_whatever_the_order(net, first: str, when: str) -> None:
    h, d = net
    h.model.start_bot(EVE)
    await h.settle()
    await h.say(PT, ANNA, "/nominieren 2d @eve UT kennt alle Lösungsteams")
    pt_card, st_card = d.card(PT, 1), d.card(ST, 2)
    assert "Nominierung von Eve" in pt_card.text and "Nominierung von Eve" in st_card.text
    order = [(PT, 1, (ANNA, BERT)), (ST, 2, (CARL, DORA))]
    if first == "ST":
        order.reverse()
    if when == "before":
        await accept(h, EVE)
    await approve(h, d, *order[0])
    if when == "between":
        await accept(h, EVE)
    assert await h.roster(UT) == []
    await approve(h, d, *order[1])
    if when == "after":
        assert await h.roster(UT) == []
        await accept(h, EVE)
    assert await h.roster(UT) == ["Eve"]
    assert sum("ist jetzt ernannt" in t for t in h.bot_texts(UT)) == 1
    h.model.send_message(UT, ADMIN, "/members")
    await h.settle()
    assert "ernannt von PT und ST (#1, #2)" in h.bot_texts(UT)[-1]
    for chat in (PT, ST):
        assert sum("ist jetzt ernannt" in t for t in h.bot_texts(chat)) == 1
    links = [t for t in h.bot_texts(EVE) if "Link in den Chat" in t]
    assert len(links) == 1
    link = re.search(r"(https://\S+)", links[0]).group(1)
    h.model.request_join(UT, OUTSIDER, link)  # a forwarded link lets nobody else in
    h.model.request_join(UT, EVE, link)
    await h.settle()
    assert h.model.calls_of("declineChatJoinRequest")[-1].params["user_id"] == OUTSIDER
    assert h.model.calls_of("approveChatJoinRequest")[-1].params["user_id"] == EVE


@pytest.mark.parametrize("rejecting", ["PT", "ST"])
async def test_a_nomination_rejected_by_either_team_ends(net, rejecting: str) -> None:
    h, d = net
    h.model.start_bot(EVE)
    await h.settle()
    reply = await h.say(ST, CARL, "/nominate 1d @eve KT")  # no KT is set up
    assert reply is not None and "eingerichtet" in reply.text
    await h.say(ST, CARL, "/nominate 1d @eve UT")
    await accept(h, EVE)
    approving, refusing = ((ST, 2, (CARL, DORA)), (PT, 1, (ANNA, BERT)))
    if rejecting == "ST":
        approving, refusing = refusing, approving
    await approve(h, d, *approving)
    chat, proposal_id, users = refusing
    await d.press(chat, proposal_id, users[0], "object")
    await h.due(86400 + 1)
    # A person decision: the next round opens by itself; the objection stands again.
    await h.due(86400 + 1)
    await h.due(3 * 86400 + 1)  # the vote: nobody votes, rejected
    assert await h.roster(UT) == []
    for chat_id in (PT, ST, EVE):
        assert any("abgelehnt; sie ist beendet" in t for t in h.bot_texts(chat_id)), chat_id


async def test_st_objection_twice_then_the_majority_appoints(net) -> None:
    h, d = net
    h.model.start_bot(EVE)
    await h.settle()
    await h.say(PT, ANNA, "/nominate 1d @eve UT")
    await accept(h, EVE)
    await approve(h, d, PT, 1, (ANNA, BERT))
    await d.press(ST, 2, DORA, "object")
    await d.press(ST, 2, CARL, "agree")  # everyone answered: round 1 fails at once
    card2 = d.card(ST, 2, round_number=2)  # opened by itself: no text to revise
    assert "besteht" in card2.text
    await d.press(ST, 2, CARL, "agree", round_number=2)
    await d.press(ST, 2, DORA, "object", round_number=2)
    poll = next(m.poll for m in h.model.bot_messages(ST) if m.poll)
    h.model.answer_poll(poll.id, CARL, [0])
    h.model.answer_poll(poll.id, DORA, [2])
    await h.settle()
    assert await h.roster(UT) == ["Eve"]


async def test_a_candidate_who_declines_ends_the_nomination(net) -> None:
    h, d = net
    h.model.start_bot(EVE)
    await h.settle()
    await h.say(PT, ANNA, "/nominate 1d @eve UT")
    answer = await accept(h, EVE, yes=False)
    assert "Absage" in answer["text"]
    for chat in (PT, ST):
        assert any("hat die Nominierung für" in t for t in h.bot_texts(chat))
    assert d.card(PT, 1).reply_markup is None and d.card(ST, 2).reply_markup is None
    for chat in (PT, ST):
        listing = await h.say(chat, ADMIN, "/offen")
        assert listing is not None and "gerade nichts offen" in listing.text


async def test_an_unseen_username_binds_by_the_deep_link(net) -> None:
    h, d = net
    await h.say(PT, ANNA, "/nominate 1d @nele_neu UT")
    card = d.card(PT, 1)
    link = re.search(r"start=(nom_\S+)", card.text).group(1)
    h.model.start_bot(OUTSIDER, payload=link)  # someone else cannot take it
    await h.settle()
    assert "anderen Person" in h.bot_texts(OUTSIDER)[-1]
    h.model.start_bot(NEWBIE, payload=link)
    await h.settle()
    assert "Nimmst du an" in h.bot_texts(NEWBIE)[-1]
    await accept(h, NEWBIE)
    await approve(h, d, PT, 1, (ANNA, BERT))
    await approve(h, d, ST, 2, (CARL, DORA))
    assert await h.roster(UT) == ["Nele"]


async def test_the_nomination_lapses_when_the_candidate_does_not_answer(net) -> None:
    h, d = net
    h.model.start_bot(EVE)
    await h.settle()
    await h.say(PT, ANNA, "/nominate 1d @eve UT")
    await approve(h, d, PT, 1, (ANNA, BERT))
    await approve(h, d, ST, 2, (CARL, DORA))
    await h.due(7 * 86400 + 1)
    for chat in (PT, ST, EVE):
        assert "Die Nominierung von Eve für" in h.last_text(chat), chat
        assert "ist abgelaufen" in h.last_text(chat), chat
    assert await h.roster(UT) == []


async def test_who_may_nominate_whom_and_where(net, team: Teams) -> None:
    h, d = net
    reply = await h.say(PT, EVE, "/nominate @dora UT")
    assert reply is not None and "nur Mitglieder" in reply.text
    await team("LT", members=(ANNA,), name="Garten")
    reply = await h.say(LT, ANNA, "/nominate @eve UT")
    assert reply is not None and "PT und ST" in reply.text
    reply = await h.say(PT, ANNA, "/nominate @eve")
    assert reply is not None and "/nominieren" in reply.text
    reply = await h.say(PT, ANNA, "/nominate @eve XT")
    assert reply is not None and "/nominieren" in reply.text
    await h.say(PT, ANNA, "/nominate @eve UT")
    reply = await h.say(ST, CARL, "/nominate @eve UT")
    assert reply is not None and "schon nominiert" in reply.text
    # A PT member pressing the ST's card counts nothing there.
    answer = await d.press(ST, 2, ANNA, "agree")
    assert "nicht auf der Mitgliederliste" in answer["text"]
    await h.flush_edits()
    assert NOTHING_COUNTED in d.card(ST, 2).text
    # An existing member cannot be nominated to their own team.
    assert "✅" in (await h.admit(UT, "dora")).text
    reply = await h.say(PT, ANNA, "/nominate @dora UT")
    assert reply is not None and "schon Mitglied" in reply.text


async def test_someone_in_neither_team_counts_nothing(net) -> None:
    h, d = net
    await h.say(PT, ANNA, "/nominate 1d @eve UT")
    answer = await d.press(PT, 1, EVE, "object")
    assert "nicht auf der Mitgliederliste" in answer["text"]
    await h.flush_edits()
    assert NOTHING_COUNTED in d.card(PT, 1).text


async def test_a_restart_between_the_approvals_still_appoints_once(net) -> None:
    h, d = net
    h.model.start_bot(EVE)
    await h.settle()
    await h.say(PT, ANNA, "/nominate 1d @eve UT")
    await accept(h, EVE)
    await approve(h, d, PT, 1, (ANNA, BERT))
    await h.stop()
    again = Harness(h.model, h.config, clock=h.clock)
    await again.start()
    try:
        d2 = DecisionSteps(again)
        await approve(again, d2, ST, 2, (CARL, DORA))
        assert await again.roster(UT) == ["Eve"]
        await again.due(61)  # the sweep finds nothing left to do
        assert sum("ist jetzt ernannt" in t for t in again.bot_texts(UT)) == 1
        assert len([t for t in again.bot_texts(EVE) if "Link in den Chat" in t]) == 1
    finally:
        await again.stop()


async def test_a_duplicate_is_refused_once_the_unseen_candidate_is_seen(net) -> None:
    h, _ = net
    await h.say(PT, ANNA, "/nominate @nele_neu UT")
    h.model.member_joins(PT, NEWBIE)
    h.model.send_message(PT, NEWBIE, "Hallo")
    await h.settle()
    reply = await h.say(ST, CARL, "/nominate @nele_neu UT")
    assert reply is not None and "schon nominiert" in reply.text


async def test_join_requests_by_other_links_are_left_to_the_chat(net, team: Teams) -> None:
    h, _ = net
    await team("LT", members=(ANNA,), name="Garten")
    h.model.request_join(LT, OUTSIDER)
    await h.settle()
    assert not h.model.calls_of("declineChatJoinRequest")
    assert not h.model.calls_of("approveChatJoinRequest")
