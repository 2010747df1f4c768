"""The network admins are told privately when something needs them (SPEC §9): the bot was
demoted in or removed from a team chat, or a team chat's queue, or the private chats', is
stuck for longer than `[limits] stuck_after` — each once, through the outbox."""

from __future__ import annotations

from tests.harness import ADMIN, ANNA, BERT, CARL, DORA, PT, ST, Harness, Teams


def notes(h: Harness, words: str) -> list[str]:
    return [text for text in h.bot_texts(ADMIN) if words in text]


async def test_a_demotion_and_a_removal_are_each_told_to_the_admins_once(team: Teams) -> None:
    h, _ = await team("ST")
    await team("PT", ())
    h.model.start_bot(ADMIN)
    await h.settle()
    h.model.set_bot_rights(ST, "member")
    await h.settle()
    # Rights changed again, still without invite rights: no news for the admins.
    h.model.set_bot_rights(ST, "administrator", can_invite_users=False)
    await h.settle()
    h.model.set_bot_rights(ST, "member")
    await h.settle()
    demoted = notes(h, "nicht mehr Admin")
    assert len(demoted) == 1 and "Steuerungsteam" in demoted[0]
    # Removed after the demotion: that is news again, once.
    h.model.set_bot_rights(ST, "left")
    await h.settle()
    (removed_st,) = notes(h, "entfernt")
    assert "Steuerungsteam" in removed_st

    h.model.set_bot_rights(PT, "left")
    await h.settle()
    removed = notes(h, "entfernt")
    assert len(removed) == 2 and "Projektteam" in removed[1]


STUCK = "stecken fest"


async def test_a_stuck_team_queue_is_told_to_the_admins_once_per_episode(team: Teams) -> None:
    h, _ = await team("ST", limits='stuck_after = "30m"\n')
    h.model.start_bot(ADMIN)
    await h.settle()
    # Telegram holds every message to the ST chat back for an hour.
    h.model.faults.add("sendMessage", "429", retry_after=3600, times=1, chat_id=ST)
    await h.say(ST, CARL, "/offen")
    await h.due(29 * 60)
    assert notes(h, STUCK) == []  # not yet
    await h.due(2 * 60)
    (note,) = notes(h, STUCK)
    assert "Steuerungsteam" in note and "31 Minuten" in note and "1 warten" in note
    await h.due(20 * 60)
    assert len(notes(h, STUCK)) == 1  # the same episode: not again

    # The hold ends, the reply goes out: the episode is over.
    await h.due(10 * 60)
    await h.services.outbox.flush(ST)
    await h.settle()
    assert await h.services.outbox.pending(ST) == 0
    await h.due(60)
    # Stuck again later: a new episode, told again.
    h.model.faults.add("sendMessage", "429", retry_after=3600, times=1, chat_id=ST)
    await h.say(ST, CARL, "/offen")
    await h.due(31 * 60)
    assert len(notes(h, STUCK)) == 2
    # A private chat that waits is no team held up.
    assert all("stecken" not in text for text in h.bot_texts(CARL))


PRIVATE_STUCK = "in privaten Chats stecken fest"


async def test_stuck_private_chats_are_told_to_the_admins_as_counts_once_per_episode(
    team: Teams,
) -> None:
    h, _ = await team("ST", limits='stuck_after = "30m"\n')
    h.model.start_bot(ADMIN)
    for person in (ANNA, BERT, CARL, DORA):
        h.model.start_bot(person)
    await h.settle()
    # Telegram keeps failing what goes to Bert and Carl privately (a 502 each time)…
    for person in (BERT, CARL):
        h.model.faults.add("sendMessage", "502", times=1000, chat_id=person)
    # …and Dora has blocked the bot: her messages are refused, they wait for nothing.
    h.model.faults.add(
        "sendMessage",
        "403",
        description="Forbidden: bot was blocked by the user",
        times=1000,
        chat_id=DORA,
    )
    for person in (BERT, CARL, CARL, DORA):
        await h.say(person, person, "/hilfe")
    await h.due(29 * 60)
    assert [t for t in h.bot_texts(ADMIN) if "stecken fest" in t] == []  # not yet
    await h.due(2 * 60)
    (note,) = notes(h, PRIVATE_STUCK)
    assert "Wartende Nachrichten: 3, in privaten Chats: 2;" in note and "31 Minuten" in note
    # Who waits stays private: no name, username or Telegram id.
    for who in ("Bert", "Carl", "Dora", "bert", "carl_x", "dora", str(BERT), str(CARL)):
        assert who not in note
    assert notes(h, "Chat, der zum") == []  # no team chat is held up
    await h.due(20 * 60)
    assert len(notes(h, PRIVATE_STUCK)) == 1  # the same episode: not again

    # Telegram answers again: everything goes out, the episode is over.
    h.model.faults.clear()
    await h.due(10 * 60)
    for person in (BERT, CARL):
        await h.services.outbox.flush(person)
    await h.settle()
    assert await h.services.outbox.pending(BERT) == await h.services.outbox.pending(CARL) == 0
    await h.due(60)
    # Stuck again later, in one chat: a new episode, told again.
    h.model.faults.add("sendMessage", "502", times=1000, chat_id=CARL)
    await h.say(CARL, CARL, "/hilfe")
    await h.due(31 * 60)
    again = notes(h, PRIVATE_STUCK)
    assert len(again) == 2 and "Wartende Nachrichten: 1, in privaten Chats: 1;" in again[1]
