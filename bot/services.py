"""What every flow and handler needs, built once at start: config, storage, the outbox (the
port a flow posts through), clock, and the engines that run decisions, reminders, digests."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from babel.dates import format_timedelta

from bot.charter.policy import DecisionKind, Policy, TeamKind
from bot.clock import Clock
from bot.config import Config, NetworkConfig
from bot.flows.port import Outbox
from bot.texts import dates
from bot.texts.i18n import language_for_user
from storage import Storage
from storage.teams import Team

if TYPE_CHECKING:
    from bot.flows.decisions import Decisions
    from bot.flows.digests import DigestRunner
    from bot.flows.reminders import Reminders

SERVICES_KEY = "wiq"  # where the Application's bot_data holds the Deployment


async def _handling_none(update_id: int | None) -> bool:
    """Without an update processor (a flow tested on its own), nothing else is handled."""
    return False


def _no_timer(when: datetime) -> None:
    """Without the one timer (a flow tested on its own), nothing is woken."""


@dataclass
class Services:
    """One network's: its config and storage (every query scoped to it), and what the
    deployment shares (the clock, the outbox, the timer)."""

    config: Config
    clock: Clock
    storage: Storage
    outbox: Outbox
    network: NetworkConfig = field(default=None)  # type: ignore[assignment]  # see __post_init__
    bot_username: str = ""
    # wake(when): the one timer runs the due work no later than `when` (bot.app's DueTimer);
    # a flow calls it for every moment it writes (a round's deadline, a reminder, …).
    wake: Callable[[datetime], None] = _no_timer
    # Whether an update older than the given one is still being handled: in this process (the
    # update processor's `handling_before`) or, with several workers on the database, by any
    # (an unhandled row in the inbox: bot.telegram_side.workers); an early close waits for those.
    handling_before: Callable[[int | None], Awaitable[bool]] = field(
        default_factory=lambda: _handling_none
    )
    # Set at start, right after this object (they are given it): bot.app's post_init.
    decisions: Decisions = field(init=False, repr=False)
    reminders: Reminders = field(init=False, repr=False)
    digests: DigestRunner = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.network is None:  # a deployment of one network (a flow tested on its own)
            self.network = self.config.network

    @property
    def default_language(self) -> str:
        return self.network.language

    def is_network_admin(self, telegram_id: int | None) -> bool:
        return telegram_id is not None and telegram_id in self.network.admins

    def language_for(self, chat_type: str, user_language: str | None) -> str:
        """Groups speak the network's language; a private chat follows the person's."""
        if chat_type == "private":
            return language_for_user(user_language, self.default_language)
        return self.default_language

    def policy(self, team: Team, decision: DecisionKind = DecisionKind.PROPOSAL) -> Policy:
        return self.network.policies.resolve(TeamKind(team.kind), decision, team.policy_overrides)

    def local_datetime(self, moment: datetime, lang: str, *, zone: bool = False) -> str:
        """A moment in the network's timezone, as every message shows it (bot.texts.dates):
        "Do., 05.11.2026, 09:31 Uhr"; with `zone` (a private chat, a file) "… Uhr MEZ"."""
        return dates.moment(moment, lang, self.network.timezone, zone=zone)

    def local_date(self, moment: datetime, lang: str) -> str:
        """The day of a moment in the network's timezone: "05.11.2026", "5 Nov 2026"."""
        return dates.day(moment, lang, self.network.timezone)

    def duration(self, value: timedelta, lang: str) -> str:
        """`7 Tage`, `3 days`: a policy's durations in words."""
        return format_timedelta(value, locale=lang, threshold=1.0, format="long")


# The network the work at hand is for: set for each update once it is placed
# (handlers.routing), for each network's due work (bot.app's DueTimer), and for each outbox row
# as it goes out. Each update and each job is a task of its own, so it never leaks to another.
_serving: ContextVar[Services | None] = ContextVar("wiq_serving", default=None)


class NoNetwork(LookupError):
    """Work that needs a network, where none is placed (a deployment of several)."""


@dataclass
class Deployment:
    """The networks one process serves (SPEC §1), each with its Services, in the config's
    order. A deployment of one network behaves as before networks were several: that one
    serves everything."""

    networks: list[Services]

    @property
    def single(self) -> bool:
        return len(self.networks) == 1

    def by_id(self, network_id: int | None) -> Services | None:
        return next(
            (services for services in self.networks if services.storage.network_id == network_id),
            None,
        )

    def placed(self) -> Services | None:
        """The network of the work at hand, or the only one; None when none is placed."""
        serving = _serving.get()
        if serving is not None:
            return serving
        return self.networks[0] if self.single else None

    def current(self) -> Services:
        """The network of the work at hand (`placed`); NoNetwork where none is."""
        services = self.placed()
        if services is None:
            raise NoNetwork("no network is placed for this work")
        return services

    def first(self) -> Services:
        """The deployment's first network: what is said before any network is placed (its
        language) and what the deployment shares (its database, its outbox, its clock)."""
        return self.networks[0]

    def of_admin(self, telegram_id: int | None) -> list[Services]:
        """The networks this person is a network admin of (the config says)."""
        return [services for services in self.networks if services.is_network_admin(telegram_id)]

    def place(self, services: Services | None) -> None:
        """From here on in this task, the work is this network's (None: no network's)."""
        _serving.set(services)

    # NetworkScope (bot.telegram_side.outbox): what the outbox writes and carries out.
    def current_id(self) -> int | None:
        services = self.placed()
        return None if services is None else services.storage.network_id

    @contextlib.contextmanager
    def serving(self, network_id: int | None) -> Iterator[None]:
        """Within this block, the work is this network's (a row with no network: the
        first's)."""
        services = self.by_id(network_id) or self.first()
        token = _serving.set(services)
        try:
            yield
        finally:
            _serving.reset(token)
