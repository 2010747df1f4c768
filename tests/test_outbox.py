"""The outbox: each group's budget, priorities, coalesced edits, 429s and network errors —
through the real Application and the local Bot API, whose own flood limit is on."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram.constants import ParseMode

from bot.app import purge_outbox
from bot.charter.outcomes import Response
from bot.clock import ManualClock
from bot.flows.payloads import Acceptance, OpenNomination, Press
from bot.flows.port import (
    Button,
    CardPosted,
    Deferred,
    InviteLinkMade,
    Keyboard,
    OnPosted,
    Poll,
    Posted,
    Priority,
    Reminder,
    RoundAnnounced,
    Status,
    VotePollPosted,
)
from bot.texts.i18n import Html
from bot.texts.render import MAX_MESSAGE, visible_length
from tests.harness import (
    ADMIN,
    ANNA,
    BERT,
    DORA,
    PT,
    ST,
    THE_FOUR,
    DecisionSteps,
    Harness,
    make_config,
    make_model,
    start_bot,
)


@pytest.fixture
async def clocked(tmp_path: Path) -> AsyncIterator[Harness]:
    clock = ManualClock()
    harness = Harness(make_model(clock=clock.monotonic), make_config(tmp_path), clock=clock)
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()


def sends_in(h: Harness, chat_id: int) -> list:
    return [
        c
        for c in h.model.calls
        if c.params.get("chat_id") == chat_id
        and c.method in ("sendMessage", "editMessageText", "sendPoll")
    ]


async def test_a_burst_of_replies_stays_within_the_group_budget(clocked: Harness) -> None:
    h = clocked
    await h.bind(PT, "PT", "Projektteam")  # 1 message
    for _ in range(24):
        h.model.send_message(PT, ANNA, "/team")
    await h.settle()
    assert len(sends_in(h, PT)) == 20
    assert all(c.ok for c in sends_in(h, PT)), "no 429 provoked"
    outbox = h.outbox
    assert await outbox.pending(PT) == 5
    assert any(job.name == f"outbox-flush:{PT}" for job in h.app.job_queue.jobs())
    h.clock.advance(61)
    await outbox.flush(PT)
    assert await outbox.pending(PT) == 0
    assert len(sends_in(h, PT)) == 25
    assert all(c.ok for c in sends_in(h, PT))


async def test_a_reply_held_back_for_the_group_budget_says_so_once_in_the_log(
    clocked: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    h = clocked
    await h.bind(PT, "PT", "Projektteam")
    with caplog.at_level(logging.INFO, logger="bot.telegram_side.outbox"):
        for _ in range(24):
            h.model.send_message(PT, ANNA, "/team")
        await h.settle()
    held = [r.getMessage() for r in caplog.records if "event=outbox_held" in r.getMessage()]
    assert held == [held[0]], "one line when the hold begins, not one per queued reply"
    assert f"chat={PT} reason=group_budget queued=" in held[0]
    assert "wait_s=" in held[0]


async def test_a_quiet_group_is_answered_at_once_while_another_is_busy(clocked: Harness) -> None:
    h = clocked
    await h.bind(PT, "PT", "Projektteam")
    for _ in range(25):
        h.model.send_message(PT, ANNA, "/team")
    await h.settle()
    reply = await h.say(DORA, DORA, "/help")
    assert reply is not None
    assert await h.outbox.pending(PT) > 0


async def test_queued_items_go_out_by_priority_and_edits_are_coalesced(clocked: Harness) -> None:
    h = clocked
    outbox = h.outbox
    card = await outbox.send(PT, Html("Karte v0"))
    assert card.sent and card.posted is not None
    for n in range(19):
        await outbox.send(PT, Html(f"Füller {n}"))
    assert await outbox.pending(PT) == 0
    # The budget is spent: everything now waits, whatever order it came in.
    await outbox.edit(PT, card.posted.message_id, Html("Karte v1"))
    await outbox.send(PT, Html("Erinnerung"), priority=Priority.NOTICE)
    await outbox.edit(PT, card.posted.message_id, Html("Karte v2"))
    await outbox.send(PT, Html("Ergebnis"))
    assert await outbox.pending(PT) == 3
    h.clock.advance(61)
    await outbox.flush(PT)
    late = sends_in(h, PT)[20:]
    assert [c.params["text"] for c in late] == ["Ergebnis", "Erinnerung", "Karte v2"]
    assert h.model.bot_messages(PT)[0].text == "Karte v2"


async def test_a_429_reschedules_instead_of_losing_the_message(clocked: Harness) -> None:
    h = clocked
    outbox = h.outbox
    h.model.fail_next("sendMessage", error_code=429, retry_after=7)
    delivery = await outbox.send(PT, Html("Trotzdem da"))
    assert not delivery.sent and await outbox.pending(PT) == 1
    h.clock.advance(3)
    await outbox.flush(PT)  # too early: still blocked, nothing sent
    assert await outbox.pending(PT) == 1
    h.clock.advance(5)
    await outbox.flush(PT)
    assert await outbox.pending(PT) == 0
    assert "Trotzdem da" in h.bot_texts(PT)


async def test_network_errors_are_retried_with_backoff(clocked: Harness) -> None:
    h = clocked
    outbox = h.outbox
    h.model.start_bot(ANNA)
    await h.settle()
    before = len(h.bot_texts(ANNA))
    h.model.fail_next("sendMessage", network_error=True, count=2)
    await outbox.send(ANNA, Html("Hallo Anna"))
    assert await outbox.pending(ANNA) == 1
    h.clock.advance(1)
    await outbox.flush(ANNA)
    assert await outbox.pending(ANNA) == 1  # failed again: now it waits 2 s
    h.clock.advance(1)
    await outbox.flush(ANNA)
    assert await outbox.pending(ANNA) == 1
    h.clock.advance(1)
    await outbox.flush(ANNA)
    assert await outbox.pending(ANNA) == 0
    assert h.bot_texts(ANNA)[before:] == ["Hallo Anna"]


async def test_not_modified_is_success(clocked: Harness) -> None:
    h = clocked
    outbox = h.outbox
    card = await outbox.send(PT, Html("Gleich"))
    assert card.posted is not None
    again = await outbox.edit(PT, card.posted.message_id, Html("Gleich"))
    assert again.sent and again.error is None
    assert await outbox.pending(PT) == 0


async def test_a_10000_character_text_goes_out_without_an_api_error(clocked: Harness) -> None:
    h = clocked
    outbox = h.outbox
    text = Html("\n".join(f"<b>Absatz {n}</b> " + "Wort " * 30 for n in range(70)))
    assert visible_length(text) > 10_000
    await outbox.send(PT, text)
    calls = sends_in(h, PT)
    assert len(calls) >= 3 and all(c.ok for c in calls)
    assert all(visible_length(c.params["text"]) <= MAX_MESSAGE for c in calls)
    edit = await outbox.edit(PT, h.model.bot_messages(PT)[0].message_id, text)
    assert edit.sent
    assert h.model.bot_messages(PT)[0].text.endswith("…")


async def test_user_text_cannot_break_the_markup(clocked: Harness) -> None:
    h = clocked
    await h.bind(PT, "PT", "<b>Projekt</b> & <i>")
    reply = await h.say(PT, ADMIN, "/team")
    assert reply is not None and "<b>Projekt</b> & <i>" in reply.text
    assert all(c.ok for c in h.model.calls_of("sendMessage"))
    assert h.model.calls_of("sendMessage")[-1].params["parse_mode"] == ParseMode.HTML


async def test_a_keyboard_goes_out_in_the_one_callback_codec(clocked: Harness) -> None:
    h = clocked
    keyboard = Keyboard.of(
        [Button("Ja", Acceptance(3, True)), Button("Nein", Acceptance(3, False))],
        [Button("Zustimmung", Press(12, Response.AGREE))],
    )
    delivery = await h.outbox.send(PT, Html("Frage"), keyboard=keyboard)
    assert delivery.sent
    message = h.model.bot_messages(PT)[-1]
    assert [
        [b["callback_data"] for b in row] for row in message.reply_markup["inline_keyboard"]
    ] == [
        ["n1:3:a", "n1:3:d"],
        ["1:12:a"],
    ]
    await h.outbox.edit(PT, message.message_id, Html("Erledigt"))  # no keyboard: none left
    assert h.model.bot_messages(PT)[-1].reply_markup is None


async def test_on_posted_learns_where_a_message_and_a_poll_went(clocked: Harness) -> None:
    h = clocked
    seen: list[tuple[OnPosted, Posted]] = []

    async def remember(what: OnPosted, where: Posted) -> None:
        seen.append((what, where))

    h.outbox.bind(remember, h.outbox.render)
    await h.outbox.send(PT, Html("Karte"), on_posted=CardPosted(7))
    await h.outbox.send_poll(PT, Poll("Frage?", ("Ja", "Nein")), on_posted=VotePollPosted(3))
    text, poll = h.model.bot_messages(PT)[-2:]
    assert seen[0] == (CardPosted(7), Posted(PT, text.message_id, text="Karte"))
    assert seen[1] == (VotePollPosted(3), Posted(PT, poll.message_id, poll.poll.id))
    assert not poll.poll.is_anonymous
    await h.outbox.stop_poll(PT, poll.message_id)
    assert poll.poll.is_closed


async def test_on_posted_may_itself_post_in_the_same_chat(clocked: Harness) -> None:
    """A result brought up to date once it is posted (SPEC §3.4) edits it from what records
    it, inside that chat's flush: the edit goes out, nothing waits for ever."""
    h = clocked

    async def correct(what: OnPosted, where: Posted) -> None:
        await h.outbox.edit(where.chat_id, where.message_id, Html("Ergebnis, ergänzt"))

    h.outbox.bind(correct, h.outbox.render)
    send = h.outbox.send(PT, Html("Ergebnis"), on_posted=RoundAnnounced(1))
    await asyncio.wait_for(send, timeout=5)
    await h.flush_edits()
    assert h.model.bot_messages(PT)[-1].text == "Ergebnis, ergänzt"
    assert await h.outbox.pending(PT) == 0


