"""The group budget (20 messages and edits a minute per group) is spent on what matters:
one message per chat for a declined nomination, several people admitted by one /admit, and
one planned flush per chat however many items wait behind a spent budget."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.clock import ManualClock
from bot.flows.rosters import MAX_AT_ONCE
from bot.texts.i18n import Html
from tests.harness import (
    ADMIN,
    ANNA,
    BERT,
    CARL,
    DORA,
    EVE,
    LT,
    PT,
    ST,
    DecisionSteps,
    Harness,
    Teams,
    make_config,
    make_model,
)

# What spends a group's budget: every message and every edit, polls and their stop too.
WRITES = ("sendMessage", "editMessageText", "editMessageReplyMarkup", "sendPoll", "stopPoll")


def writes_since(h: Harness, mark: int, chat_id: int) -> list:
    return [
        c
        for c in h.model.calls[mark:]
        if c.method in WRITES and str(c.params.get("chat_id")) == str(chat_id)
    ]


async def decline(h: Harness, candidate: int) -> dict:
    question = next(m for m in reversed(h.model.bot_messages(candidate)) if m.reply_markup)
    query = h.model.press_button(candidate, question.message_id, candidate, button_text="Ablehnen")
    answer = await h.model.wait_callback_answer(query)
    await h.settle()
    await h.flush_edits()
    return answer


# -- (a) a declined nomination: one message per chat -----------------------------------------


@pytest.mark.parametrize("before", ["nothing", "a press", "the PT approved"])
async def test_a_declined_nomination_costs_each_chat_one_message_and_its_card_edit(
    net: tuple[Harness, DecisionSteps], before: str
) -> None:
    h, d = net
    h.model.start_bot(EVE)
    await h.settle()
    await h.say(PT, ANNA, "/nominieren 2d @eve UT kennt alle Lösungsteams")
    if before == "a press":  # the PT's card has a response on it already
        await d.press(PT, 1, BERT, "agree")
    if before == "the PT approved":  # its card is closed, its Beschluss posted
        await d.press(PT, 1, ANNA, "agree")
        await d.press(PT, 1, BERT, "agree")
    await h.flush_edits()
    cards = {PT: d.card(PT, 1), ST: d.card(ST, 2)}
    mark = len(h.model.calls)
    answer = await decline(h, EVE)
    assert "Absage" in answer["text"]
    for chat, proposal_id in ((PT, 1), (ST, 2)):
        writes = writes_since(h, mark, chat)
        sent = [c for c in writes if c.method == "sendMessage"]
        edits = [c for c in writes if c.method == "editMessageText"]
        still_open = not (chat == PT and before == "the PT approved")
        assert len(sent) == 1 and len(edits) == int(still_open), [
            (c.method, c.params) for c in writes
        ]
        assert len(writes) == 1 + int(still_open)
        text = sent[0].params["text"]
        assert "Eve" in text and "abgelehnt" in text and "/nominieren" in text, text
        if still_open:
            assert edits[0].params["message_id"] == cards[chat].message_id
            assert f"#{proposal_id}" in text and "<b>zurückgezogen</b>" in text, text
        else:
            assert "sie ist beendet" in text and "zurückgezogen" not in text, text
        assert d.card(chat, proposal_id).reply_markup is None
    mine = writes_since(h, mark, EVE)
    assert [c.method for c in mine] == ["sendMessage"]
    assert "Du hast die Nominierung" in mine[0].params["text"]


async def test_a_nomination_one_team_rejects_costs_the_other_chat_one_message(
    net: tuple[Harness, DecisionSteps],
) -> None:
    """The PT rejects (Einwand twice, then the vote says Nein) while the ST has not decided:
    the ST's decision is withdrawn, and the ST hears it once, with why."""
    h, d = net
    h.model.start_bot(EVE)
    await h.settle()
    await h.say(PT, ANNA, "/nominieren 2d @eve UT")
    for round_number in (1, 2):
        for user in (ANNA, BERT):
            await d.press(PT, 1, user, "object", round_number=round_number)
    poll = next(m.poll for m in h.model.bot_messages(PT) if m.poll)
    mark = len(h.model.calls)
    h.model.answer_poll(poll.id, ANNA, [1])
    h.model.answer_poll(poll.id, BERT, [1])  # everyone voted: closed at once, Abgelehnt
    await h.settle()
    await h.flush_edits()
    st = writes_since(h, mark, ST)
    assert [c.method for c in sorted(st, key=lambda c: c.method)] == [
        "editMessageText",
        "sendMessage",
    ], [(c.method, c.params) for c in st]
    text = next(c.params["text"] for c in st if c.method == "sendMessage")
    assert "#2" in text and "Projektteam" in text and "<b>zurückgezogen</b>" in text, text
    assert d.card(ST, 2).reply_markup is None
    pt = [c.params.get("text", "") for c in writes_since(h, mark, PT) if c.method == "sendMessage"]
    assert sum("abgelehnt; sie ist beendet" in t for t in pt) == 1, pt
    assert "deine Nominierung" in h.last_text(EVE)


