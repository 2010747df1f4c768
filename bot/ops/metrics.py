"""The Prometheus metrics (SPEC §9, `[metrics]`): this module owns every metric object. The
counters move where the work happens — `update` in the inbox processor, `call` in the rate
limiter every Bot API call passes (bot/telegram_side/limiter.py: the outbox's and the ones
made at once, counted the same way), `skipped` in the outbox's sender, `digest_run` in the due
work — through one small call each; the gauges (the outbox's queue per priority and the age of
its oldest item, open rounds/votes/nominations, the heartbeat's age) are read from the
database when /metrics is scraped, so they are true even with several processes on one
database. `MetricsServer` serves them (aiohttp, on the bot's own event loop) when `[metrics]
enabled`; off by default, on 127.0.0.1.

No metric carries a person, a chat id or a text: labels are kinds, methods, outcomes and
priorities only."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from bot.config import MetricsConfig
from bot.flows.port import Priority
from storage.db import Database
from storage.figures import Figures

log = logging.getLogger(__name__)

REGISTRY = CollectorRegistry(auto_describe=True)

UPDATES = Counter("wiq_updates_handled", "Updates handled, by kind", ["kind"], registry=REGISTRY)
PRESSES = Counter("wiq_presses", "Button presses (callback queries) handled", registry=REGISTRY)
# How a Bot API call ended: Telegram's answer, or none (network_error: a 5xx, a timeout, a
# dropped connection). not_modified: an edit to what the message says already (done).
OUTCOMES = (
    "ok",
    "not_modified",
    "retry_after",
    "refused",
    "forbidden",
    "migrated",
    "network_error",
    "error",
)
CALLS = Counter(
    "wiq_bot_api_calls",
    "Bot API calls (each attempt; all but getUpdates), by method and outcome",
    ["method", "outcome"],
    registry=REGISTRY,
)
RATE_LIMITED = Counter("wiq_rate_limited", "429 answers (flood control)", registry=REGISTRY)
RETRIES = Counter(
    "wiq_call_retries",
    "Bot API calls tried again after a 429 or a network error (the outbox's from its table,"
    " the ones made at once by the rate limiter)",
    ["reason"],
    registry=REGISTRY,
)
SKIPPED = Counter(
    "wiq_outbox_skipped",
    "Outbox items that needed no call: no longer needed (dropped), or not renderable",
    ["reason"],
    registry=REGISTRY,
)
DIGEST_RUNS = Counter(
    "wiq_digest_runs", "Weekly digests sent (one per scheduled moment)", registry=REGISTRY
)
QUEUED = Gauge(
    "wiq_outbox_queued", "Outbox items waiting, by priority", ["priority"], registry=REGISTRY
)
OLDEST = Gauge(
    "wiq_outbox_oldest_age_seconds",
    "Age of the oldest waiting outbox item, by priority",
    ["priority"],
    registry=REGISTRY,
)
OPEN = Gauge(
    "wiq_open", "Open consensus rounds, majority votes and nominations", ["what"], registry=REGISTRY
)
HEARTBEAT_AGE = Gauge(
    "wiq_heartbeat_age_seconds",
    "Age of the newest heartbeat of any instance (NaN: none)",
    registry=REGISTRY,
)

# The kinds of update the bot asks for (bot.app.ALLOWED_UPDATES).
_KINDS = (
    "message",
    "callback_query",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
)


def update(value: object) -> None:
    """An update was handled (the inbox processor)."""
    kind = next((k for k in _KINDS if getattr(value, k, None) is not None), "other")
    UPDATES.labels(kind).inc()
    if kind == "callback_query":
        PRESSES.inc()


def call(method: str, outcome: str, *, retried: bool = False) -> None:
    """One attempt of a Bot API call ended so (the rate limiter, for every call); `retried`:
    it will be tried again. `method` is one of a known set or `other` (the caller bounds it)."""
    CALLS.labels(method, outcome if outcome in OUTCOMES else "error").inc()
    if outcome == "retry_after":
        RATE_LIMITED.inc()
    if retried:
        RETRIES.labels(outcome).inc()


def skipped(reason: str) -> None:
    """An outbox item done without a call (the outbox's sender): dropped or unrenderable."""
    SKIPPED.labels(reason).inc()


def digest_run() -> None:
    DIGEST_RUNS.inc()


async def refresh(db: Database, now: datetime) -> None:
    """The gauges as the database has them now."""
    figures = Figures(db)
    QUEUED.clear()
    OLDEST.clear()
    for priority in Priority:
        QUEUED.labels(priority.name.lower()).set(0)
    for queued in await figures.queued_by_priority():
        name = Priority(queued.key).name.lower()
        QUEUED.labels(name).set(queued.count)
        OLDEST.labels(name).set(max(0.0, (now - queued.oldest).total_seconds()))
    for what, count in (await figures.open_counts()).items():
        OPEN.labels(what).set(count)
    beat = await figures.latest_beat()
    HEARTBEAT_AGE.set(float("nan") if beat is None else (now - beat).total_seconds())


def scrape_text() -> bytes:
    return generate_latest(REGISTRY)


class MetricsServer:
    """GET /metrics on `[metrics] listen:port`; the gauges are read at each scrape."""

    def __init__(self, config: MetricsConfig, db: Database, now: Callable[[], datetime]) -> None:
        self.config = config
        self.db = db
        self.now = now  # the injected clock's now
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.listen, self.config.port)
        try:
            await site.start()
        except OSError as exc:
            # The bot serves its network without its figures rather than not at all.
            log.error(
                'event=metrics_unavailable listen=%s port=%d error="%s"',
                self.config.listen,
                self.config.port,
                exc.strerror or exc,
            )
            await self.stop()
            return
        log.info("event=metrics_serving listen=%s port=%d", self.config.listen, self.port)

    @property
    def port(self) -> int:
        """The port served (the configured one; the one the kernel chose for port 0)."""
        if self._runner is not None:
            for address in self._runner.addresses:
                if isinstance(address, tuple):
                    return int(address[1])
        return self.config.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _metrics(self, _: web.Request) -> web.Response:
        await refresh(self.db, self.now())
        return web.Response(body=scrape_text(), headers={"Content-Type": CONTENT_TYPE_LATEST})