async def test_silent_is_a_message_without_a_notification(clocked: Harness) -> None:
    h = clocked
    await h.outbox.send(PT, Html("leise"), silent=True)
    await h.outbox.send(PT, Html("laut"))
    quiet, loud = h.model.calls_of("sendMessage")[-2:]
    assert quiet.params.get("disable_notification") in (True, "true", "True")
    assert "disable_notification" not in loud.params


async def test_a_notice_is_built_when_its_turn_comes_and_may_come_to_nothing(
    clocked: Harness,
) -> None:
    h = clocked
    outbox = h.outbox
    for n in range(20):
        await outbox.send(PT, Html(f"Füller {n}"))
    state = {"missing": "Anna, Bert"}

    async def render(notice: Deferred) -> tuple[Html, Keyboard | None] | None:
        assert isinstance(notice, Reminder)
        if notice.stage_id == 2:
            return None
        return Html(f"Noch offen: {state['missing']}"), None

    outbox.bind(outbox.record, render)
    due = h.clock.now()
    first = await outbox.send_later(PT, Reminder("round", 1, 1, "Eins", 1, due))
    second = await outbox.send_later(PT, Reminder("round", 2, 2, "Zwei", 1, due))
    assert first.status == Status.QUEUED and await outbox.pending(PT) == 2
    state["missing"] = "Bert"  # Anna answered while the notice waited
    h.clock.advance(61)
    await outbox.flush(PT)
    assert h.bot_texts(PT)[-1] == "Noch offen: Bert"
    assert first.sent and second.status == Status.DROPPED
    assert len(sends_in(h, PT)) == 21  # the dropped one cost nothing


