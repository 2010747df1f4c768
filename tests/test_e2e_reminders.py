"""End to end: the reminder before a round or vote closes (SPEC §7) — once, mentioning
exactly the members who have not responded, and re-armed after a restart."""

from __future__ import annotations

from pathlib import Path

from localapi.records import MessageRec
from tests.harness import ANNA, BERT, CARL, DORA, KT, ST, Harness, start_net
from tests.test_e2e_elections import eve_and_bert_stand
from tests.test_e2e_resilience import setup_team

HOUR = 3600


def reminders(h: Harness, chat_id: int = ST) -> list[MessageRec]:
    return [m for m in h.model.bot_messages(chat_id) if "Erinnerung" in (m.text or "")]


def mentioned(message: MessageRec) -> set[int]:
    return {e["user"]["id"] for e in message.entities if e["type"] == "text_mention"}


async def tick(h: Harness, seconds: float) -> None:
    """Time passes; what is due (deadlines, reminders) is handled as the jobs would."""
    h.clock.advance(seconds)
    await h.services.decisions.run_due()
    await h.services.reminders.run_due()
    await h.settle()


async def test_a_reminder_fires_once_and_mentions_exactly_who_has_not_responded(
    tmp_path: Path,
) -> None:
    h, d = await setup_team(tmp_path)  # policy default: reminder 24 h before the close
    try:
        await h.say(ST, ANNA, "/propose 3d Neues Logo")
        card = d.card(ST, 1)
        await d.press(ST, 1, ANNA, "agree")
        await d.press(ST, 1, BERT, "abstain")
        await tick(h, 2 * 24 * HOUR - 60)  # a minute before the reminder
        assert reminders(h) == []
        await tick(h, 61)
        [reminder] = reminders(h)
        assert mentioned(reminder) == {CARL, DORA}  # Carl has no username: a text mention
        assert reminder.reply_to == card.message_id
        assert "#1" in (reminder.text or "") and "Neues Logo" in (reminder.text or "")
        # Carl answers now; later checks and the sweep send nothing more.
        await d.press(ST, 1, CARL, "agree")
        await tick(h, HOUR)
        await tick(h, HOUR)
        assert len(reminders(h)) == 1
    finally:
        await h.stop()


async def test_no_reminder_when_everyone_responded(tmp_path: Path) -> None:
    h, d = await setup_team(tmp_path, extra="[policy.ST]\nquorum = 1.0\n")
    try:
        await h.say(ST, ANNA, "/propose 3d Alle antworten")
        for person in (ANNA, BERT, CARL):
            await d.press(ST, 1, person, "agree")
        await d.press(ST, 1, DORA, "object")  # last one: the round closes early
        await tick(h, 3 * 24 * HOUR)
        assert reminders(h) == []
    finally:
        await h.stop()


async def test_a_vote_is_reminded_too(tmp_path: Path) -> None:
    h, _ = await setup_team(tmp_path, extra='[policy.ST]\nprocess = "majority"\n')
    try:
        await h.say(ST, ANNA, "/propose 2d Gleich abstimmen")
        [poll] = [m for m in h.model.bot_messages(ST) if m.poll is not None]
        h.model.answer_poll(poll.poll.id, ANNA, [0])
        await h.settle()
        await tick(h, 24 * HOUR + 1)
        [reminder] = reminders(h)
        assert "Mehrheitsabstimmung" in (reminder.text or "")
        assert mentioned(reminder) == {BERT, CARL, DORA}
        assert reminder.reply_to == poll.message_id
    finally:
        await h.stop()


async def test_a_short_round_is_reminded_in_its_second_half_only(tmp_path: Path) -> None:
    h, _ = await setup_team(tmp_path)
    try:
        await h.say(ST, ANNA, "/propose 4h Kurz")  # shorter than the 24 h reminder
        await tick(h, HOUR)
        assert reminders(h) == []
        await tick(h, HOUR + 1)
        assert len(reminders(h)) == 1
    finally:
        await h.stop()


async def test_a_reminder_due_during_downtime_is_sent_once_after_the_restart(
    tmp_path: Path,
) -> None:
    h, d = await setup_team(tmp_path)
    try:
        await h.say(ST, ANNA, "/propose 3d Über die Pause")
        await d.press(ST, 1, ANNA, "agree")
    finally:
        await h.stop()
    h.clock.advance(2 * 24 * HOUR + 10)  # the reminder's moment passes while the bot is down
    again = Harness(h.model, h.config, clock=h.clock)
    await again.start()
    try:
        await again.settle()
        [reminder] = reminders(again)
        assert mentioned(reminder) == {BERT, CARL, DORA}
        await tick(again, 60)
    finally:
        await again.stop()
    third = Harness(h.model, h.config, clock=h.clock)
    await third.start()
    try:
        await third.settle()
        assert len(reminders(third)) == 1
    finally:
        await third.stop()


async def test_a_held_reminder_names_who_is_still_missing_when_it_goes_out(
    tmp_path: Path,
) -> None:
    """A chat over its budget holds the reminder; it goes out naming only who is still
    missing then — and not at all once the round has closed."""
    h, d = await setup_team(tmp_path)
    try:
        await h.say(ST, ANNA, "/propose 3d Gehalten")
        await h.say(ST, BERT, "/propose 3d Geschlossen")
        await d.press(ST, 1, ANNA, "agree")
        await d.press(ST, 2, ANNA, "agree")
        queue = h.services.outbox._queue(ST)
        queue.blocked_until = h.clock.monotonic() + 3 * 24 * HOUR  # as after 429s
        await tick(h, 2 * 24 * HOUR + 1)
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
    finally:
        await h.stop()


async def test_a_long_list_of_missing_members_stays_one_message(tmp_path: Path) -> None:
    h, _ = await setup_team(tmp_path)
    try:
        people = h.services.storage.people
        ids = [
            (await people.seen(5000 + n, f"Mitglied {n:02}", None, None, "de", h.clock.now())).id
            for n in range(60)
        ]
        await h.say(ST, ANNA, "/propose 3d Viele")
        [stage] = await h.services.storage.reminders.unsent()
        text = await h.services.reminders._text(stage, ids)
        assert text.count("tg://user?id=") == 50
        assert text.endswith(" und 10 weitere")
    finally:
        await h.stop()


async def test_an_election_is_reminded_before_its_poll_closes(tmp_path: Path) -> None:
    h = await start_net(tmp_path)
    try:
        poll = await eve_and_bert_stand(h, "3d")
        for voter in (ANNA, CARL):
            h.model.answer_poll(poll.id, voter, [0])
        await h.settle()
        [election] = await h.services.storage.elections.unfinished()
        electorate = await h.services.storage.elections.electorate(election.id)
        people = await h.services.storage.people.by_ids(sorted(electorate))
        missing = {p.telegram_id for p in people.values()} - {ANNA, CARL}
        assert election.vote_deadline is not None
        await tick(h, (election.vote_deadline - h.clock.now()).total_seconds() - 24 * HOUR - 60)
        assert reminders(h, KT) == []
        await tick(h, 61)
        await tick(h, 60)
        [reminder] = reminders(h, KT)
        assert "Wahl #1" in (reminder.text or "")
        assert mentioned(reminder) == missing and BERT in missing
        assert reminder.reply_to == poll.message_id
    finally:
        await h.stop()
