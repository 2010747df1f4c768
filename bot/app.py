"""Wiring: build the python-telegram-bot Application from the config, the start-up work, and
the one timer that runs the due work."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeAlias, TypeVar

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
from bot.services import SERVICES_KEY, Deployment, Services
from bot.telegram_side.inbox import KEEP_HANDLED, InboxProcessor, InboxRequest, UpdateInbox
from bot.telegram_side.limiter import RetryingLimiter
from bot.telegram_side.outbox import TelegramOutbox
from bot.telegram_side.updates import OrderedUpdateProcessor
from bot.telegram_side.workers import WORKER_KEY, SharedOrder, SharedWork
from bot.texts.i18n import LANGUAGES, t
from storage import CharterTerms, Storage
from storage.claims import Claims
from storage.lock import opening, opening_postgres

log = logging.getLogger(__name__)

T = TypeVar("T")

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
    dict[Any, Any],  # bot_data: the Deployment under SERVICES_KEY
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
    # Run for each network (in its scope), or once for the deployment (its first network's
    # Services: what it does is not any one network's, like purging the inbox).
    each_network: bool = True


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
    DueWork("handled_updates", lambda services: _purge_inbox(services), each_network=False),
    DueWork("outbox_purge", purge_outbox, each_network=False),
    # A queue stuck longer than [limits] stuck_after (a team chat's: its network's admins; the
    # private chats': the first network's, which claims that episode first): told once.
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
    # One of several webhook workers on the database (SPEC §9 "Several workers"), or None.
    shared = None
    if config.webhook is not None and config.webhook.workers_share_database:
        shared = SharedWork(worker_name(), config.webhook.worker_lease, clock)
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
        .post_init(_post_init(config, clock, inbox, shared))
        .post_shutdown(_post_shutdown)
    )
    ordered: BaseUpdateProcessor = update_processor or OrderedUpdateProcessor()
    if shared is not None:
        ordered = SharedOrder(ordered, shared)  # a person's updates in order across workers
    builder = builder.concurrent_updates(InboxProcessor(ordered, inbox, hold=hold_updates))
    if request is not None:
        builder = builder.request(request)
    # python-telegram-bot's own default for getUpdates: one connection, HTTP/1.1.
    builder = builder.get_updates_request(
        InboxRequest(get_updates_request or HTTPXRequest(connection_pool_size=1), inbox)
    )
    application = builder.build()
    inbox.hand_on_to(application)  # its processor reads the updates the inbox hands on bare
    if shared is not None:
        application.bot_data[WORKER_KEY] = shared
    register(application)
    application.add_error_handler(_on_error)
    return application


def worker_name() -> str:
    """This process among the workers and in the heartbeats: host:pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _post_init(
    config: Config, clock: Clock, inbox: UpdateInbox, shared: SharedWork | None
) -> Callable[[App], Coroutine[Any, Any, None]]:
    async def post_init(application: App) -> None:
        """Open the database, the inbox and the outbox, handle what a stop left in the
        inbox, and register the command menus — all before polling starts. Each network of
        the config gets its Services on the one database (SPEC §1)."""
        # Workers starting together migrate one after the other.
        storages = await _one_worker_at_a_time(
            config,
            shared,
            Storage.open_networks(
                config.database,
                [network.name for network in config.networks],
                clock.now(),
                CHARTER_TERMS,
            ),
        )
        first = storages[0]
        inbox.bind(first.inbox)
        if shared is not None:
            shared.bind(first.inbox, Claims(first.db))
        outbox = TelegramOutbox(
            application.bot,
            clock,
            _job_scheduler(application),
            first.outbox,
            group_per_minute=config.limits.group_per_minute,
            edits_per_minute=config.limits.card_edits_per_minute,
            group_window=config.limits.group_window,
            retry_base=config.limits.retry_base,
            retry_max=config.limits.retry_max,
            worker=None if shared is None else shared.worker,
        )
        deployment = Deployment(
            [
                Services(
                    config=config, network=network, clock=clock, storage=storage, outbox=outbox
                )
                for network, storage in zip(config.networks, storages, strict=True)
            ]
        )
        timer = DueTimer(
            application,
            deployment,
            None if shared is None else min(DueTimer.SWEEP, timedelta(seconds=shared.lease)),
        )
        application.bot_data[DUE_TIMER_KEY] = timer
        member_check = _member_check(application)
        processor = application.update_processor
        for services in deployment.networks:
            services.bot_username = application.bot.username or ""
            services.wake = timer.wake
            # The early close asks whether an older update is still handled: the processor
            # (here), and the inbox (any worker's).
            if isinstance(processor, InboxProcessor):
                services.handling_before = _handling_before(processor, shared)
            services.decisions = Decisions(services, member_check)
            services.reminders = Reminders(services)
            services.digests = DigestRunner(services)
            support.register(services)
            admissions.register(services)
            nominations.register(services)
            delegations.register(services)
        application.bot_data[SERVICES_KEY] = deployment
        # What a row records, renders and does when it goes out is its network's.
        outbox.bind(
            lambda what, post: posting.record(deployment.current(), what, post),
            lambda what: posting.render(deployment.current(), what),
            lambda what, error: posting.refused(deployment.current(), what, error),
            scope=deployment,
        )
        # What a stopped process left in the outbox goes out first, in its order: what its
        # units committed is all there (nothing is posted again from what is stored).
        await outbox.resume()
        # A database from before the outbox (schema < 018) had its queue in memory: what it
        # had not posted is derived once from the state, the first time it starts migrated
        # (by one worker of several: the others find it done).
        for services in deployment.networks:
            with deployment.serving(services.storage.network_id):
                await _one_worker_at_a_time(config, shared, upgrade.catch_up(services))
        # Updates fetched before a stop and not handled then are handled first, once, in
        # update_id order: they came while the bot was running (SPEC §9).
        if shared is None:
            await inbox.replay(application)
        else:  # only what no worker has: a killed worker's, once its lease ran out
            await shared.handle(application, await shared.take_over(at_start=True))
            _every_third_of_a_lease(application, shared)
        # Deadlines that passed while the bot was down are handled once, before polling
        # starts, so presses made meanwhile meet a closed round (SPEC §9); then the one
        # timer sleeps until the next moment something falls due.
        started = clock.now()
        await timer.run_due_work()
        await timer.arm_after(started)
        await set_command_menus(
            application, config.networks[0].language, several_networks=not deployment.single
        )
        log.info(
            "event=started networks=%s schema=%s",
            ",".join(str(services.storage.network_id) for services in deployment.networks),
            await first.db.schema_version(),
        )

    return post_init


