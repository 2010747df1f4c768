"""End to end: what a flow answers before its item goes out (inside the unit of work) is put
right when Telegram refuses the item for good (`OnFailed`, bot/flows/port.py): a petition's
post to the PT, a follow-up to the PT, the approval of a join request. The person is told,
and the state is as it was before — also when the refusal comes after a restart."""

from __future__ import annotations

from tests.harness import ANNA, BERT, CARL, DORA, EVE, PT, DecisionSteps, Harness, Teams, peek
from tests.test_e2e_petitions import last, petition_posts, press

NO_RIGHTS = "Bad Request: not enough rights to send text messages to the chat"


def petition_status(h: Harness, petition_id: int) -> tuple[str, int | None]:
    with peek(h.config) as db:
        row = db.execute(
            "SELECT status, anonymous FROM petitions WHERE id = ?", (petition_id,)
        ).fetchone()
    return row[0], row[1]


async def test_a_petition_the_pt_chat_refuses_is_the_senders_to_send_again(
    net: tuple[Harness, DecisionSteps],
) -> None:
    h, _ = net
    choice = await h.say(EVE, EVE, "/anliegen Die Treffen liegen immer zu spät am Abend.")
    assert choice is not None and choice.button_texts[:2] == ["Mit meinem Namen", "Anonym"]
    h.model.faults.add(method="sendMessage", kind="400", chat_id=PT, description=NO_RIGHTS)
    await press(h, EVE, choice, "Anonym")

    assert petition_posts(h) == []
    # Eve is told, and asked again (the question she answered was replaced).
    texts = h.bot_texts(EVE)
    told = next(i for i, t in enumerate(texts) if "nicht an das Projektteam weitergeben" in t)
    again = h.model.bot_messages(EVE)[told + 1]
    assert "Die Treffen liegen" in (again.text or "")
    assert again.button_texts == ["Mit meinem Namen", "Anonym", "Abbrechen"]
    assert petition_status(h, 1) == ("awaiting_choice", None)  # the claim is undone

    answer = await press(h, EVE, again, "Mit meinem Namen")  # now the chat takes it
    assert "angekommen" in answer["text"]
    (post,) = petition_posts(h)
    assert "Anliegen #1 von Eve" in (post.text or "")
    assert petition_status(h, 1) == ("posted", 0)


async def test_a_follow_up_the_pt_chat_refuses_is_reported_to_its_sender(
    net: tuple[Harness, DecisionSteps],
) -> None:
    h, _ = net
    choice = await h.say(EVE, EVE, "/anliegen Wann ist das nächste Treffen?")
    assert choice is not None
    await press(h, EVE, choice, "Mit meinem Namen")
    (post,) = petition_posts(h)
    await h.say(PT, ANNA, "Am Donnerstag.", reply_to=post.message_id)
    delivered = last(h, EVE)
    assert "Am Donnerstag." in (delivered.text or "")
    before = len(h.model.bot_messages(PT))

    h.model.faults.add(method="sendMessage", kind="403", chat_id=PT, description=NO_RIGHTS)
    h.model.send_message(EVE, EVE, "Um wie viel Uhr?", reply_to=delivered.message_id)
    await h.settle()
    assert len(h.model.bot_messages(PT)) == before  # nothing reached the PT
    assert "nicht an das Projektteam weitergeben" in h.bot_texts(EVE)[-1]


async def admitted_with_a_link(h: Harness, d: DecisionSteps) -> str:
    h.model.member_leaves(PT, EVE)
    h.model.start_bot(EVE)
    await h.settle()
    await h.say(EVE, EVE, "/beitreten Ich helfe gern.")
    for user in (ANNA, BERT, CARL, DORA):
        await d.press(PT, 1, user, "agree")
    invitation = next(t for t in h.bot_texts(EVE) if "Link in den Chat" in t)
    return invitation.split(": ", 1)[1].split("\n")[0]


def invitation_used(h: Harness) -> bool:
    with peek(h.config) as db:
        (used,) = db.execute("SELECT used_at FROM invitations").fetchone()
    return used is not None


async def test_a_join_request_telegram_refuses_to_approve_leaves_the_link_valid(
    team: Teams,
) -> None:
    h, d = await team("PT")
    link = await admitted_with_a_link(h, d)
    h.model.faults.add(
        method="approveChatJoinRequest",
        kind="400",
        description="Bad Request: USER_CHANNELS_TOO_MUCH",
    )
    h.model.request_join(PT, EVE, link)
    await h.settle()
    assert not [c for c in h.model.calls_of("approveChatJoinRequest") if c.ok]
    told = h.bot_texts(EVE)[-1]
    assert "Beitrittsanfrage" in told and "nicht angenommen" in told and link in told
    assert not invitation_used(h)  # the link is Eve's as before

    h.model.request_join(PT, EVE, link)  # she tries again: now Telegram takes it
    await h.settle()
    assert h.model.chats[PT].join_requests[EVE].status == "approved"
    assert invitation_used(h)


async def test_a_join_approval_refused_after_a_restart_is_still_put_right(team: Teams) -> None:
    """The approval waited in the outbox (Telegram unreachable) when the bot stopped; the new
    process sends it, Telegram refuses it, and Eve is told all the same."""
    h, d = await team("PT")
    link = await admitted_with_a_link(h, d)
    h.model.faults.add(method="approveChatJoinRequest", kind="drop")
    h.model.request_join(PT, EVE, link)
    await h.settle()
    assert invitation_used(h)  # in the unit, with the approval queued
    await h.stop()
    h.model.faults.add(
        method="approveChatJoinRequest",
        kind="400",
        description="Bad Request: USER_CHANNELS_TOO_MUCH",
    )
    again = Harness(h.model, h.config, clock=h.clock)
    await again.start()
    try:
        await again.settle()
        again.clock.advance(again.config.limits.retry_max + 1)
        await again.outbox.flush_all()
        await again.settle()
        assert "nicht angenommen" in again.bot_texts(EVE)[-1]
        assert not invitation_used(again)
    finally:
        await again.stop()
