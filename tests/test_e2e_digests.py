"""End to end: the weekly digests (SPEC §7) — when they go out (local time, across a
daylight-saving change, caught up once after downtime), what they say, and what the
public one never says."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.clock import ManualClock
from localapi.records import MessageRec
from tests.harness import (
    ADMIN,
    ANNA,
    BERT,
    CARL,
    DORA,
    EVE,
    KT,
    PLAIN,
    PT,
    PUBLIC,
    ST,
    UT,
    DecisionSteps,
    Harness,
    Teams,
)
from tests.test_e2e_elections import eve_and_bert_stand
from tests.test_e2e_nominations import accept, approve

DAY = 86400


def digest_messages(h: Harness, chat_id: int) -> list[MessageRec]:
    return [
        m
        for m in h.model.bot_messages(chat_id)
        if (m.text or "").startswith(("📅", "📰"))  # the digests' own marks
    ]


def digests(h: Harness, chat_id: int) -> list[str]:
    return [m.text or "" for m in digest_messages(h, chat_id)]


def links(message: MessageRec) -> list[str]:
    return [e["url"] for e in message.entities if e["type"] == "text_link"]


async def at(h: Harness, moment: datetime) -> None:
    """Time moves on to `moment`; the digest job does what is due."""
    assert isinstance(h.clock, ManualClock)
    h.clock.advance((moment - h.clock.now()).total_seconds())
    await h.services.digests.run_due()
    await h.settle()


async def test_the_digest_fires_at_nine_local_time_across_the_clock_change(team: Teams) -> None:
    # Monday 19 October 2026, 08:00 in Berlin (summer time, UTC+2)
    h, _ = await team("ST", (), start=datetime(2026, 10, 19, 6, 0, tzinfo=UTC))
    await at(h, datetime(2026, 10, 19, 6, 59, 59, tzinfo=UTC))
    assert digests(h, ST) == []
    await at(h, datetime(2026, 10, 19, 7, 0, tzinfo=UTC))  # 09:00 CEST
    assert len(digests(h, ST)) == 1
    # The one timer wakes next for Monday 26 October, 09:00 CET = 08:00 UTC.
    assert await h.due_timer.next_moment() == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)
    await at(h, datetime(2026, 10, 26, 7, 0, tzinfo=UTC))  # 08:00 CET: not yet
    assert len(digests(h, ST)) == 1
    await at(h, datetime(2026, 10, 26, 8, 0, tzinfo=UTC))  # 09:00 CET
    assert len(digests(h, ST)) == 2
    await at(h, datetime(2026, 10, 26, 8, 30, tzinfo=UTC))  # the sweep again: nothing
    assert len(digests(h, ST)) == 2


async def test_a_digest_missed_during_downtime_is_sent_once_after_the_restart(team: Teams) -> None:
    h, _ = await team("ST", (), start=datetime(2026, 11, 4, 10, 0, tzinfo=UTC))  # a Wednesday
    await h.stop()
    h.clock.advance(9 * DAY)  # down over Monday 9 and until Friday 13 November
    # The first start claims the missed digest with its post, which still waits in the outbox
    # (Telegram says "too many requests" for a minute) when the bot stops again.
    h.model.fail_next("sendMessage", 429, retry_after=60)
    for attempt in range(3):
        again = Harness(h.model, h.config, clock=h.clock)
        await again.start()
        try:
            await again.settle()
            await again.services.digests.run_due()
            await again.settle()
        finally:
            await again.stop()
        # once, however often the bot restarts
        assert len(digests(h, ST)) == (0 if attempt == 0 else 1)
    h.clock.advance(7 * DAY)
    fourth = Harness(h.model, h.config, clock=h.clock)
    await fourth.start()
    try:
        await fourth.settle()
        assert len(digests(h, ST)) == 2  # the next week's
    finally:
        await fourth.stop()


async def test_a_quiet_week_is_one_line(team: Teams) -> None:
    h, _ = await team("ST", (), start=datetime(2026, 11, 2, 8, 0, tzinfo=UTC))
    await at(h, datetime(2026, 11, 9, 8, 0, tzinfo=UTC))
    [line] = digests(h, ST)
    assert "ruhige Woche" in line and "\n" not in line


async def test_a_quiet_week_can_be_nothing(team: Teams) -> None:
    quiet, _ = await team(
        "ST",
        (),
        start=datetime(2026, 11, 2, 8, 0, tzinfo=UTC),
        extra='[digest]\nquiet_week = "nothing"\n',
    )
    await at(quiet, datetime(2026, 11, 9, 8, 0, tzinfo=UTC))
    assert digests(quiet, ST) == []
    # On demand, /rueckblick still answers.
    reply = await quiet.say(ST, ADMIN, "/rueckblick")
    assert reply is not None and "ruhige Woche" in (reply.text or "")


async def a_busy_week(team: Teams) -> tuple[Harness, DecisionSteps]:
    """PT: Anna, Bert; ST: Carl, Dora. In one week: a Konsens in the ST, a round still
    open, Eve appointed to the UT, a nomination of Otto still open, Bert removed."""
    h, d = await team.network(extra=f"[digest]\npublic_chat_id = {PUBLIC}\n")
    await h.say(ST, CARL, "/propose 1d Haushalt 2027 beschließen")
    await approve(h, d, ST, 1, (CARL, DORA))
    await h.say(ST, DORA, "/propose 10d Offene Frage zum Sommerfest")
    await d.press(ST, 2, CARL, "agree")
    h.model.start_bot(EVE)
    await h.settle()
    await h.say(PT, ANNA, "/nominieren 2d @eve UT kennt alle Lösungsteams")
    await approve(h, d, PT, 3, (ANNA, BERT))
    await approve(h, d, ST, 4, (CARL, DORA))
    await accept(h, EVE)
    await h.say(PT, ANNA, "/nominieren 10d @otto UT")  # a username the bot has not seen
    await h.say(PT, ADMIN, "/remove @bert zieht aus dem Quartier weg")
    return h, d


async def test_the_digests_of_a_busy_week(team: Teams) -> None:
    h, d = await a_busy_week(team)
    await at(h, datetime(2026, 11, 9, 8, 0, tzinfo=UTC))
    [st] = digests(h, ST)
    assert "Wochenrückblick Steuerungsteam" in st
    assert "#1 „Haushalt 2027 beschließen“ – Konsens" in st
    [st_message] = digest_messages(h, ST)
    card = d.card(ST, 1)
    assert links(st_message)[0] == f"https://t.me/c/1000000002/{card.message_id}"
    assert "#2 „Offene Frage zum Sommerfest“ – Runde 1" in st
    assert "1 noch ohne Antwort" in st
    assert "@otto für das Unterstützungsteam (UT): PT offen, ST offen, Zusage steht aus" in st
    [ut] = digests(h, UT)
    assert "Eve – ernannt von PT und ST" in ut
    # The PT gets the network digest: a section per team with news.
    [pt] = digests(h, PT)
    assert "Netzwerk-Wochenrückblick" in pt
    for section in ("Projektteam", "Steuerungsteam", "Unterstützungsteam"):
        assert f"<b>{section}</b>" in pt or section in pt
    assert "Bert – entfernt von Ada (Grund: zieht aus dem Quartier weg)" in pt
    assert "Haushalt 2027" in pt
    assert pt.count("@otto für das Unterstützungsteam") == 1  # listed once, not per team
    # Each chat got exactly one digest; running again sends nothing.
    await h.services.digests.run_due()
    await h.settle()
    assert [len(digests(h, chat)) for chat in (PT, ST, UT, PUBLIC)] == [1, 1, 1, 1]


async def test_the_public_digest_names_no_proposer_responder_or_voter(team: Teams) -> None:
    h, _ = await a_busy_week(team)
    await at(h, datetime(2026, 11, 9, 8, 0, tzinfo=UTC))
    [public] = digests(h, PUBLIC)
    assert "„Haushalt 2027 beschließen“ – Konsens" in public
    assert "Eve – ernannt in: Unterstützungsteam" in public  # accepted a public role
    for name in ("Anna", "Bert", "Carl", "Dora", "Otto", "Ada", "@", "tg://user"):
        assert name not in public, name
    assert "Nominierung" not in public  # decisions about a person stay internal
    assert "Sommerfest" not in public  # still open: not a decision yet


async def test_digest_on_demand_and_where_it_is_refused(team: Teams) -> None:
    h, _ = await a_busy_week(team)
    reply = await h.say(ST, DORA, "/digest")
    assert reply is not None and "Haushalt 2027" in (reply.text or "")
    private = await h.say(DORA, DORA, "/rueckblick")
    assert private is not None and "group chat" in (private.text or "")  # Dora speaks English


async def test_the_public_chat_keeps_one_digest_after_becoming_a_supergroup(team: Teams) -> None:
    h, _ = await team.network(extra=f"[digest]\npublic_chat_id = {PLAIN}\n")
    await team("NET", (), chat=PLAIN)
    new_id = h.model.migrate_to_supergroup(PLAIN)
    await h.settle()
    await at(h, datetime(2026, 11, 9, 8, 0, tzinfo=UTC))
    await h.services.outbox.flush_all()
    await h.settle()
    [public] = digests(h, new_id)
    assert public.startswith("📰")
    assert digests(h, PLAIN) == []


async def test_elections_in_the_digest_of_the_chat_where_they_run(team: Teams) -> None:
    h, _ = await team.network()
    poll = await eve_and_bert_stand(h, "10d")
    running = await h.say(KT, ANNA, "/rueckblick")
    assert running is not None
    assert "Wahl #1 (1 Sitz(e)): Abstimmung bis" in (running.text or "")
    for voter in (ANNA, CARL, DORA):
        h.model.answer_poll(poll.id, voter, [0])
    await h.settle()
    await h.due(10 * 86400 + 1)
    h.clock.advance(60)
    closed = await h.say(KT, ANNA, "/rueckblick")
    assert closed is not None and "Wahl #1: gewählt Eve" in (closed.text or "")