async def test_an_invite_link_telegram_refuses_says_why(clocked: Harness) -> None:
    h = clocked
    h.model.fail_next("createChatInviteLink", error_code=400, description="Bad Request: nope")
    refused = await h.outbox.create_invite_link(PT, "wiq-1", on_posted=InviteLinkMade(1))
    assert refused.status == Status.FAILED and "nope" in (refused.error or "").lower()
    made = await h.outbox.create_invite_link(PT, "wiq-1", on_posted=InviteLinkMade(1))
    assert made.sent and made.posted is not None
    assert (made.posted.link or "").startswith("https://t.me/")


async def test_an_invite_link_spends_no_budget_and_is_retried_until_made(
    clocked: Harness,
) -> None:
    """A group whose budget is spent still gets its link made at once; a link Telegram could
    not be reached for is made by a retry, once."""
    h = clocked
    for n in range(22):
        await h.outbox.send(PT, Html(f"Nachricht {n}"))
    assert await h.outbox.pending(PT) == 2
    made = await h.outbox.create_invite_link(PT, "wiq-1", on_posted=InviteLinkMade(1))
    assert made.sent
    h.model.fail_next("createChatInviteLink", network_error=True)
    retried = await h.outbox.create_invite_link(PT, "wiq-2", on_posted=InviteLinkMade(2))
    assert retried.status == Status.QUEUED
    h.clock.advance(h.config.limits.retry_base + 0.1)
    await h.outbox.flush(PT)
    assert retried.sent
    made_ok = [c for c in h.model.calls_of("createChatInviteLink") if c.ok]
    assert [c.params["name"] for c in made_ok] == ["wiq-1", "wiq-2"]
    assert await h.outbox.pending(PT) == 2, "the budget's queue is untouched"


