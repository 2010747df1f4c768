"""Webhook mode (SPEC §9): Telegram posts each update to the bot, which answers only once the
update is safely stored.

python-telegram-bot's own `run_webhook` answers 200 before an update is handled or stored,
so a kill loses what it accepted. This source serves the webhook with a small aiohttp server
of its own instead:

- `POST <the url's path>`: a request without the right `X-Telegram-Bot-Api-Secret-Token` is
  refused (403) and changes nothing; a body that is not an update is refused (400), nothing
  stored. An update is stored in the inbox (`UpdateInbox.receive_one`: the same row a
  getUpdates answer makes) and handed to the Application's update queue, and only then
  answered 200; so it is handled like a polled one — once (one delivered again is
  recognised), in order, in its unit of work (`InboxProcessor`) — and a kill after the 200
  leaves it in the inbox for the next start. A failure to store answers 500: Telegram
  delivers it again.
- `GET /healthz`: the judgement of `wiq-bot health` (bot/ops/health.py): 200 or 503, one line.
- Any other path: 404.

Telegram is told (`setWebhook`) once the server listens: the url, the secret, the bot's
`allowed_updates`, `max_connections=1` (one update at a time, so they come in order, as
getUpdates hands them over) and pending updates kept — switching from polling loses none.
With several workers behind one proxy (`[webhook] workers_share_database`, SPEC §9), each
stored update also carries its person and this worker, with a lease, before the 200
(bot.telegram_side.workers): Telegram posts the next update only after that answer, so a
person's later update, whichever worker it reaches, finds the earlier one in the inbox.
Requests that come before the start-up work is done (the inbox replayed, the due work done)
wait for it. At a stop, new requests are answered 503 (Telegram delivers them again, to the
next process) and the webhook stays registered, so that Telegram keeps what comes meanwhile;
switching to polling removes it without dropping pending updates (`Polling.prepare`).

Each request, and a `getWebhookInfo` every `[health] interval` (an idle bot gets no
requests), feeds the heartbeat; what Telegram reports about failed deliveries is logged."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from datetime import UTC, datetime

from aiohttp import web
from telegram import Update
from telegram.error import BadRequest, InvalidToken, TelegramError

from bot.app import ALLOWED_UPDATES, App
from bot.config import HEALTHZ_PATH, Config, WebhookConfig
from bot.ops.health import Heartbeat, verdict
from bot.telegram_side.inbox import InboxProcessor, UpdateInbox
from bot.telegram_side.workers import WORKER_KEY

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_MAX_BODY = 1024 * 1024  # an update is a few kilobytes at most


class WebhookRefused(Exception):
    """The webhook cannot be served (the port is taken) or Telegram refused its url: no retry
    helps. The message is the line to log."""


class Webhook:
    """The update source when `[webhook] url` is set (beside `bot.ops.run.Polling`)."""

    def __init__(self, config: Config, webhook: WebhookConfig, heartbeat: Heartbeat) -> None:
        self.config = config
        self.webhook = webhook
        self.heartbeat = heartbeat
        self._application: App | None = None
        self._runner: web.AppRunner | None = None
        self._ready = asyncio.Event()  # the start-up work is done, or the stop began
        self._closing = False
        self._order = asyncio.Lock()  # stored and queued one at a time, in arrival order
        self._checks: asyncio.Task[None] | None = None
        self._last_error: datetime | None = None

    # -- the source's life (bot.ops.run) ---------------------------------------------------

    async def prepare(self, application: App) -> None:
        """Listen, then tell Telegram where to post (each attempt of the run's retries)."""
        self._application = application
        if self._runner is None:
            await self._listen()
        try:
            await application.bot.set_webhook(
                url=self.webhook.url,
                secret_token=self.webhook.secret_token,
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=False,
                max_connections=1,
            )
        except BadRequest as exc:
            raise WebhookRefused(
                f'event=refused reason=webhook_refused url={self.webhook.url} error="{exc}"'
                ' hint="Telegram posts only to a public https:// address on port 443, 80, 88'
                ' or 8443"'
            ) from None

    async def start(self, application: App) -> None:
        """The start-up work is done: updates are taken from now on."""
        self._ready.set()
        self._checks = asyncio.get_running_loop().create_task(self._check_regularly())
        log.info(
            "event=webhook_serving url=%s listen=%s port=%d",
            self.webhook.url,
            self.webhook.listen,
            self.webhook.port,
        )

    async def stop(self, application: App) -> None:
        """No new update is taken (503); the one being stored is stored and queued first."""
        self._closing = True
        self._ready.set()
        if self._checks is not None:
            self._checks.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checks
        async with self._order:
            pass
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- the server --------------------------------------------------------------------------

    async def _listen(self) -> None:
        app = web.Application(client_max_size=_MAX_BODY)
        app.router.add_post(self.webhook.path, self._update)
        app.router.add_get(HEALTHZ_PATH, self._healthz)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.webhook.listen, self.webhook.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise WebhookRefused(
                f"event=refused reason=webhook_listen listen={self.webhook.listen}"
                f' port={self.webhook.port} error="{exc.strerror or exc}"'
                ' hint="another program uses this port: choose [webhook] port"'
            ) from None
        self._runner = runner

    async def _update(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.webhook.secret_token.encode()):
            log.warning(
                "event=webhook_refused reason=%s remote=%s",
                "wrong_secret" if given else "no_secret",
                request.remote,
            )
            return web.Response(status=403, text="forbidden")
        if self._closing:
            return _stopping()
        try:
            text = (await request.read()).decode("utf-8")
            update = self._parse(text)
        except ValueError as exc:
            log.warning('event=webhook_refused reason=not_an_update error="%s"', exc)
            return web.Response(status=400, text="not a Telegram update")
        await self._ready.wait()
        async with self._order:
            if self._closing:
                return _stopping()
            try:
                await self._inbox().receive_one(text)
                shared = self._app().bot_data.get(WORKER_KEY)
                if shared is not None:  # one of several workers: theirs, and whose it is
                    await shared.received(update)
            except Exception:
                log.exception("event=webhook_not_stored update_id=%d", update.update_id)
                return web.Response(status=500, text="not stored: deliver it again")
            await self._app().update_queue.put(update)
        self.heartbeat.answered(200)
        log.debug("event=webhook_update update_id=%d", update.update_id)
        return web.Response(status=200)

    def _parse(self, text: str) -> Update:
        """The update a request's body holds; ValueError if it holds none."""
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        update_id = data.get("update_id")
        if isinstance(update_id, bool) or not isinstance(update_id, int):
            raise ValueError("no update_id")
        try:
            return Update.de_json(data, self._app().bot)
        except (TypeError, KeyError, AttributeError) as exc:
            raise ValueError(f"not an update: {exc}") from None

    async def _healthz(self, request: web.Request) -> web.Response:
        ok, line = await verdict(self.config, datetime.now(UTC))
        return web.Response(status=200 if ok else 503, text=(line if ok else f"unhealthy: {line}"))

    # -- what Telegram says about the webhook ---------------------------------------------

    async def _check_regularly(self) -> None:
        interval = self.config.health.interval.total_seconds()
        while True:
            await self._check()
            await asyncio.sleep(interval)

    async def _check(self) -> None:
        """getWebhookInfo: a round trip for the heartbeat, and Telegram's news of the
        webhook (replaced by someone else; deliveries that failed)."""
        try:
            info = await self._app().bot.get_webhook_info()
        except InvalidToken:
            self.heartbeat.on_token_rejected()
            return
        except TelegramError as exc:
            self.heartbeat.failed()
            log.warning('event=telegram_unreachable while=webhook_check error="%s"', exc)
            return
        self.heartbeat.answered(200)
        if info.url != self.webhook.url:
            log.error(
                'event=webhook_replaced url="%s" hint="another process or host uses this bot'
                ' token (polling, or another webhook): updates do not reach this one"',
                info.url,
            )
        error_at = info.last_error_date
        if error_at is not None and (self._last_error is None or error_at > self._last_error):
            self._last_error = error_at
            log.warning(
                'event=webhook_undelivered at=%s pending=%d error="%s" hint="Telegram could'
                ' not post to the url: check the reverse proxy"',
                error_at.isoformat(),
                info.pending_update_count,
                info.last_error_message or "",
            )

    def _app(self) -> App:
        if self._application is None:
            raise RuntimeError("the webhook is not prepared")
        return self._application

    def _inbox(self) -> UpdateInbox:
        processor = self._app().update_processor
        if not isinstance(processor, InboxProcessor):
            raise RuntimeError("the Application has no inbox")
        return processor.inbox


def _stopping() -> web.Response:
    return web.Response(status=503, text="stopping: deliver it again")
