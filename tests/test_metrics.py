"""Prometheus metrics (SPEC §9, `[metrics]`), tested by scraping /metrics over HTTP: in-process
around a scenario (the figures that moved), and from a real `wiq-bot run` with the JSON log."""

from __future__ import annotations

import asyncio
import json
import math
import signal
from datetime import timedelta
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bot.clock import ManualClock
from bot.config import MetricsConfig
from bot.ops.metrics import MetricsServer
from localapi.server import LocalBotApiServer
from storage.heartbeats import Beat, Heartbeats
from tests.harness import (
    ADMIN,
    ANNA,
    BERT,
    CARL,
    PT,
    ST,
    Teams,
    config_text,
    free_port,
    make_model,
    start_process,
)

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(port: int) -> Samples:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}/metrics") as response,
    ):
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = await response.text()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


async def test_a_scrape_shows_what_a_scenario_did(team: Teams) -> None:
    h, d = await team("ST")
    server = MetricsServer(
        MetricsConfig(enabled=True, port=0), h.services.storage.db, h.services.clock.now
    )
    await server.start()
    try:
        before = await scrape(server.port)
        assert value(before, "wiq_open", what="rounds") == 0
        assert math.isnan(value(before, "wiq_heartbeat_age_seconds"))  # no bot beat yet

        await h.say(ST, ANNA, "/propose 1d Neue Bänke")
        await d.press(ST, 1, BERT, "agree")
        # A reply meets flood control: it waits in the outbox, and is retried.
        h.model.fail_next("sendMessage", 429, retry_after=30)
        await h.say(ST, CARL, "/offen")
        assert isinstance(h.clock, ManualClock)
        h.clock.advance(12)
        during = await scrape(server.port)
        assert value(during, "wiq_open", what="rounds") == 1
        assert value(during, "wiq_outbox_queued", priority="reply") == 1
        assert value(during, "wiq_outbox_queued", priority="edit") == 0
        assert 12 <= value(during, "wiq_outbox_oldest_age_seconds", priority="reply") < 20
        assert moved(before, during, "wiq_rate_limited_total") == 1
        assert moved(before, during, "wiq_send_retries_total", reason="retry_after") == 1
        assert (
            moved(before, during, "wiq_sends_total", method="send_message", outcome="retry_after")
            == 1
        )

        # A week later: the reply went out, the round closed, the Monday digest ran.
        await h.due(7 * 86400 + 1)
        await Heartbeats(h.services.storage.db).beat(
            Beat(
                "test", "host", 1, h.clock.now(), h.clock.now() - timedelta(seconds=40), None, None
            )
        )
        after = await scrape(server.port)
    finally:
        await server.stop()
    assert moved(before, after, "wiq_updates_handled_total", kind="message") == 2
    assert moved(before, after, "wiq_updates_handled_total", kind="callback_query") == 1
    assert moved(before, after, "wiq_presses_total") == 1
    assert moved(before, after, "wiq_sends_total", method="send_message", outcome="sent") >= 3
    assert moved(before, after, "wiq_digest_runs_total") == 1
    assert value(after, "wiq_outbox_queued", priority="reply") == 0
    assert value(after, "wiq_open", what="rounds") == 0
    assert value(after, "wiq_heartbeat_age_seconds") == 40


async def test_wiq_bot_run_serves_metrics_and_logs_json_lines(tmp_path: Path) -> None:
    model = make_model()
    port = free_port()
    async with LocalBotApiServer(model) as server:
        config_path = tmp_path / "config.toml"
        text = config_text(
            tmp_path / "wiq.sqlite", extra=f"[metrics]\nenabled = true\nport = {port}\n"
        ).replace("http://127.0.0.1:9/bot", server.base_url)
        config_path.write_text(text, encoding="utf-8")
        process = await start_process(config_path, log_format="json")
        try:
            sent = model.send_message(PT, ADMIN, "/setup PT Projektteam")
            await model.wait_for_message(PT, "✅", after=sent["message_id"], timeout=20)
            samples = await scrape(port)
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = await asyncio.wait_for(process.communicate(), 20)
    assert process.returncode == 0, output.decode()
    assert value(samples, "wiq_updates_handled_total", kind="message") >= 1
    assert value(samples, "wiq_sends_total", method="send_message", outcome="sent") >= 1
    assert 0 <= value(samples, "wiq_heartbeat_age_seconds") < 60
    entries = [json.loads(line) for line in output.decode().splitlines() if line.strip()]
    events = [entry.get("event") for entry in entries]
    assert "started" in events and "metrics_serving" in events and "stopped" in events
    serving = next(e for e in entries if e.get("event") == "metrics_serving")
    assert serving["port"] == str(port) and serving["level"] == "INFO"
    assert all({"ts", "level", "logger"} <= entry.keys() for entry in entries)