def test_a_link_opens_the_bot_with_its_payload(clocked: Harness) -> None:
    link = clocked.outbox.start_link(OpenNomination("abc"))
    assert link == "https://t.me/wiq_test_bot?start=nom_abc"


def replies_to(h: Harness, chat_id: int, message_ids: list[int]) -> dict[int, int]:
    """How many replies each of these messages got from the bot."""
    count = dict.fromkeys(message_ids, 0)
    for message in h.model.bot_messages(chat_id):
        if message.reply_to in count:
            count[message.reply_to] += 1
    return count


def most_in_any_window(h: Harness, chat_id: int, window: float) -> int:
    """The most messages and edits Telegram accepted in the chat within any `window`."""
    times = sorted(c.at for c in sends_in(h, chat_id) if c.ok)
    return max((sum(1 for u in times if t <= u < t + window) for t in times), default=0)


async def test_replies_waiting_for_the_budget_go_out_after_a_restart_within_the_budget(
    tmp_path: Path,
) -> None:
    """30 commands in a minute: 20 answers fit, the rest wait — and the process stops. After
    the start every command has its answer once, and the group never got more than 20 in any
    60 s: the new process knows what the old one spent."""
    clock = ManualClock()
    model = make_model(clock=clock.monotonic)  # Telegram's own flood limit on
    config = make_config(tmp_path)
    first = Harness(model, config, clock=clock)
    await first.start()
    await first.bind(PT, "PT", "Projektteam")  # 1 of the 20
    commands = [model.send_message(PT, ANNA, "/team")["message_id"] for _ in range(30)]
    await first.settle()
    assert sum(replies_to(first, PT, commands).values()) == 19
    assert await first.outbox.pending(PT) == 11
    await first.stop()  # what waits is in the database, not in this process

    clock.advance(30)
    second = Harness(model, config, clock=clock)
    await second.start()
    try:
        assert sum(replies_to(second, PT, commands).values()) == 19, "the budget is spent"
        clock.advance(31)  # the first 20 left the window
        await second.outbox.flush_all()
        assert replies_to(second, PT, commands) == dict.fromkeys(commands, 1)
        assert await second.outbox.pending() == 0
        assert all(c.ok for c in sends_in(second, PT)), "no 429"
        assert most_in_any_window(second, PT, 60) == 20
    finally:
        await second.stop()


async def test_the_budget_is_20_in_any_60_seconds(clocked: Harness) -> None:
    """The true window on the injected clock: the 21st goes out when the 1st is 60 s old."""
    h = clocked
    outbox = h.outbox
    for n in range(20):
        await outbox.send(PT, Html(f"Nachricht {n}"))
        h.clock.advance(2)  # 20 sent over 40 s
    late = await outbox.send(PT, Html("Die einundzwanzigste"))
    assert not late.sent
    h.clock.advance(19)  # the first is 59 s old
    await outbox.flush(PT)
    assert not late.sent
    h.clock.advance(1)
    await outbox.flush(PT)
    assert late.sent
    assert most_in_any_window(h, PT, 60) == 20


async def test_a_shorter_window_from_the_config_releases_the_budget_sooner(
    tmp_path: Path,
) -> None:
    clock = ManualClock()
    model = make_model(clock=clock.monotonic)
    model.group_limit_per_minute = None  # the local Bot API: no minute of its own
    h = Harness(model, make_config(tmp_path, extra='[limits]\ngroup_window = "5s"\n'), clock=clock)
    await h.start()
    try:
        for n in range(25):
            await h.outbox.send(PT, Html(f"Nachricht {n}"))
        assert len(sends_in(h, PT)) == 20
        clock.advance(5)
        await h.outbox.flush(PT)
        assert len(sends_in(h, PT)) == 25
    finally:
        await h.stop()


