"""The real `wiq-bot run` process against the local Bot API over HTTP, and restarts."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from localapi.model import BotApiModel
from localapi.server import LocalBotApiServer
from tests.harness import (
    ADMIN,
    ANNA,
    BERT,
    CARL,
    DORA,
    PT,
    ST,
    DecisionSteps,
    Harness,
    Teams,
    config_text,
    database_at,
    make_model,
    peek,
    start_process,
)


async def stop_process(process: asyncio.subprocess.Process) -> str:
    process.send_signal(signal.SIGTERM)
    output, _ = await asyncio.wait_for(process.communicate(), 20)
    assert process.returncode == 0, output.decode()
    return output.decode()


async def test_wiq_bot_run_serves_a_team_and_survives_a_restart(tmp_path: Path) -> None:
    model = make_model()
    async with LocalBotApiServer(model) as server:
        config_path = tmp_path / "config.toml"
        text = config_text(
            tmp_path / "wiq.sqlite", extra='[policy]\nmin_deadline = "1s"\n'
        ).replace("http://127.0.0.1:9/bot", server.base_url)
        config_path.write_text(text, encoding="utf-8")

        process = await start_process(config_path)
        try:
            sent = model.send_message(PT, ADMIN, "/setup PT Projektteam")
            reply = await model.wait_for_message(PT, "✅", after=sent["message_id"], timeout=20)
            assert "Projektteam" in (reply.text or "")
            model.send_message(PT, ANNA, "Hallo")
            sent = model.send_message(PT, ADMIN, "/admit @anna")
            await model.wait_for_message(PT, "Anna", after=sent["message_id"], timeout=10)
            # A real deadline, armed in the real JobQueue: the round closes by itself.
            sent = model.send_message(PT, ANNA, "/propose 2s Kurz und knapp")
            await model.wait_for_message(PT, "Vorschlag #1", after=sent["message_id"], timeout=10)
            result = await model.wait_for_message(PT, "Ergebnis Runde 1", timeout=15)
            assert "Zu wenige Antworten" in (result.text or "")  # nobody answered within 2 s
        finally:
            log = await stop_process(process)
        assert "event=started" in log and "event=stopped" in log
        assert "Hallo" not in log  # no personal text in the log

        process = await start_process(config_path)
        try:
            sent = model.send_message(PT, ANNA, "/members")
            listing = await model.wait_for_message(
                PT, "Mitglieder", after=sent["message_id"], timeout=20
            )
            assert "Anna" in (listing.text or "")
        finally:
            await stop_process(process)


async def test_data_written_before_a_stop_is_there_after_a_new_start(team: Teams) -> None:
    first, _ = await team("PT", (ANNA,))
    await first.stop()

    second = Harness(first.model, first.config, clock=first.clock)
    await second.start()
    try:
        reply = await second.say(PT, ANNA, "/team")
        assert reply is not None and "Mitglieder: 1" in reply.text
        again = await second.say(PT, ADMIN, "/setup PT Projektteam")
        assert again is not None and "gehört schon" in again.text
    finally:
        await second.stop()


# -- the inbox: updates fetched and not yet handled when the process stops (SPEC §9) -----------


def process_config(h: Harness, server: LocalBotApiServer) -> Path:
    """The config the in-process bot ran with, pointed at the model's HTTP front."""
    path = h.config.path
    text = path.read_text(encoding="utf-8").replace("http://127.0.0.1:9/bot", server.base_url)
    path.write_text(text, encoding="utf-8")
    return path


def unhandled(database: Path | str) -> set[int]:
    with peek(database) as conn:
        rows = conn.execute("SELECT update_id FROM inbox WHERE handled_at IS NULL").fetchall()
    return {row[0] for row in rows}


async def polling(model: BotApiModel) -> None:
    """Until the process has started (post_init done) and long-polls."""
    await model.wait_for_call("getUpdates", timeout=30, since=len(model.calls))


