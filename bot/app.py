"""Wiring: build the python-telegram-bot Application from the config, and start-up work."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias

from telegram import BotCommand, ChatMember, Update
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    ContextTypes,
    ExtBot,
    JobQueue,
)
from telegram.request import BaseRequest

from bot.charter.outcomes import APPROVING_OUTCOMES, DECIDED_OUTCOMES, REASONED_RESPONSES
from bot.clock import Clock
from bot.config import Config
from bot.flows import admissions, delegations, elections, nominations, petitions, support
from bot.flows.decisions import Decisions
from bot.flows.digests import DigestRunner
from bot.flows.reminders import Reminders
from bot.services import SERVICES_KEY, Services
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
    """Work that falls due as time passes, done at start (before polling begins, SPEC §9),
    in the minute's sweep, or both; what is done in only one of them says why."""

    name: str
    run: Callable[[Services], Awaitable[None]]
    at_start: bool = True
    in_sweep: bool = True
    why: str = ""

    def __post_init__(self) -> None:
        if not (self.at_start and self.in_sweep) and not self.why:
            raise ValueError(f"due work {self.name}: say why it is not done both times")


# In this order, at start and in the sweep.
DUE_WORK: tuple[DueWork, ...] = (
    DueWork(
        "interrupted_decisions",
        lambda services: services.decisions.finish_interrupted(),
        in_sweep=False,
        why="while the bot runs, result and effects follow their commit; only a stop cuts them off",
    ),
    DueWork("deadlines", lambda services: services.decisions.run_due()),
    DueWork("lapsed_nominations", nominations.lapse_due),
    DueWork("elections", elections.run_due),
    DueWork("invitation_links", admissions.retry_invitations),
    DueWork(
        "interrupted_petitions",
        petitions.post_interrupted,
        in_sweep=False,
        why="while the bot runs, the post waits in the outbox: posting it again posts it twice",
    ),
    DueWork(
        "rearm_deadlines",
        lambda services: services.decisions.rearm_all(),
        in_sweep=False,
        why="jobs die with a stop; while the bot runs, each is armed (its card sent) as it is set",
    ),
    DueWork("reminders", lambda services: services.reminders.run_due()),
    DueWork(
        "unsent_digests",
        lambda services: services.digests.resend_unsent(),
        in_sweep=False,
        why="while the bot runs, a claimed digest is on its way; only a stop leaves one unsent",
    ),
    # A digest missed while the bot was down goes out once; the next one is armed.
    DueWork("digest", lambda services: services.digests.run_due()),
)


def build_application(
    config: Config,
    clock: Clock | None = None,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    update_processor: BaseUpdateProcessor | None = None,
) -> App:
    """The Application as `wiq-bot run` uses it; tests pass an in-process request."""
    # The wiring is the one place in bot/ that knows the Telegram adapters.
    from handlers import register

    clock = clock or Clock()
    builder = (
        ApplicationBuilder()
        .token(config.telegram.token)
        .base_url(config.telegram.base_url)
        # The outbox owns each group's budget; PTB's limiter keeps only the overall one.
        .rate_limiter(
            AIORateLimiter(overall_max_rate=config.limits.overall_per_second, group_max_rate=0)
        )
        .post_init(_post_init(config, clock))
        .post_shutdown(_post_shutdown)
    )
    builder = builder.concurrent_updates(update_processor or OrderedUpdateProcessor())
    if request is not None:
        builder = builder.request(request)
    if get_updates_request is not None:
        builder = builder.get_updates_request(get_updates_request)
    application = builder.build()
    register(application)
    application.add_error_handler(_on_error)
    return application


