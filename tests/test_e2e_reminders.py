"""End to end: the reminder before a round or vote closes (SPEC §7) — once, mentioning
exactly the members who have not responded, and re-armed after a restart."""

from __future__ import annotations

from localapi.records import MessageRec
from tests.harness import ADMIN, ANNA, BERT, CARL, DORA, EVE, KT, LT, ST, Harness, Teams
from tests.test_e2e_elections import eve_and_bert_stand

HOUR = 3600


def reminders(h: Harness, chat_id: int = ST) -> list[MessageRec]:
    return [m for m in h.model.bot_messages(chat_id) if "Erinnerung" in (m.text or "")]


def mentioned(message: MessageRec) -> set[int]:
    return {e["user"]["id"] for e in message.entities if e["type"] == "text_mention"}


async def test_a_reminder_fires_once_and_mentions_exactly_who_has_not_responded(
    team: Teams,
) -> None:
    h, d = await team("ST")  # policy default: reminder 24 h before the close
    await h.say(ST, ANNA, "/propose 3d Neues Logo")
    card = d.card(ST, 1)
    await d.press(ST, 1, ANNA, "agree")
    await d.press(ST, 1, BERT, "abstain")
    await h.due(2 * 24 * HOUR - 60)  # a minute before the reminder
    assert reminders(h) == []
    await h.due(61)
    [reminder] = reminders(h)
    assert mentioned(reminder) == {CARL, DORA}  # Carl has no username: a text mention
    assert reminder.reply_to == card.message_id
    assert "#1" in (reminder.text or "") and "Neues Logo" in (reminder.text or "")
    # Carl answers now; later checks and the sweep send nothing more.
    await d.press(ST, 1, CARL, "agree")
    await h.due(HOUR)
    await h.due(HOUR)
    assert len(reminders(h)) == 1


async def test_no_reminder_when_everyone_responded(team: Teams) -> None:
    h, d = await team("ST", extra="[policy.ST]\nquorum = 1.0\n")
    await h.say(ST, ANNA, "/propose 3d Alle antworten")
    for person in (ANNA, BERT, CARL):
        await d.press(ST, 1, person, "agree")
    await d.press(ST, 1, DORA, "object")  # last one: the round closes early
    await h.due(3 * 24 * HOUR)
    assert reminders(h) == []


async def test_a_vote_is_reminded_too(team: Teams) -> None:
    h, _ = await team("ST", extra='[policy.ST]\nprocess = "majority"\n')
    await h.say(ST, ANNA, "/propose 2d Gleich abstimmen")
    [poll] = [m for m in h.model.bot_messages(ST) if m.poll is not None]
    h.model.answer_poll(poll.poll.id, ANNA, [0])
    await h.settle()
    await h.due(24 * HOUR + 1)
    [reminder] = reminders(h)
    assert "Mehrheitsabstimmung" in (reminder.text or "")
    assert mentioned(reminder) == {BERT, CARL, DORA}
    assert reminder.reply_to == poll.message_id


async def test_a_short_round_is_reminded_in_its_second_half_only(team: Teams) -> None:
    h, _ = await team("ST")
    await h.say(ST, ANNA, "/propose 4h Kurz")  # shorter than the 24 h reminder
    await h.due(HOUR)
    assert reminders(h) == []
    await h.due(HOUR + 1)
    assert len(reminders(h)) == 1


async def test_a_reminder_due_during_downtime_is_sent_once_after_the_restart(team: Teams) -> None:
    h, d = await team("ST")
    await h.say(ST, ANNA, "/propose 3d Über die Pause")
    await d.press(ST, 1, ANNA, "agree")
    await h.stop()
    h.clock.advance(2 * 24 * HOUR + 10)  # the reminder's moment passes while the bot is down
    again = Harness(h.model, h.config, clock=h.clock)
    await again.start()
    try:
        await again.settle()
        [reminder] = reminders(again)
        assert mentioned(reminder) == {BERT, CARL, DORA}
        await again.due(60)
    finally:
        await again.stop()
    third = Harness(h.model, h.config, clock=h.clock)
    await third.start()
    try:
        await third.settle()
        assert len(reminders(third)) == 1
    finally:
        await third.stop()


async def test_a_held_reminder_names_who_is_still_missing_when_it_goes_out(team: Teams) -> None:
    """A chat over its budget holds the reminder; it goes out naming only who is still
    missing then — and not at all once the round has closed."""
    h, d = await team("ST")
    await h.say(ST, ANNA, "/propose 3d Gehalten")
    await h.say(ST, BERT, "/propose 3d Geschlossen")
    await d.press(ST, 1, ANNA, "agree")
    await d.press(ST, 2, ANNA, "agree")
    queue = h.services.outbox._queue(ST)
    queue.blocked_until = h.clock.monotonic() + 3 * 24 * HOUR  # as after 429s
    await h.due(2 * 24 * HOUR + 1)
    assert reminders(h) == []
    await d.press(ST, 1, BERT, "agree")  # #1: Bert answers while it waits
    for person in (BERT, CARL, DORA):  # #2: everyone answers, the round closes
        await d.press(ST, 2, person, "agree")
    queue.blocked_until = 0
    await h.services.outbox.flush_all()
    await h.settle()
    [reminder] = reminders(h)
    assert "#1" in (reminder.text or "")
    assert mentioned(reminder) == {CARL, DORA}


async def test_a_long_list_of_missing_members_stays_one_message(team: Teams) -> None:
    h, d = await team("LT", members=(ANNA,))
    for n in range(60):  # sixty people join the LT's chat: its roster, none of them responds
        h.model.add_user(5000 + n, f"Mitglied {n:02}")
        h.model.member_joins(LT, 5000 + n)
    await h.settle()
    await h.say(LT, ANNA, "/propose 3d Viele")
    await d.press(LT, 1, ANNA, "agree")
    await h.due(2 * 24 * HOUR + 1)
    [reminder] = reminders(h, LT)
    assert len(mentioned(reminder)) == 50
    assert (reminder.text or "").endswith(" und 10 weitere")


async def test_an_election_is_reminded_before_its_poll_closes(team: Teams) -> None:
    h, _ = await team.network()
    poll = await eve_and_bert_stand(h, "3d")
    for voter in (ANNA, CARL):
        h.model.answer_poll(poll.id, voter, [0])
    await h.settle()
    await h.due(2 * 24 * HOUR - 60)  # the poll opened just now, for three days
    assert reminders(h, KT) == []
    await h.due(61)
    await h.due(60)
    [reminder] = reminders(h, KT)
    assert "Wahl #1" in (reminder.text or "")
    assert mentioned(reminder) == {ADMIN, BERT, DORA, EVE}  # the NET chat's roster, less voters
    assert reminder.reply_to == poll.message_id