async def fetched_and_confirmed(model: BotApiModel, database: Path, update_ids: set[int]) -> None:
    """Until the process stored the updates in its inbox and its next getUpdates confirmed
    them to Telegram: from now on Telegram would not deliver them again."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15
    while model.pending_updates or not update_ids <= unhandled(database):
        assert loop.time() < deadline, "the process did not fetch and confirm the updates"
        await asyncio.sleep(0.02)


def replies_to(model: BotApiModel, chat_id: int, message_id: int) -> list[str]:
    return [m.text or "" for m in model.bot_messages(chat_id) if m.reply_to == message_id]


def answers_to(model: BotApiModel, query_id: str) -> int:
    return sum(
        1
        for call in model.calls_of("answerCallbackQuery")
        if str(call.params.get("callback_query_id")) == query_id
    )


async def a_majority_vote_and_a_round(team: Teams) -> tuple[Harness, DecisionSteps, str]:
    """In process, on today's clock: the ST (Anna, Bert, Carl, Dora) with #1 in its majority
    vote (Bert's objection stood twice) and #2 in its first round; returns the vote's poll."""
    h, d = await team("ST", start=datetime.now(UTC))
    await h.say(ST, ANNA, "/propose 1d Wir kaufen einen Lastenrad-Anhänger")
    await d.press(ST, 1, BERT, "object")
    await h.due(86400 + 1)
    await h.due(48 * 3600 + 1)  # no revision: round 2 with the same text
    await d.press(ST, 1, BERT, "object", round_number=2)
    await h.due(86400 + 1)  # the objection stands: the majority vote
    poll = h.model.bot_messages(ST)[-1].poll
    assert poll is not None and not poll.is_closed
    await h.say(ST, ANNA, "/propose 7d Wir streichen den Zaun")
    await h.stop()
    return h, d, poll.id


async def test_updates_fetched_before_a_kill_are_handled_once_after_the_restart(
    team: Teams,
) -> None:
    h, d, poll_id = await a_majority_vote_and_a_round(team)
    model, database = h.model, h.config.database
    async with LocalBotApiServer(model) as server:
        config_path = process_config(h, server)
        # Each update waits a minute before its handling begins: the kill comes first.
        process = await start_process(config_path, hold_updates=60)
        try:
            await polling(model)
            # Two getUpdates answers: the ballots and presses, then a command.
            model.answer_poll(poll_id, ANNA, [0])  # Ja
            model.answer_poll(poll_id, BERT, [1])  # Nein
            model.answer_poll(poll_id, CARL, [0])  # Ja
            card = d.card(ST, 2)
            presses = [
                model.press_button(ST, card.message_id, user, button_text="Zustimmung")
                for user in (ANNA, DORA)
            ]
            first = {update.update_id for update in model.pending_updates}
            await fetched_and_confirmed(model, database, first)
            asked = model.send_message(ST, BERT, "/members")
            last = model.pending_updates
            await fetched_and_confirmed(model, database, {update.update_id for update in last})
            # Nothing of it was handled yet.
            assert not replies_to(model, ST, asked["message_id"])
            assert all(answers_to(model, query) == 0 for query in presses)
        finally:
            process.send_signal(signal.SIGKILL)
            await asyncio.wait_for(process.communicate(), 20)
        assert process.returncode == -signal.SIGKILL

        # Telegram does not deliver the first answer's updates again (the process confirmed
        # them). The confirmation of the last one did not reach it: it delivers that again.
        model.deliver_again(last)
        process = await start_process(config_path)
        try:
            reply = await model.wait_for_message(
                ST, "Mitglieder", after=asked["message_id"], timeout=30
            )
            assert reply.reply_to == asked["message_id"]
            await model.wait_idle(timeout=10)  # the deliveries again are fetched, too
            # Dora votes last: everyone has voted, the vote closes, and counts each once.
            model.answer_poll(poll_id, DORA, [0])
            result = await model.wait_for_message(ST, "Angenommen", timeout=30)
            assert "Ja 3 · Nein 1" in (result.text or "")
            sent = model.send_message(ST, CARL, "/members")  # and the bot is still there
            await model.wait_for_message(ST, "Mitglieder", after=sent["message_id"], timeout=20)
        finally:
            await stop_process(process)

    assert len(replies_to(model, ST, asked["message_id"])) == 1  # one list, not two
    assert [answers_to(model, query) for query in presses] == [1, 1]
    with peek(database) as conn:
        agreed = conn.execute(
            "SELECT count(*) FROM responses r JOIN rounds o ON o.id = r.round_id"
            " WHERE o.proposal_id = 2 AND r.choice = 'agree'"
        ).fetchone()
    assert agreed == (2,)
    assert unhandled(database) == set()


async def test_sigterm_finishes_the_updates_in_flight_before_the_process_exits(
    team: Teams,
) -> None:
    h, d = await team("ST", start=datetime.now(UTC))
    await h.say(ST, ANNA, "/propose 7d Wir streichen den Zaun")
    await h.stop()
    model, database = h.model, h.config.database
    async with LocalBotApiServer(model) as server:
        config_path = process_config(h, server)
        # Each update waits 3 s before its handling begins: SIGTERM comes first.
        process = await start_process(config_path, hold_updates=3)
        await polling(model)
        query = model.press_button(ST, d.card(ST, 1).message_id, CARL, button_text="Zustimmung")
        asked = model.send_message(ST, BERT, "/members")
        update_ids = {update.update_id for update in model.pending_updates}
        await fetched_and_confirmed(model, database, update_ids)
        assert answers_to(model, query) == 0 and not replies_to(model, ST, asked["message_id"])
        output = await stop_process(process)  # SIGTERM, exit code 0
        assert "event=stopped" in output
        # Handled before it exited, and marked so.
        assert answers_to(model, query) == 1
        assert len(replies_to(model, ST, asked["message_id"])) == 1
        assert unhandled(database) == set()

        process = await start_process(config_path)
        try:
            sent = model.send_message(ST, CARL, "/members")
            await model.wait_for_message(ST, "Mitglieder", after=sent["message_id"], timeout=30)
        finally:
            await stop_process(process)
    # Nothing handled again after the restart.
    assert answers_to(model, query) == 1
    assert len(replies_to(model, ST, asked["message_id"])) == 1


WAITING = (
    "SELECT COUNT(*), COALESCE(SUM(CASE WHEN status IN ('queued', 'sending') THEN 1 ELSE 0 END),"
    " 0) FROM outbox WHERE chat_id = ?"
)


def waiting_replies(db_path: Path | str, chat_id: int) -> tuple[int, int]:
    """What the outbox table holds for the chat: (rows, rows still waiting) — read from the
    database, as the running process wrote it."""
    if not isinstance(db_path, Path):
        with peek(db_path) as db:
            total, waiting = db.execute(WAITING, (chat_id,)).fetchone()
        return int(total), int(waiting)
    with contextlib.closing(sqlite3.connect(db_path, timeout=5)) as db:
        try:
            total, waiting = db.execute(WAITING, (chat_id,)).fetchone()
        except sqlite3.OperationalError:  # not created yet
            return 0, 0
    return int(total), int(waiting)


async def test_a_kill_while_replies_wait_for_the_budget_loses_none_of_them(
    tmp_path: Path,
) -> None:
    """32 commands back to back: 20 answers fit the group's window, the rest wait in the
    outbox — SIGKILL now. After the restart every command has its answer (at most one twice),
    and the group never got more than its budget in any window, before or after the kill."""
    window, budget = 4.0, 20
    model = make_model()
    model.group_limit_per_minute = None  # the window is ours (short, for the test): checked below
    async with LocalBotApiServer(model) as server:
        db_path = database_at(tmp_path)
        config_path = tmp_path / "config.toml"
        extra = f'[limits]\ngroup_window = "{int(window)}s"\n'
        text = config_text(db_path, extra=extra).replace("http://127.0.0.1:9/bot", server.base_url)
        config_path.write_text(text, encoding="utf-8")

        process = await start_process(config_path)
        try:
            sent = model.send_message(PT, ADMIN, "/setup PT Projektteam")
            await model.wait_for_message(PT, "✅", after=sent["message_id"], timeout=20)
            await asyncio.sleep(window)  # a fresh window for the burst
            commands = [model.send_message(PT, ANNA, "/team")["message_id"] for _ in range(32)]
            # Every command handled (its reply a row) while the budget holds 10+ back.
            for _ in range(200):
                total, waiting = waiting_replies(db_path, PT)
                if total >= 33 and waiting >= 10:
                    break
                await asyncio.sleep(0.02)
            else:
                raise AssertionError(f"not queued in time: {total} rows, {waiting} waiting")
        finally:
            process.kill()  # SIGKILL: nothing is flushed, nothing said goodbye
            await process.wait()
        answered_before = sum(1 for m in model.bot_messages(PT) if m.reply_to in commands)
        assert answered_before <= budget and waiting >= 10

        process = await start_process(config_path)
        try:
            for _ in range(300):
                answered = {m.reply_to for m in model.bot_messages(PT) if m.reply_to in commands}
                if answered == set(commands):
                    break
                await asyncio.sleep(0.05)
        finally:
            log = await stop_process(process)
        replies = [m.reply_to for m in model.bot_messages(PT) if m.reply_to in commands]
        assert set(replies) == set(commands), log
        assert len(replies) - len(commands) <= 1, "at most one duplicate (the one in flight)"
        times = sorted(
            c.at
            for c in model.calls
            if c.ok
            and c.method in ("sendMessage", "editMessageText", "sendPoll")
            and str(c.params.get("chat_id")) == str(PT)
        )
        most = max(sum(1 for u in times if t <= u < t + window) for t in times)
        assert most <= budget, f"{most} in one window of {window} s"
        print(
            f"queued at the kill: {waiting}; answered before: {answered_before}; after: "
            f"{len(replies) - answered_before}; duplicates: {len(replies) - len(commands)}"
        )