async def _one_worker_at_a_time(config: Config, shared: SharedWork | None, work: Awaitable[T]) -> T:
    """What starting workers do one after the other (storage.lock.opening); one process: at
    once."""
    async with contextlib.AsyncExitStack() as turn:
        if shared is not None and config.storage_path is not None:
            await asyncio.to_thread(turn.enter_context, opening(config.storage_path))
        elif shared is not None and config.storage_url is not None:
            await turn.enter_async_context(opening_postgres(config.storage_url))
        return await work


def _handling_before(
    processor: InboxProcessor, shared: SharedWork | None
) -> Callable[[int | None], Awaitable[bool]]:
    async def handling_before(update_id: int | None) -> bool:
        if processor.handling_before(update_id):
            return True
        return shared is not None and await shared.handling_before(update_id)

    return handling_before


def _every_third_of_a_lease(application: App, shared: SharedWork) -> None:
    """The worker's tick: its leases renewed, a killed worker's updates and chats taken over."""

    async def tick(_: Context) -> None:
        await shared.tick(application)
        deployment: Deployment = application.bot_data[SERVICES_KEY]
        outbox = deployment.first().outbox
        if isinstance(outbox, TelegramOutbox):
            await outbox.flush_unclaimed()

    assert application.job_queue is not None
    application.job_queue.run_repeating(
        tick,
        interval=shared.lease / 3,
        first=shared.lease / 3,
        name="worker-tick",
        job_kwargs={"misfire_grace_time": None, "coalesce": True},
    )


async def _post_shutdown(application: App) -> None:
    deployment: Deployment | None = application.bot_data.get(SERVICES_KEY)
    if deployment is not None:
        shared: SharedWork | None = application.bot_data.get(WORKER_KEY)
        if shared is not None:
            with contextlib.suppress(Exception):  # a lease runs out by itself, too
                await shared.stopped()
        await deployment.first().storage.close()  # the one database of every network
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
    up within a minute; with several workers, within a lease). Each run does the `DUE_WORK`
    entries, one run at a time, then sleeps until the next moment. A flow that writes an
    earlier moment (a round opens, a window starts) calls `wake(when)`, which only ever moves
    the timer earlier.

    No job is looked up by name or removed: a job armed before a wake made it too late is
    stale and does nothing when it fires (`_generation`)."""

    SWEEP = timedelta(seconds=60)

    def __init__(
        self, application: App, deployment: Deployment, sweep: timedelta | None = None
    ) -> None:
        self.application = application
        self.deployment = deployment
        # Several workers sweep a lease apart (at most a minute): a round another worker
        # opened, or a killed worker's due item, is done within a lease.
        self.sweep = sweep or self.SWEEP
        self.clock = deployment.first().clock
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
        delay = max(0.0, (when - self.clock.now()).total_seconds())
        # A job that fires late (a busy loop, a paused machine) still runs.
        job_queue.run_once(fire, when=delay, name="due", job_kwargs={"misfire_grace_time": None})

    async def run(self) -> None:
        """The due work now (what the timer does when it fires; tests call it as time
        passes), then the timer is armed for the next moment."""
        async with self._running:
            self._at = None  # the job that fired is spent; a wake meanwhile arms a new one
            started = self.clock.now()
            try:
                await self.run_due_work()
            finally:
                try:
                    await self.arm_after(started)
                except Exception:
                    self.wake(self.clock.now() + self.sweep)  # the timer never dies
                    raise

    async def run_due_work(self) -> None:
        """The `DUE_WORK` entries in order, each for every network in its scope (or once)."""
        for work in DUE_WORK:
            targets = (
                self.deployment.networks if work.each_network else self.deployment.networks[:1]
            )
            for services in targets:
                with self.deployment.serving(services.storage.network_id):
                    await work.run(services)

    async def arm_after(self, started: datetime) -> None:
        """Arm the timer for the first moment after `started` (what was due until then has
        just been done), or for the sweep, whichever comes first."""
        moment = await self._first_moment(started)
        sweep = self.clock.now() + self.sweep
        self.wake(sweep if moment is None else min(moment, sweep))

    async def next_moment(self) -> datetime | None:
        """When something next falls due (without the sweep)."""
        return await self._first_moment(self.clock.now())

    async def _first_moment(self, after: datetime) -> datetime | None:
        moments = [await next_moment(services, after) for services in self.deployment.networks]
        return min((moment for moment in moments if moment is not None), default=None)


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


async def set_command_menus(
    application: App, default_language: str, *, several_networks: bool = False
) -> None:
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
                BotCommand(c.shown(texts_lang), t(texts_lang, c.menu_key))
                for c in in_menu(menu, several_networks=several_networks)
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
    deployment: Deployment | None = context.bot_data.get(SERVICES_KEY)
    services = None
    if deployment is not None:
        services = deployment.placed() or deployment.first()
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
