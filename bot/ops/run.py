"""`wiq-bot run` (SPEC §9): the life of the bot's process around the Application.

1. **One bot per database**: the guard (storage/lock.py) is taken first; a second bot on the
   same database is refused at once, with one line — unless both are webhook workers that
   share it (`[webhook] workers_share_database`, SPEC §9 "Several workers"), which hold the
   guard together.
2. **The schema**: a database of a newer version (or not a database) is refused untouched,
   before anything else.
3. **Telegram**: getMe (and the removal of a webhook, as long polling needs) until it answers.
   A rejected token is one line naming where the token came from — never the token — and
   exit 2; an unreachable Bot API (no network yet at boot, a DNS hiccup, a 5xx) is one line
   per attempt, retried with backoff (`[limits] retry_base` doubling up to `retry_max`) until
   it answers or the process is stopped.
4. **Serving**: the Application's post_init (the database opened — its pending migrations
   applied after a backup beside it, as `wiq-bot migrate` does —, the inbox, the outbox, the
   work that fell due), then the update source — long polling (`Polling`), with
   python-telegram-bot's own retries and a line per failed getUpdates, or, with `[webhook]
   url` set, the webhook (`bot.ops.webhook.Webhook`) — and the heartbeat (bot/ops/health.py).
5. **Stopping** (SIGTERM, SIGINT): the source stops fetching, the Application finishes every
   update fetched and every job, the heartbeat notes the stop, the database is closed; exit 0.

No expected condition ends in a traceback. The update source (`UpdateSource`) has `prepare`
(what Telegram must be told before updates come: for polling, that no webhook is set; for
the webhook, where to post — retried with the getMe before it), `start` (after the start-up
work) and `stop` (before the Application finishes what it took)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Awaitable
from typing import Any, Protocol

from telegram.error import Conflict, InvalidToken, RetryAfter, TelegramError
from telegram.request import HTTPXRequest

from bot.app import ALLOWED_UPDATES, App, build_application
from bot.clock import Clock
from bot.config import Config
from bot.ops.database import EXIT_NOT_OK, EXIT_OK, EXIT_REFUSED, holder
from bot.ops.health import Heartbeat
from bot.ops.metrics import MetricsServer
from bot.ops.webhook import Webhook, WebhookRefused
from bot.services import SERVICES_KEY, Deployment, Services
from storage import postgres
from storage.db import Database, DatabaseError, SchemaTooNew, code_version
from storage.lock import DatabaseInUse, DatabaseLock, PostgresGuard

log = logging.getLogger(__name__)


def shares_database(config: Config) -> bool:
    """Whether this process is one of several webhook workers on the database (SPEC §9)."""
    return config.webhook is not None and config.webhook.workers_share_database


class TokenRejected(Exception):
    """Telegram refused the token (401): no retry helps."""


def run(config: Config, hold_updates: float = 0.0) -> int:
    """The whole of `wiq-bot run`; returns the exit code."""
    if config.storage_url is not None:
        return asyncio.run(_on_postgres(config, hold_updates))
    lock = DatabaseLock(config.database_file, shared=shares_database(config))
    try:
        lock.acquire(holder())
    except DatabaseInUse as exc:
        log.error(
            'event=refused reason=database_in_use database=%s holder="%s" hint="%s"',
            config.storage_path,
            exc.holder or "unknown",
            _IN_USE_SHARED if lock.shared else _IN_USE,
        )
        return EXIT_REFUSED
    with lock:
        others = lock.shared and not lock.alone()
        return asyncio.run(_main(config, hold_updates, others))


async def _on_postgres(config: Config, hold_updates: float) -> int:
    """On PostgreSQL the guard is a session advisory lock (storage.lock.PostgresGuard):
    exclusive for one bot per database, shared by several workers."""
    assert config.storage_url is not None
    stop = _stop_on_signals()
    if not await _reach_database(config, stop):
        log.info("event=stopped before=database_reached")
        return EXIT_OK
    guard = PostgresGuard(config.storage_url, shared=shares_database(config))
    try:
        await guard.acquire(holder())
    except DatabaseInUse as exc:
        log.error(
            'event=refused reason=database_in_use database=%s holder="%s" hint="%s"',
            config.database_where,
            exc.holder or "unknown",
            _IN_USE_SHARED if guard.shared else _IN_USE,
        )
        return EXIT_REFUSED
    except (*DatabaseError, OSError) as exc:  # it answered, and refused: a password, a name
        _say_unusable(config, exc)
        return EXIT_REFUSED
    postgres.when_lost(lambda: _database_lost(config))
    try:
        others = guard.shared and not await guard.alone()
        return await _main(config, hold_updates, others, stop)
    finally:
        postgres.when_lost(None)
        await guard.release()


async def _reach_database(config: Config, stop: asyncio.Event) -> bool:
    """On PostgreSQL: until the server answers (True) or the process is stopped (False), one
    line per attempt, with the backoff of reaching Telegram (`[limits] retry_base` doubling
    up to `retry_max`) — at boot the server may start after the bot, or restart."""
    assert config.storage_url is not None
    delay, attempt = config.limits.retry_base, 0
    while not stop.is_set():
        attempt += 1
        error = await postgres.unreachable(config.storage_url)
        if error is None:
            if attempt > 1:
                log.info("event=database_reached attempts=%d", attempt)
            return True
        seconds, delay = delay, min(delay * 2, config.limits.retry_max)
        log.warning(
            'event=database_unreachable attempt=%d retry_in=%gs database=%s error="%s"',
            attempt,
            round(seconds, 1),
            config.database_where,
            str(error) or type(error).__name__,
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)
    return False


def _database_lost(config: Config) -> None:
    """A connection to PostgreSQL ended that the bot did not close: the process ends at once,
    as a kill -9 would (what was committed stays; what was not is done again at the next
    start, which waits for the server). Exit 1: systemd's Restart=on-failure starts it."""
    log.error(
        'event=database_lost database=%s hint="the process ends (exit 1); its next start'
        ' waits for the database, and nothing committed is lost"',
        config.database_where,
    )
    logging.shutdown()
    os._exit(EXIT_NOT_OK)