def _post_init(config: Config, clock: Clock) -> Callable[[App], Coroutine[Any, Any, None]]:
    async def post_init(application: App) -> None:
        """Open the database and the outbox, and register the command menus — all before
        polling starts."""
        storage = await Storage.open(
            config.storage_path, config.network.name, clock.now(), CHARTER_TERMS
        )
        outbox = TelegramOutbox(
            application.bot,
            clock,
            _job_scheduler(application),
            group_per_minute=config.limits.group_per_minute,
            edits_per_minute=config.limits.card_edits_per_minute,
            retry_base=config.limits.retry_base,
            retry_max=config.limits.retry_max,
        )
        services = Services(config=config, clock=clock, storage=storage, outbox=outbox)
        services.bot_username = application.bot.username or ""
        if isinstance(application.update_processor, OrderedUpdateProcessor):
            services.handling_before = application.update_processor.handling_before
        services.decisions = Decisions(
            services, _deadline_arm(application, clock), _member_check(application)
        )
        services.reminders = Reminders(services, _reminder_arm(application, clock))
        services.digests = DigestRunner(services, _digest_arm(application, clock))
        support.register(services)
        admissions.register(services)
        nominations.register(services)
        delegations.register(services)
        application.bot_data[SERVICES_KEY] = services
        # Deadlines that passed while the bot was down are handled once, before polling
        # starts, so presses made meanwhile meet a closed round (SPEC §9).
        for work in DUE_WORK:
            if work.at_start:
                await work.run(services)
        # A safety net under the per-proposal jobs: whatever is due is handled within a
        # minute, even if a job was lost.
        assert application.job_queue is not None
        application.job_queue.run_repeating(
            _sweep,
            interval=60,
            first=60,
            name="deadline-sweep",
            job_kwargs={"misfire_grace_time": None, "coalesce": True},
        )
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


async def _sweep(context: Context) -> None:
    """Every minute: the due work that runs in the sweep."""
    services: Services = context.bot_data[SERVICES_KEY]
    for work in DUE_WORK:
        if work.in_sweep:
            await work.run(services)


Job = Callable[[Context], Coroutine[Any, Any, None]]


def _run_once(application: App, clock: Clock, name: str, when: datetime, job: Job) -> None:
    """(Re)schedule the JobQueue job `name` at `when` (the clock's time): the one of that name
    armed before is dropped. A job that fires late (a busy loop, a paused machine) still runs."""
    job_queue = application.job_queue
    assert job_queue is not None
    for old in job_queue.get_jobs_by_name(name):
        old.schedule_removal()
    delay = max(0.0, (when - clock.now()).total_seconds())
    job_queue.run_once(job, when=delay, name=name, job_kwargs={"misfire_grace_time": None})


def _deadline_arm(application: App, clock: Clock) -> Callable[[int, datetime], None]:
    """One JobQueue job per proposal, at its next deadline; the database is the truth."""

    def arm(proposal_id: int, when: datetime) -> None:
        async def fire(context: Context) -> None:
            await context.bot_data[SERVICES_KEY].decisions.on_deadline(proposal_id)

        _run_once(application, clock, f"deadline:{proposal_id}", when, fire)
        # A round or vote may have opened: its reminder is armed (or sent, if due) next.
        _run_once(application, clock, "reminder-check", clock.now(), _check_reminders)

    return arm


async def _check_reminders(context: Context) -> None:
    await context.bot_data[SERVICES_KEY].reminders.run_due()


def _reminder_arm(application: App, clock: Clock) -> Callable[[str, datetime], None]:
    """A JobQueue job per reminder, at its moment; each one runs the same due check."""
    return lambda name, when: _run_once(application, clock, name, when, _check_reminders)


async def _digest_due(context: Context) -> None:
    await context.bot_data[SERVICES_KEY].digests.run_due()


def _digest_arm(application: App, clock: Clock) -> Callable[[datetime], None]:
    """One JobQueue job at the next digest moment (computed in the network's timezone, so
    it stays at the local time across daylight-saving changes)."""
    return lambda when: _run_once(application, clock, "digest", when, _digest_due)


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
    command table."""
    from handlers import Menu, in_menu

    bot = application.bot
    for menu in Menu:
        for lang in (None, *LANGUAGES):
            texts_lang = lang or default_language
            commands = [BotCommand(c.name, t(texts_lang, c.menu_key)) for c in in_menu(menu)]
            try:
                await bot.set_my_commands(commands, scope=menu.scope(), language_code=lang)
            except TelegramError as exc:
                log.warning("event=set_commands_failed lang=%s error=%s", lang, exc)


async def _on_error(update: object, context: Context) -> None:
    """Log the error; tell the person something went wrong — never a traceback."""
    log.error("event=handler_error", exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    services: Services | None = context.bot_data.get(SERVICES_KEY)
    if services is None:
        return
    lang = services.language_for(
        update.effective_chat.type,
        update.effective_user.language_code if update.effective_user else None,
    )
    if update.callback_query is not None:
        with contextlib.suppress(TelegramError):
            await update.callback_query.answer(t(lang, "error.internal"), show_alert=True)
        return
    if update.effective_message is not None and update.effective_message.text:
        await services.outbox.send(update.effective_chat.id, t(lang, "error.internal"))