async def test_a_card_edit_and_a_reminder_waiting_in_the_outbox_survive_a_restart(
    tmp_path: Path,
) -> None:
    """What is rendered when it goes out (a card edit, a reminder) waits as a typed value:
    after a restart it is rendered by the new process and shows the state then."""
    first = await start_bot(tmp_path)
    await first.set_up_team("ST", THE_FOUR)
    steps = DecisionSteps(first)
    await first.say(ST, ANNA, "/propose 3d Sommerfest")
    first.outbox._queue(ST).blocked_until = first.clock.monotonic() + 3600  # as after a 429
    await steps.press(ST, 1, BERT, "agree")
    assert "Zustimmung (1): Bert" not in steps.card(ST, 1).text
    await first.stop()

    second = Harness(first.model, first.config, clock=first.clock)
    await second.start()
    try:
        await second.settle()
        assert "Zustimmung (1): Bert" in DecisionSteps(second).card(ST, 1).text
    finally:
        await second.stop()


async def test_a_result_waiting_in_the_outbox_at_a_restart_is_posted_once(
    tmp_path: Path,
) -> None:
    """The start's repairs post a result that is not marked announced; the outbox's waiting
    one is the same post, so the group sees it once (and the card once in its final state)."""
    first = await start_bot(tmp_path)
    await first.set_up_team("ST", THE_FOUR)
    steps = DecisionSteps(first)
    await first.say(ST, ANNA, "/propose 3d Grillfest")
    first.outbox._queue(ST).blocked_until = first.clock.monotonic() + 3600  # as after a 429
    for person in THE_FOUR:
        await steps.press(ST, 1, person, "agree")
    assert not [t for t in first.bot_texts(ST) if "Ergebnis Runde 1" in t]
    await first.stop()

    second = Harness(first.model, first.config, clock=first.clock)
    await second.start()
    try:
        await second.settle()
        results = [t for t in second.bot_texts(ST) if "Ergebnis Runde 1" in t]
        assert len(results) == 1 and "Konsens" in results[0]
        assert await second.outbox.pending() == 0
    finally:
        await second.stop()


async def test_an_attempt_telegram_may_have_acted_on_keeps_counting_to_the_budget(
    clocked: Harness,
) -> None:
    """A network error after the request left: Telegram may have posted it. The retry goes
    out, and the attempt still counts: the group's next message waits for the window."""
    h = clocked
    outbox = h.outbox
    for n in range(18):
        await outbox.send(PT, Html(f"Nachricht {n}"))
    h.model.fail_next("sendMessage", network_error=True)
    retried = await outbox.send(PT, Html("Unsicher"))  # attempt 19: no answer
    h.clock.advance(1)
    await outbox.flush(PT)  # attempt 20: sent
    assert retried.sent
    last = await outbox.send(PT, Html("Die nächste"))
    assert not last.sent, "19 sent and one attempt that may have been: the budget is spent"
    h.clock.advance(60)
    await outbox.flush(PT)
    assert last.sent


async def test_what_went_out_is_purged_after_the_keep_time_and_what_waits_is_kept(
    clocked: Harness,
) -> None:
    h = clocked
    outbox = h.outbox
    for n in range(21):  # 20 go out, the 21st waits for the window
        await outbox.send(PT, Html(f"Nachricht {n}"))
    db = h.services.storage.db
    assert (await db.fetchone("SELECT COUNT(*) FROM outbox WHERE chat_id = ?", (PT,)))[0] == 21
    h.clock.advance(6 * 86400)
    await purge_outbox(h.services)  # kept 7 days (the default)
    assert (await db.fetchone("SELECT COUNT(*) FROM outbox WHERE chat_id = ?", (PT,)))[0] == 21
    h.clock.advance(2 * 86400)
    await purge_outbox(h.services)
    [(status,)] = await db.fetchall("SELECT status FROM outbox WHERE chat_id = ?", (PT,))
    assert status == "queued"
    await outbox.flush(PT)
    assert h.bot_texts(PT)[-1] == "Nachricht 20"


async def test_an_item_that_cannot_be_rendered_does_not_hold_up_the_chat(
    clocked: Harness,
) -> None:
    h = clocked
    outbox = h.outbox

    async def broken(notice: Deferred) -> tuple[Html, Keyboard | None] | None:
        raise RuntimeError("gone")

    outbox.bind(outbox.record, broken)
    failed = await outbox.send_later(PT, Reminder("round", 9, 9, "Weg", 1, h.clock.now()))
    assert failed.status == Status.FAILED
    after = await outbox.send(PT, Html("Danach"))
    assert after.sent and await outbox.pending(PT) == 0