# -- (b) one /admit for several people -------------------------------------------------------


async def admit(h: Harness, chat: int, text: str, **kwargs: Any) -> tuple[str, list]:
    """A network admin's /admit: the bot's one answer, and every write the chat got for it."""
    mark = len(h.model.calls)
    reply = await h.say(chat, ADMIN, text, **kwargs)
    assert reply is not None and reply.text is not None
    return reply.text, writes_since(h, mark, chat)


async def known(h: Harness, chat: int, *users: int) -> None:
    """These people write in the chat first, so the bot knows them (and their @username)."""
    for user in users:
        h.model.send_message(chat, user, "Hallo")
    await h.settle()


async def test_one_admit_enters_several_people_each_on_their_own(team: Teams) -> None:
    h = await team.bot()
    await h.bind(PT, "PT", "Projektteam")
    await known(h, PT, ANNA, BERT, CARL, DORA, EVE)
    assert "✅" in (await h.admit(PT, "eve")).text
    text = "/aufnehmen @anna, @bert @ANNA @eve @nobody_here @wiq_test_bot Carl könig @dora"
    mention = (CARL, text.index("Carl"), 4)  # Carl, named by a text mention
    answer, writes = await admit(h, PT, text, text_mentions=[mention])
    assert len(writes) == 1  # one answer for them all
    lines = answer.splitlines()
    assert lines[0] == "Aufnahme ins „Projektteam“ (PT):"
    assert lines[1] == "✅ Jetzt Mitglied (4): Anna, Bert, Carl, Dora"
    assert lines[2] == "☑️ Schon auf der Mitgliederliste (1): Eve"
    assert lines[3].startswith("❓ Kenne ich noch nicht (1): @nobody_here – antworte")
    assert lines[4] == "🤖 Bots können nicht Mitglied eines Teams sein (1): @wiq_test_bot"
    assert lines[5].startswith("❔ Kein Name (1): könig – ")
    assert len(lines) == 6
    assert sorted(await h.roster(PT)) == ["Anna", "Bert", "Carl", "Dora", "Eve"]
    listing = await h.say(PT, ADMIN, "/members")
    assert listing is not None and listing.text.count("eingetragen von Ada") == 5


async def test_the_st_enters_several_people_to_one_seat(team: Teams) -> None:
    h = await team.bot()
    await h.bind(ST, "ST", "Steuerungsteam")
    await known(h, ST, ANNA, BERT, CARL)
    answer, writes = await admit(h, ST, "/admit @anna @bert")
    assert "braucht jedes Mitglied einen Sitz" in answer and len(writes) == 1
    answer, _ = await admit(h, ST, "/admit @anna @bert könig Quartiersverein")
    assert "braucht jedes Mitglied einen Sitz" in answer
    assert await h.roster(ST) == []  # nothing changed
    answer, writes = await admit(
        h, ST, "/admit @anna @bert @carl_x zivilgesellschaft Quartiersverein Ost"
    )
    assert len(writes) == 1
    assert answer.splitlines()[0] == (
        "Aufnahme ins „Steuerungsteam“ (ST) – Sitz: Zivilgesellschaft,"
        " entsandt von: Quartiersverein Ost:"
    )
    assert answer.splitlines()[1] == "✅ Jetzt Mitglied (3): Anna, Bert, Carl"
    listing = await h.say(ST, ADMIN, "/members")
    assert listing is not None
    assert listing.text.count("Sitz: Zivilgesellschaft, entsandt von: Quartiersverein Ost") == 3
    await known(h, ST, DORA)
    answer, _ = await admit(h, ST, "/admit @anna @dora politics")  # English seats too
    assert "✅ Jetzt Mitglied (1): Dora" in answer
    assert "Schon auf der Mitgliederliste (1): Anna" in answer