_IN_USE = (
    "one bot per database: this one does not start (several webhook workers:"
    " [webhook] workers_share_database)"
)
_IN_USE_SHARED = (
    "a worker does not start while a bot that polls, a restore or a migration holds the database"
)


def _stop_on_signals() -> asyncio.Event:
    """The event SIGTERM and SIGINT set: the process stops."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def _main(
    config: Config, hold_updates: float, others: bool, stop: asyncio.Event | None = None
) -> int:
    """`others`: other workers run on the database (it is not migrated beneath them)."""
    stop = stop or _stop_on_signals()
    if not await _check_database(config, others):
        return EXIT_REFUSED
    return await _Run(config, stop, hold_updates).serve()


async def _check_database(config: Config, others: bool) -> bool:
    """Before anything reaches Telegram: a database this code cannot use (a newer schema, a
    file that is not a database) is refused with one line. The migrations themselves are
    applied when the database is opened (post_init), after a backup beside it."""
    if config.storage_path is not None and not config.storage_path.is_file():
        return True  # created at the first start
    db = Database(config.database)
    try:
        await db.open(readonly=True)
        applied = await db.applied_versions()
    except (*DatabaseError, OSError) as exc:
        _say_unusable(config, exc)
        return False
    finally:
        await db.close()
    if applied and max(applied) > code_version():
        _say_too_new(config, SchemaTooNew(db.where, max(applied), code_version()))
        return False
    if applied and max(applied) < code_version() and others:
        # Other workers run on this schema: migrating under them would change it beneath
        # their code. The host migrates first (`wiq-bot migrate`, with the workers stopped).
        log.error(
            "event=refused reason=migrations_pending_while_workers_run database=%s"
            ' schema=%03d known=%03d hint="stop the other workers, run wiq-bot migrate,'
            ' then start them all"',
            config.database_where,
            max(applied),
            code_version(),
        )
        return False
    return True


def _say_too_new(config: Config, exc: SchemaTooNew) -> None:
    log.error(
        "event=refused reason=schema_too_new database=%s schema=%03d known=%03d"
        ' hint="written by a newer wiq-bot: run that version, or restore a backup made'
        ' for this one; nothing was changed"',
        config.database_where,
        exc.version,
        exc.known,
    )


def _say_unusable(config: Config, exc: BaseException) -> None:
    log.error(
        'event=refused reason=database_unusable database=%s error="%s"',
        config.database_where,
        exc,
    )


class UpdateSource(Protocol):
    """Where updates come from: long polling or the webhook."""

    async def prepare(self, application: App) -> None: ...

    async def start(self, application: App) -> None: ...

    async def stop(self, application: App) -> None: ...


def update_source(config: Config, heartbeat: Heartbeat) -> UpdateSource:
    """The webhook when `[webhook] url` is set, else long polling."""
    if config.webhook is not None:
        return Webhook(config, config.webhook, heartbeat)
    return Polling(config)


class Polling:
    """Long polling (getUpdates), the update source when no webhook is configured."""

    def __init__(self, config: Config) -> None:
        self.config = config

    async def prepare(self, application: App) -> None:
        # getUpdates answers 409 while a webhook is set: remove one (updates are kept).
        await application.bot.delete_webhook(drop_pending_updates=False)

    async def start(self, application: App) -> None:
        assert application.updater is not None
        await application.updater.start_polling(
            timeout=self.config.telegram.poll_timeout,
            allowed_updates=ALLOWED_UPDATES,
            drop_pending_updates=False,
            bootstrap_retries=-1,
            error_callback=self._failed,
        )

    async def stop(self, application: App) -> None:
        updater = application.updater
        if updater is not None and updater.running:
            # After a revoked token the polling task ended with InvalidToken, which stop()
            # raises again: already said (Heartbeat.on_token_rejected).
            with contextlib.suppress(TelegramError):
                await updater.stop()

    def _failed(self, error: TelegramError) -> None:
        """A getUpdates that failed; python-telegram-bot retries it with backoff."""
        if isinstance(error, InvalidToken):
            return  # the heartbeat saw the 401 and stops the bot
        if isinstance(error, Conflict):
            log.error(
                'event=telegram_conflict error="%s" hint="another process polls with this'
                ' token (another host, or a webhook)"',
                _scrub(error, self.config),
            )
            return
        log.warning(
            'event=telegram_unreachable while=polling error="%s"', _scrub(error, self.config)
        )


class _Run:
    """One `wiq-bot run` after the guard and the schema check: reach Telegram, serve, stop.
    `code` is the exit code (2 once the token was rejected)."""

    def __init__(self, config: Config, stop: asyncio.Event, hold_updates: float) -> None:
        self.config = config
        self.stop = stop
        self.code = EXIT_OK
        clock = Clock()
        self.heartbeat = Heartbeat(
            clock,
            config.health.interval,
            self._token_revoked,
            remove_on_stop=shares_database(config),
        )
        self.application = build_application(
            config,
            clock,
            get_updates_request=self.heartbeat.request(HTTPXRequest(connection_pool_size=1)),
            hold_updates=hold_updates,
        )
        self.source = update_source(config, self.heartbeat)
        self.metrics: MetricsServer | None = None

    async def serve(self) -> int:
        application = self.application
        _quiet_invalid_token()
        try:
            if not await self._reach_telegram():
                log.info("event=stopped before=telegram_reached")
                return EXIT_OK
            assert application.post_init is not None
            try:
                await application.post_init(application)  # opens (and migrates) the database
            except SchemaTooNew as exc:
                _say_too_new(self.config, exc)
                return EXIT_REFUSED
            except (*DatabaseError, OSError) as exc:
                _say_unusable(self.config, exc)
                return EXIT_REFUSED
            if not self.stop.is_set():
                await self.source.start(application)
                await application.start()
                await self.heartbeat.start(application, self._services().storage.db)
                if self.config.metrics.enabled:
                    self.metrics = MetricsServer(
                        self.config.metrics, self._services().storage.db, self.heartbeat.clock.now
                    )
                    await self.metrics.start()
                await self.stop.wait()
        except (TokenRejected, InvalidToken):
            if self.code != EXIT_REFUSED:  # not said yet (Heartbeat.on_token_rejected)
                self._say_token_rejected()
            return EXIT_REFUSED
        except WebhookRefused as exc:
            log.error("%s", _scrub(exc, self.config))
            return EXIT_REFUSED
        finally:
            await self._shut_down()
        return self.code

    async def _reach_telegram(self) -> bool:
        """getMe and the source's preparation until they succeed (True) or the process is
        stopped (False); raises TokenRejected."""
        limits = self.config.limits
        delay = limits.retry_base
        attempt = 0
        while not self.stop.is_set():
            attempt += 1
            try:
                if not await self._unless_stopped(self._contact()):
                    return False
            except InvalidToken:
                raise TokenRejected from None
            except RetryAfter as exc:
                wait = exc.retry_after
                seconds = float(wait) if isinstance(wait, int | float) else wait.total_seconds()
                error = "flood control (429)"
            except TelegramError as exc:
                seconds, delay = delay, min(delay * 2, limits.retry_max)
                error = _scrub(exc, self.config)
            else:
                if attempt > 1:
                    log.info("event=telegram_reached attempts=%d", attempt)
                return True
            log.warning(
                'event=telegram_unreachable attempt=%d retry_in=%gs error="%s"',
                attempt,
                round(seconds, 1),
                error,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), seconds)
        return False

    async def _contact(self) -> None:
        await self.application.initialize()  # getMe
        await self.source.prepare(self.application)

    async def _unless_stopped(self, attempt: Awaitable[None]) -> bool:
        """Await `attempt` unless a stop comes first (then cancel it): whether it finished."""
        task = asyncio.ensure_future(attempt)
        stopped = asyncio.ensure_future(self.stop.wait())
        done, _ = await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            stopped.cancel()
            task.result()  # raises what the attempt raised
            return True
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, TelegramError):
            await task
        return False

    def _token_revoked(self) -> None:
        """getUpdates answered 401 while the bot ran: the token was revoked."""
        if self.code != EXIT_REFUSED:
            self.code = EXIT_REFUSED
            self._say_token_rejected()
            self.stop.set()

    def _say_token_rejected(self) -> None:
        log.error(
            'event=token_rejected source="%s" hint="Telegram does not know this bot token:'
            ' copy it again from @BotFather (/mybots, API Token)"',
            self.config.telegram.token_source,
        )

    def _services(self) -> Services:
        """The first network's: the deployment's database is the same for every network."""
        deployment: Deployment = self.application.bot_data[SERVICES_KEY]
        return deployment.first()

    async def _shut_down(self) -> None:
        application = self.application
        if self.metrics is not None:
            await self.metrics.stop()
        await self.source.stop(application)
        if application.running:
            # Waits for every update fetched (handled and marked in the inbox) and every job.
            await application.stop()
            if application.post_stop is not None:
                await application.post_stop(application)
        if SERVICES_KEY in application.bot_data:
            await self.heartbeat.stopped()
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)  # closes the database


def _scrub(error: BaseException, config: Config) -> str:
    """An error's text for the log, without the token (a URL in it would carry it)."""
    text = str(error).replace('"', "'")
    token = config.telegram.token
    return text.replace(token, "<token>") if token else text


class _NoInvalidTokenTraceback(logging.Filter):
    """python-telegram-bot logs a rejected token with its traceback (and the token in it)
    before raising it; the bot says it in one line of its own."""

    def filter(self, record: logging.LogRecord) -> bool:
        info: Any = record.exc_info
        return not (info and isinstance(info[1], InvalidToken))


def _quiet_invalid_token() -> None:
    ptb = logging.getLogger("telegram.ext")
    if not any(isinstance(f, _NoInvalidTokenTraceback) for f in ptb.filters):
        ptb.addFilter(_NoInvalidTokenTraceback())
