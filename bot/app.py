"""Wiring: build the python-telegram-bot Application from the config, the start-up work, and
the one timer that runs the due work."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeAlias

from telegram import BotCommand, ChatMember, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    BaseUpdateProcessor,
    ContextTypes,
    ExtBot,
    JobQueue,
)
from telegram.request import BaseRequest, HTTPXRequest

from bot.charter.outcomes import APPROVING_OUTCOMES, DECIDED_OUTCOMES, REASONED_RESPONSES
from bot.clock import Clock
from bot.config import Config
from bot.flows import (
    admissions,
    delegations,
    elections,
    nominations,
    posting,
    stuck,
    support,
    upgrade,
)
from bot.flows.decisions import Decisions
from bot.flows.digests import DigestRunner
from bot.flows.due import next_moment
from bot.flows.reminders import Reminders
from bot.ops import metrics
from bot.services import SERVICES_KEY, Services
from bot.telegram_side.inbox import KEEP_HANDLED, InboxProcessor, InboxRequest, UpdateInbox
from bot.telegram_side.limiter import RetryingLimiter
from bot.telegram_side.outbox import TelegramOutbox
from bot.telegram_side.updates import OrderedUpdateProcessor
from bot.texts.i18n import LANGUAGES, t
from storage import CharterTerms, Storage

log = logging.getLogger(__name__)

# What storage's SQL asks about the charter's words; storage may not import the charter.
CHARTER_TERMS = CharterTerms(
    decided_outcomes=DECIDED_OUTCOMES,
    approving_outcomes=APPROVING_OUTCOMES,
    reasoned_responses=REASONED_RESPONSES,
)

# Telegram sends chat_member updates only when asked for them by name. Edited messages are
# not asked for: an edit must not run a command, pass a reply on, or post a petition again.
ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.CALLBACK_QUERY,
    Update.POLL,
    Update.POLL_ANSWER,
    Update.MY_CHAT_MEMBER,
    Update.CHAT_MEMBER,
    Update.CHAT_JOIN_REQUEST,
]

Context: TypeAlias = ContextTypes.DEFAULT_TYPE
# The Application as built here: PTB's default context types, a rate limiter, a JobQueue.
App: TypeAlias = Application[
    ExtBot[int],  # AIORateLimiter's rate_limit_args: the retries a request may make
    Context,
    dict[Any, Any],  # user_data
    dict[Any, Any],  # chat_data
    dict[Any, Any],  # bot_data: the Services under SERVICES_KEY
    JobQueue[Context],
]


@dataclass(frozen=True)
class DueWork:
    """Work that falls due as time passes, done at start (before polling begins, SPEC §9) and
    by the one timer (`DueTimer`: at the next due moment, and at least once a minute — the
    sweep). Each entry reads what is due with an indexed query, so a run costs what is due,
    not what is open, and does each due item in a unit of work of its own (storage.db): what
    it changes and what it says commit together. Nothing here repairs what a stop cut off:
    what a unit queued went out with the outbox (`TelegramOutbox.resume`), and what it had not
    committed is still due."""

    name: str
    run: Callable[[Services], Awaitable[None]]


async def purge_outbox(services: Services) -> None:
    """What went out more than `outbox_keep_days` ago leaves the outbox table."""
    keep = timedelta(days=services.config.outbox_keep_days)
    before = services.clock.now() - keep
    purged = await services.storage.outbox.purge(before, before.timestamp())
    if purged:
        log.info("event=outbox_purged items=%d", purged)


# In this order, at start and in the sweep (each run of the one timer).
DUE_WORK: tuple[DueWork, ...] = (
    DueWork("deadlines", lambda services: services.decisions.run_due()),
    DueWork("lapsed_nominations", nominations.lapse_due),
    DueWork("elections", elections.run_due),
    DueWork("reminders", lambda services: services.reminders.run_due()),
    # A digest missed while the bot was down goes out once; the timer wakes for the next one.
    DueWork("digest", lambda services: _digest(services)),
    # The inbox forgets the update_ids handled longer ago than Telegram could deliver again.
    DueWork("handled_updates", lambda services: _purge_inbox(services)),
    DueWork("outbox_purge", purge_outbox),
    # A group chat's queue stuck longer than [limits] stuck_after: the admins are told once.
    DueWork("stuck_queues", stuck.check),
)


async def _digest(services: Services) -> None:
    if await services.digests.run_due():
        metrics.digest_run()


async def _purge_inbox(services: Services) -> None:
    await services.storage.inbox.purge(services.clock.now() - KEEP_HANDLED)


def build_application(
    config: Config,
    clock: Clock | None = None,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    update_processor: BaseUpdateProcessor | None = None,
    hold_updates: float = 0.0,
) -> App:
    """The Application as `wiq-bot run` uses it; tests pass an in-process request.

    getUpdates goes through the inbox (`InboxRequest`), and every update through its
    processor (`InboxProcessor` around `update_processor`), so that nothing Telegram handed
    over is lost with the process (SPEC §9). `hold_updates` is for tests only (see
    `InboxProcessor`)."""
    # The wiring is the one place in bot/ that knows the Telegram adapters.
    from handlers import register

    clock = clock or Clock()
    inbox = UpdateInbox(clock)
    builder = (
        ApplicationBuilder()
        .token(config.telegram.token)
        .base_url(config.telegram.base_url)
        # The outbox owns each group's budget; PTB's limiter keeps only the overall one, and
        # tries a call made at once (not the outbox's) again after a passing fault.
        .rate_limiter(
            RetryingLimiter(
                overall_max_rate=config.limits.overall_per_second,
                retry_base=config.limits.retry_base,
                retry_max=config.limits.retry_max,
            )
        )
        .post_init(_post_init(config, clock, inbox))
        .post_shutdown(_post_shutdown)
    )
    builder = builder.concurrent_updates(
        InboxProcessor(update_processor or OrderedUpdateProcessor(), inbox, hold=hold_updates)
    )
    if request is not None:
        builder = builder.request(request)
    # python-telegram-bot's own default for getUpdates: one connection, HTTP/1.1.
    builder = builder.get_updates_request(
        InboxRequest(get_updates_request or HTTPXRequest(connection_pool_size=1), inbox)
    )
    application = builder.build()
    register(application)
    application.add_error_handler(_on_error)
    return application


def _post_init(
    config: Config, clock: Clock, inbox: UpdateInbox
) -> Callable[[App], Coroutine[Any, Any, None]]:
    async def post_init(application: App) -> None:
        """Open the database, the inbox and the outbox, handle what a stop left in the
        inbox, and register the command menus — all before polling starts."""
        storage = await Storage.open(
            config.database, config.network.name, clock.now(), CHARTER_TERMS
        )
        inbox.bind(storage.inbox)
        outbox = TelegramOutbox(
            application.bot,
            clock,
            _job_scheduler(application),
            storage.outbox,
            group_per_minute=config.limits.group_per_minute,
            edits_per_minute=config.limits.card_edits_per_minute,
            group_window=config.limits.group_window,
            retry_base=config.limits.retry_base,
            retry_max=config.limits.retry_max,
        )
        services = Services(config=config, clock=clock, storage=storage, outbox=outbox)
        services.bot_username = application.bot.username or ""
        timer = DueTimer(application, services)
        services.wake = timer.wake
        application.bot_data[DUE_TIMER_KEY] = timer
        # The early close asks the processor whether an older update is still being handled.
        processor = application.update_processor
        if isinstance(processor, InboxProcessor):
            services.handling_before = processor.handling_before
        services.decisions = Decisions(services, _member_check(application))
        services.reminders = Reminders(services)
        services.digests = DigestRunner(services)
        support.register(services)
        admissions.register(services)
        nominations.register(services)
        delegations.register(services)
        application.bot_data[SERVICES_KEY] = services
        outbox.bind(
            functools.partial(posting.record, services),
            functools.partial(posting.render, services),
            functools.partial(posting.refused, services),
        )
        # What a stopped process left in the outbox goes out first, in its order: what its
        # units committed is all there (nothing is posted again from what is stored).
        await outbox.resume()
        # A database from before the outbox (schema < 018) had its queue in memory: what it
        # had not posted is derived once from the state, the first time it starts migrated.
        await upgrade.catch_up(services)
        # Updates fetched before a stop and not handled then are handled first, once, in
        # update_id order: they came while the bot was running (SPEC §9).
        await inbox.replay(application)
        # Deadlines that passed while the bot was down are handled once, before polling
        # starts, so presses made meanwhile meet a closed round (SPEC §9); then the one
        # timer sleeps until the next moment something falls due.
        started = clock.now()
        for work in DUE_WORK:
            await work.run(services)
        await timer.arm_after(started)
        await set_command_menus(application, config.network.language)
        log.info(
            "event=started network=%s schema=%s",
            storage.network_id,
            await storage.db.schema_version(),
        )

    return post_init


async def _post_shutdown(application: App) -> None:
    services: Services | None = application.bot_data.get(SERVICES_KEY)
    if services is not None:
        await services.storage.close()
        log.info("event=stopped")


def _job_scheduler(
    application: App,
) -> Callable[[float, int, Callable[[], Awaitable[None]]], None]:
    """Outbox flushes run as JobQueue jobs (APScheduler underneath)."""

    def schedule(delay: float, chat_id: int, run: Callable[[], Awaitable[None]]) -> None:
        async def job(_: Context) -> None:
            await run()

        assert application.job_queue is not None
        application.job_queue.run_once(
            job,
            when=delay,
            name=f"outbox-flush:{chat_id}",
            job_kwargs={"misfire_grace_time": None},
        )

    return schedule


DUE_TIMER_KEY = "wiq-due"  # where the Application's bot_data holds the DueTimer


class DueTimer:
    """The one timer of due work: a single JobQueue job at the next moment something falls
    due (`bot.flows.due.next_moment`, read from the database), and never more than `SWEEP`
    away (the sweep: whatever a wake missed — another process's write, an error — is taken
    up within a minute). Each run does the `DUE_WORK` entries, one run at a
    time, then sleeps until the next moment. A flow that writes an earlier moment (a round
    opens, a window starts) calls `wake(when)`, which only ever moves the timer earlier.

    No job is looked up by name or removed: a job armed before a wake made it too late is
    stale and does nothing when it fires (`_generation`)."""

    SWEEP = timedelta(seconds=60)

    def __init__(self, application: App, services: Services) -> None:
        self.application = application
        self.services = services
        self._at: datetime | None = None  # when the current job fires
        self._generation = 0
        self._running = asyncio.Lock()

    def wake(self, when: datetime) -> None:
        """Run the due work no later than `when`."""
        if self._at is not None and when >= self._at:
            return
        self._generation += 1
        generation = self._generation
        self._at = when

        async def fire(_: Context) -> None:
            if generation == self._generation:
                await self.run()

        job_queue = self.application.job_queue
        assert job_queue is not None
        delay = max(0.0, (when - self.services.clock.now()).total_seconds())
        # A job that fires late (a busy loop, a paused machine) still runs.
        job_queue.run_once(fire, when=delay, name="due", job_kwargs={"misfire_grace_time": None})

    async def run(self) -> None:
        """The due work now (what the timer does when it fires; tests call it as time
        passes), then the timer is armed for the next moment."""
        async with self._running:
            self._at = None  # the job that fired is spent; a wake meanwhile arms a new one
            started = self.services.clock.now()
            try:
                for work in DUE_WORK:
                    await work.run(self.services)
            finally:
                try:
                    await self.arm_after(started)
                except Exception:
                    self.wake(self.services.clock.now() + self.SWEEP)  # the timer never dies
                    raise

    async def arm_after(self, started: datetime) -> None:
        """Arm the timer for the first moment after `started` (what was due until then has
        just been done), or for the sweep, whichever comes first."""
        moment = await next_moment(self.services, started)
        sweep = self.services.clock.now() + self.SWEEP
        self.wake(sweep if moment is None else min(moment, sweep))

    async def next_moment(self) -> datetime | None:
        """When something next falls due (without the sweep)."""
        return await next_moment(self.services, self.services.clock.now())


def _member_check(application: App) -> Callable[[int, int], Awaitable[bool]]:
    async def is_member(chat_id: int, telegram_id: int) -> bool:
        try:
            member = await application.bot.get_chat_member(chat_id, telegram_id)
        except TelegramError:
            return False
        if member.status == ChatMember.RESTRICTED:
            return bool(getattr(member, "is_member", False))
        return member.status in (ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER)

    return is_member


async def set_command_menus(application: App, default_language: str) -> None:
    """setMyCommands per menu (groups, private chats) and language (SPEC §9), from the
    command table, by the names the messages there use: a group speaks the network's
    language to everyone, so its menu does too, whatever a person's own language (set for
    each language all the same, so that no older menu of another language stays in front);
    a private chat speaks the person's language, German names in German (/vorschlag,
    /anliegen), English ones in English."""
    from handlers import Menu, in_menu

    bot = application.bot
    for menu in Menu:
        for lang in (None, *LANGUAGES):
            texts_lang = default_language if menu is Menu.GROUP else lang or default_language
            commands = [
                BotCommand(c.shown(texts_lang), t(texts_lang, c.menu_key)) for c in in_menu(menu)
            ]
            try:
                await bot.set_my_commands(commands, scope=menu.scope(), language_code=lang)
            except TelegramError as exc:
                log.warning("event=set_commands_failed lang=%s error=%s", lang, exc)


async def _on_error(update: object, context: Context) -> None:
    """Log the error; undo what the update's handling did; tell the person something went
    wrong — never a traceback.

    A handler's error reaches here inside the update's unit of work (bot.telegram_side.inbox):
    nothing of it is kept — no state half changed, nothing it queued to say, no answer it
    registered — and no later handler group acts on the update. What is said here, and the
    update's mark as handled, are what the unit then commits."""
    log.error("event=handler_error", exc_info=context.error)
    if not isinstance(update, Update):
        return
    services: Services | None = context.bot_data.get(SERVICES_KEY)
    if services is not None:
        unit = services.storage.db.current()
        if unit is not None:
            await unit.discard()
    if services is None or update.effective_chat is None:
        raise ApplicationHandlerStop
    lang = services.language_for(
        update.effective_chat.type,
        update.effective_user.language_code if update.effective_user else None,
    )
    query = update.callback_query
    if query is not None:

        async def answer() -> None:
            with contextlib.suppress(TelegramError):
                await query.answer(t(lang, "error.internal"), show_alert=True)

        await services.storage.db.after_commit(answer, first=True)
    elif update.effective_message is not None and update.effective_message.text:
        await services.outbox.send(update.effective_chat.id, t(lang, "error.internal"))
    raise ApplicationHandlerStop
