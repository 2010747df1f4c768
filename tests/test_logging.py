"""The log of a real `wiq-bot run` reads as the bot's own events: the scheduler's routine
lines (a job added, run, done — for every deadline, reminder and outbox flush) stay out."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from localapi.server import LocalBotApiServer
from tests.harness import ADMIN, ANNA, PT, config_text, make_model, start_process

# Who speaks at INFO: our own packages, and PTB's word that the application starts and stops.
INFO_LOGGERS = ("bot.", "handlers.", "storage.", "telegram.ext.Application ")


async def test_at_info_a_run_with_deadlines_logs_our_events_and_no_scheduler_lines(
    tmp_path: Path,
) -> None:
    model = make_model()
    async with LocalBotApiServer(model) as server:
        config_path = tmp_path / "config.toml"
        text = config_text(
            tmp_path / "wiq.sqlite", extra='[policy]\nmin_deadline = "1s"\n'
        ).replace("http://127.0.0.1:9/bot", server.base_url)
        config_path.write_text(text, encoding="utf-8")
        process = await start_process(config_path, log_level="INFO")
        try:
            sent = model.send_message(PT, ADMIN, "/setup PT Projektteam")
            await model.wait_for_message(PT, "✅", after=sent["message_id"], timeout=20)
            model.send_message(PT, ANNA, "Hallo")
            sent = model.send_message(PT, ADMIN, "/admit @anna")
            await model.wait_for_message(PT, "Anna", after=sent["message_id"], timeout=10)
            # A deadline armed in the JobQueue closes the round; the reminder check and the
            # outbox's flushes are jobs too.
            sent = model.send_message(PT, ANNA, "/propose 2s Kurz und knapp")
            await model.wait_for_message(PT, "Vorschlag #1", after=sent["message_id"], timeout=10)
            await model.wait_for_message(PT, "Ergebnis Runde 1", timeout=15)
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = await asyncio.wait_for(process.communicate(), 20)
    log = output.decode()
    assert process.returncode == 0, log
    info = [line for line in log.splitlines() if " level=INFO " in line]
    assert any("event=started" in line for line in info), log
    assert [line for line in info if "logger=apscheduler" in line] == []
    others = [line for line in info if not any(f"logger={name}" in line for name in INFO_LOGGERS)]
    assert others == [], "\n".join(others)
