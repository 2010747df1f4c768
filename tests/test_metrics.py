"""Prometheus metrics (SPEC §9, `[metrics]`), tested by scraping /metrics over HTTP: in-process
around a scenario (the figures that moved), and from a real `wiq-bot run` with the JSON log."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import signal
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.clock import ManualClock
from bot.config import MetricsConfig
from bot.ops.metrics import MetricsServer
from localapi.records import CallRecord
from localapi.server import LocalBotApiServer
from storage.heartbeats import Beat, Heartbeats
from tests.harness import (
    ADMIN,
    ANNA,
    BERT,
    CARL,
    DORA,
    LT,
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
        assert moved(before, during, "wiq_call_retries_total", reason="retry_after") == 1
        limited = {"method": "sendMessage", "outcome": "retry_after"}
        assert moved(before, during, "wiq_bot_api_calls_total", **limited) == 1

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
    assert moved(before, after, "wiq_bot_api_calls_total", method="sendMessage", outcome="ok") >= 3
    assert moved(before, after, "wiq_digest_runs_total") == 1
    assert value(after, "wiq_outbox_queued", priority="reply") == 0
    assert value(after, "wiq_open", what="rounds") == 0
    assert value(after, "wiq_heartbeat_age_seconds") == 40


def outcome(call: CallRecord) -> str:
    """How the bot saw a call the local Bot API answered."""
    if call.status == 200:
        return "ok"
    if call.status == 429:
        return "retry_after"
    if call.status == 0 or call.status >= 500:  # a timeout, a dropped connection, a 5xx
        return "network_error"
    return {400: "refused", 403: "forbidden"}.get(call.status, "error")


async def test_every_bot_api_call_is_counted_once_the_outbox_s_and_the_at_once_ones(
    team: Teams, caplog: pytest.LogCaptureFixture
) -> None:
    h, d = await team("ST", limits="retry_base = 0.01\n")
    server = MetricsServer(
        MetricsConfig(enabled=True, port=0), h.services.storage.db, h.services.clock.now
    )
    await server.start()
    try:
        before = await scrape(server.port)
        first = len(h.model.calls)
        # /setup asks Telegram at once what the bot may do in the chat (getChatMember); in
        # the LT, bound by its chat's admin, also whether Anna is one, and (its roster is the
        # chat) who the chat's admins are.
        await h.bind(PT, "PT", "Projektteam")
        await h.bind(LT, "LT", "Gemeinschaftsgarten", by=ANNA)
        await h.say(ST, ANNA, "/propose 1d Neue Bänke")
        await d.press(ST, 1, BERT, "agree")  # answered at once
        # Flood control on a press's answer, too long to keep Carl waiting: given up, once.
        h.model.faults.add("answerCallbackQuery", "429", retry_after=30)
        h.model.press_button(ST, d.card(ST, 1).message_id, CARL, button_text="Zustimmung")
        await h.settle()
        await h.flush_edits()
        # A 502 on Dora's: tried again at once, and answered.
        h.model.faults.add("answerCallbackQuery", "502")
        await d.press(ST, 1, DORA, "agree")
        after = await scrape(server.port)
    finally:
        await server.stop()

    def calls(method: str, result: str) -> float:
        return moved(before, after, "wiq_bot_api_calls_total", method=method, outcome=result)

    assert calls("getChatMember", "ok") == 3
    assert calls("getChatAdministrators", "ok") == 1
    assert calls("answerCallbackQuery", "ok") == 2  # Bert's, and Dora's second try
    assert calls("answerCallbackQuery", "retry_after") == 1
    assert calls("answerCallbackQuery", "network_error") == 1
    assert moved(before, after, "wiq_rate_limited_total") == 1
    assert moved(before, after, "wiq_call_retries_total", reason="network_error") == 1
    assert moved(before, after, "wiq_call_retries_total", reason="retry_after") == 0
    # Every call Telegram saw is counted once, by its method and how it ended: the outbox's
    # (sendMessage, editMessageText …) as the ones made at once.
    seen: dict[tuple[str, str], int] = {}
    for call in h.model.calls[first:]:
        if call.method != "getUpdates":
            key = (call.method, outcome(call))
            seen[key] = seen.get(key, 0) + 1
    assert {"sendMessage", "editMessageText", "answerCallbackQuery"} <= {m for m, _ in seen}
    counted = {
        (dict(labels)["method"], dict(labels)["outcome"]): after[(name, labels)]
        - before.get((name, labels), 0.0)
        for name, labels in after
        if name == "wiq_bot_api_calls_total"
    }
    assert {key: n for key, n in counted.items() if n} == seen
    # A 429 is expected: no ERROR line, no traceback (python-telegram-bot logs one for each).
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


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
    assert value(samples, "wiq_bot_api_calls_total", method="sendMessage", outcome="ok") >= 1
    assert value(samples, "wiq_bot_api_calls_total", method="getMe", outcome="ok") >= 1
    assert 0 <= value(samples, "wiq_heartbeat_age_seconds") < 60
    entries = [json.loads(line) for line in output.decode().splitlines() if line.strip()]
    events = [entry.get("event") for entry in entries]
    assert "started" in events and "metrics_serving" in events and "stopped" in events
    serving = next(e for e in entries if e.get("event") == "metrics_serving")
    assert serving["port"] == str(port) and serving["level"] == "INFO"
    assert all({"ts", "level", "logger"} <= entry.keys() for entry in entries)