async def test_hostile_admits_get_a_clear_answer_and_change_nothing_they_should_not(
    team: Teams,
) -> None:
    h = await team.bot()
    await h.bind(PT, "PT", "Projektteam")
    await known(h, PT, ANNA, BERT)
    crowd = " ".join(f"@person_{n:03}" for n in range(200))
    answer, writes = await admit(h, PT, f"/admit {crowd} @anna")
    assert f"Höchstens {MAX_AT_ONCE} Personen auf einmal – du hast 201 genannt" in answer
    assert len(writes) == 1 and await h.roster(PT) == []
    same = " ".join(["@anna"] * 200)  # the same person 200 times is one person
    answer, _ = await admit(h, PT, f"/admit {same}")
    assert answer.startswith("✅ Anna ist jetzt Mitglied")
    for empty in ("/admit", "/admit , ,", "/admit zivilgesellschaft"):
        answer, writes = await admit(h, PT, empty)
        assert "Wen meinst du?" in answer and len(writes) == 1, empty
    await h.bind(ST, "ST", "Steuerungsteam")
    answer, _ = await admit(h, ST, "/admit zivilgesellschaft")  # only the seat
    assert "Wen meinst du?" in answer
    assert await h.roster(ST) == []
    # Odd unicode: invisible characters (a zero-width space, a right-to-left override) and a
    # comma after a copied name are no part of it; full-width letters and a 10,000-character
    # word name nobody and come back short; markup comes back as typed.
    odd = "@ｂｅｒｔ @\u202ebert <b>@x</b> @" + "x" * 10_000
    answer, writes = await admit(h, PT, f"/admit @bert\u200b, {odd}")
    assert len(writes) == 1 and len(answer) < 600
    lines = answer.splitlines()
    assert lines[1] == "✅ Jetzt Mitglied (1): Bert"  # named twice, entered once
    assert lines[2].startswith("❓ Kenne ich noch nicht (2): @ｂｅｒｔ, @" + "x" * 38 + "… – ")
    assert lines[3].startswith("❔ Kein Name (1): <b>@x</b> – ")
    assert sorted(await h.roster(PT)) == ["Anna", "Bert"]


async def test_a_reply_names_the_person_only_when_the_command_names_nobody(team: Teams) -> None:
    h = await team.bot()
    await h.bind(PT, "PT", "Projektteam")
    await known(h, PT, ANNA)
    hello = h.model.send_message(PT, CARL, "Könnt ihr @anna aufnehmen?")
    await h.settle()
    answer, _ = await admit(h, PT, "/admit @anna", reply_to=hello["message_id"])
    assert answer.startswith("✅ Anna ist jetzt Mitglied")
    assert await h.roster(PT) == ["Anna"]  # not Carl, who only asked
    answer, _ = await admit(h, PT, "/admit", reply_to=hello["message_id"])
    assert answer.startswith("✅ Carl ist jetzt Mitglied")


async def test_a_team_that_decides_on_admissions_takes_one_person_at_a_time(team: Teams) -> None:
    h, d = await team("LT", members=(ANNA, BERT, CARL))
    await h.say(LT, ANNA, "/einstellungen mode explicit")
    for user in (ANNA, BERT, CARL):
        await d.press(LT, 1, user, "agree")
    await known(h, PT, DORA)  # the bot knows Dora's @username
    h.model.send_message(LT, EVE, "Darf ich mitmachen?")
    await h.settle()
    mark = len(h.model.calls)
    reply = await h.say(LT, BERT, "/admit @eve @dora")
    assert reply is not None and "eine Person je /aufnehmen" in reply.text
    assert len(writes_since(h, mark, LT)) == 1  # no card: nothing put to the team
    await h.say(LT, BERT, "/admit @eve")
    assert "Aufnahme von Eve" in d.card(LT, 2).text


def members_group(h: Harness, chat_id: int, first_id: int) -> list[int]:
    """A group of 30 people the bot has not seen yet, with a network admin."""
    people = list(range(first_id, first_id + 30))
    for n, user in enumerate(people):
        h.model.add_user(user, f"Mitglied{n:02}", username=f"mitglied_{user}")
    h.model.add_group(chat_id, "Gruppe", members=people, admins=[ADMIN], bot_status="administrator")
    return people


async def test_a_set_up_of_30_members_costs_3_messages_in_batches_instead_of_30(
    team: Teams,
) -> None:
    """The figure of issue 11: the messages a group gets for entering 30 members — one
    /admit each, three of ten, or one of thirty."""
    h = await team.bot()
    chats = {"single": -1001000000101, "tens": -1001000000102, "thirty": -1001000000103}
    firsts = {"single": 2000, "tens": 3000, "thirty": 4000}
    for (how, chat_id), kind in zip(chats.items(), ("PT", "KT", "UT"), strict=True):
        people = members_group(h, chat_id, firsts[how])
        await h.bind(chat_id, kind, kind)
        await known(h, chat_id, *people)
    mark = len(h.model.calls)
    names = {how: [f"@mitglied_{firsts[how] + n}" for n in range(30)] for how in chats}
    for name in names["single"]:
        h.model.send_message(chats["single"], ADMIN, f"/admit {name}")
    for batch in range(3):
        tens = names["tens"][batch * 10 : batch * 10 + 10]
        h.model.send_message(chats["tens"], ADMIN, "/admit " + " ".join(tens))
    h.model.send_message(chats["thirty"], ADMIN, "/admit " + " ".join(names["thirty"]))
    await h.settle()
    # /setup took one of the minute's 20: 19 answers went out, 11 wait for the next minute
    assert await h.outbox.pending(chats["single"]) == 11
    h.clock.advance(61)
    await h.outbox.flush_all()
    writes = {how: len(writes_since(h, mark, chat_id)) for how, chat_id in chats.items()}
    assert writes == {"single": 30, "tens": 3, "thirty": 1}  # 27 or 29 of 30 writes saved
    for chat_id in chats.values():
        assert len(await h.roster(chat_id)) == 30


