"""The real `wiq-bot run` process against the local Bot API over HTTP, and restarts."""

from __future__ import annotations

import asyncio
import os
import signal
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
