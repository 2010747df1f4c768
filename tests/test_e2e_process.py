"""The real `wiq-bot run` process against the local Bot API over HTTP, and restarts."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import sys
from pathlib import Path

from localapi.server import LocalBotApiServer
from tests.harness import ADMIN, ANNA, PT, Harness, Teams, config_text, make_model

ROOT = Path(__file__).resolve().parent.parent


async def start_process(config_path: Path) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if k != "WIQ_BOT_TOKEN"}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        "--config",
        str(config_path),
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
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
            assert "Kein Quorum" in (result.text or "")  # nobody answered within 2 s
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


def waiting_replies(db_path: Path, chat_id: int) -> tuple[int, int]:
    """What the outbox table holds for the chat: (rows, rows still waiting) — read from the
    database, as the running process wrote it."""
    with contextlib.closing(sqlite3.connect(db_path, timeout=5)) as db:
        try:
            total, waiting = db.execute(
                "SELECT COUNT(*), COALESCE(SUM(status IN ('queued', 'sending')), 0)"
                " FROM outbox WHERE chat_id = ?",
                (chat_id,),
            ).fetchone()
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
        db_path = tmp_path / "wiq.sqlite"
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