# -- (c) one planned flush per chat ----------------------------------------------------------


class TickingClock(ManualClock):
    """A manual clock on which time also passes while the bot works, as on a real one: every
    reading moves both readings on by a few milliseconds (varying, as real work does)."""

    def __init__(self) -> None:
        super().__init__()
        self._ticks = random.Random(11)
        self.ticking = False

    def _tick(self) -> None:
        if self.ticking:
            self.advance(self._ticks.uniform(0.0005, 0.02))

    def now(self) -> datetime:
        moment = super().now()
        self._tick()
        return moment

    def monotonic(self) -> float:
        moment = super().monotonic()
        self._tick()
        return moment


@pytest.fixture
async def ticking(tmp_path: Path) -> AsyncIterator[Harness]:
    clock = TickingClock()
    harness = Harness(make_model(clock=clock.monotonic), make_config(tmp_path), clock=clock)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()


async def test_items_behind_a_spent_budget_plan_one_flush_for_the_chat(ticking: Harness) -> None:
    h = ticking
    outbox = h.outbox
    planned: list[tuple[int, float]] = []
    jobs = []
    schedule = outbox.schedule

    def counting(delay: float, chat_id: int, run: Callable[[], Awaitable[None]]) -> None:
        planned.append((chat_id, delay))
        jobs.append(run)
        schedule(delay, chat_id, run)

    outbox.schedule = counting
    assert isinstance(h.clock, TickingClock)
    h.clock.ticking = True
    for n in range(20):
        await outbox.send(PT, Html(f"Nachricht {n}"))
    assert planned == []  # within the budget: everything went out at once
    for n in range(40):
        await outbox.send(PT, Html(f"Wartet {n}"))
    assert await outbox.pending(PT) == 40
    assert len([p for p in planned if p[0] == PT]) == 1, planned
    queued = [job for job in h.app.job_queue.jobs() if job.name == f"outbox-flush:{PT}"]
    assert len(queued) == 1
    h.clock.advance(61)  # the planned flush runs (as the job queue runs it): 20 go out
    await jobs[0]()
    assert await outbox.pending(PT) == 20
    assert len([p for p in planned if p[0] == PT]) == 2, planned  # and one for the rest
    for n in range(10):
        await outbox.send(PT, Html(f"Noch {n}"))
    assert len([p for p in planned if p[0] == PT]) == 2, planned
    h.clock.advance(61)
    await jobs[1]()
    h.clock.advance(61)
    await jobs[2]()
    assert await outbox.pending(PT) == 0
    assert len(planned) == 3


async def test_an_earlier_flush_replaces_the_planned_one(ticking: Harness) -> None:
    """A 429 on a join request's answer (no message: outside the budget) asks for a retry in
    3 s while the chat's messages wait a minute for the budget: the retry goes at 3 s (not
    with the minute's flush), which plans the minute again; of the two jobs for that minute
    one sends, the other finds nothing to do."""
    h = ticking
    outbox = h.outbox
    jobs = []
    schedule = outbox.schedule

    def keeping(delay: float, chat_id: int, run: Callable[[], Awaitable[None]]) -> None:
        jobs.append((delay, run))
        schedule(delay, chat_id, run)

    outbox.schedule = keeping
    for n in range(21):
        await outbox.send(PT, Html(f"Nachricht {n}"))
    assert [round(delay) for delay, _ in jobs] == [60]
    h.model.fail_next("approveChatJoinRequest", error_code=429, retry_after=3)
    await outbox.approve_join_request(PT, 4242)
    assert [round(delay) for delay, _ in jobs] == [60, 3]
    h.clock.advance(3)
    await jobs[1][1]()
    assert len(h.model.calls_of("approveChatJoinRequest")) == 2  # retried after 3 s
    assert [round(delay) for delay, _ in jobs] == [60, 3, 57]  # the message: its minute
    assert len(h.model.calls_of("sendMessage")) == 20 and await outbox.pending(PT) == 1
    h.clock.advance(57)
    await jobs[0][1]()
    await jobs[2][1]()
    assert len(h.model.calls_of("sendMessage")) == 21 and await outbox.pending(PT) == 0
    assert len(jobs) == 3
