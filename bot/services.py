"""What every flow and handler needs, built once at start: config, storage, the outbox (the
port a flow posts through), clock, and the engines that run decisions, reminders, digests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from babel.dates import format_timedelta

from bot.charter.policy import DecisionKind, Policy, TeamKind
from bot.clock import Clock
from bot.config import Config
from bot.flows.port import Outbox
from bot.texts import dates
from bot.texts.i18n import language_for_user
from storage import Storage
from storage.teams import Team

if TYPE_CHECKING:
    from bot.flows.decisions import Decisions
    from bot.flows.digests import DigestRunner
    from bot.flows.reminders import Reminders

SERVICES_KEY = "wiq"  # where the Application's bot_data holds the Services


def _no_timer(when: datetime) -> None:
    """Without the one timer (a flow tested on its own), nothing is woken."""


@dataclass
class Services:
    config: Config
    clock: Clock
    storage: Storage
    outbox: Outbox
    bot_username: str = ""
    # wake(when): the one timer runs the due work no later than `when` (bot.app's DueTimer);
    # a flow calls it for every moment it writes (a round's deadline, a reminder, …).
    wake: Callable[[datetime], None] = _no_timer
    # Whether an update older than the given one is still being handled in this process (the
    # update processor's `handling_before`); an early close waits for those.
    handling_before: Callable[[int | None], bool] = lambda update_id: False
    # Set at start, right after this object (they are given it): bot.app's post_init.
    decisions: Decisions = field(init=False, repr=False)
    reminders: Reminders = field(init=False, repr=False)
    digests: DigestRunner = field(init=False, repr=False)

    @property
    def default_language(self) -> str:
        return self.config.network.language

    def is_network_admin(self, telegram_id: int | None) -> bool:
        return telegram_id is not None and telegram_id in self.config.network.admins

    def language_for(self, chat_type: str, user_language: str | None) -> str:
        """Groups speak the network's language; a private chat follows the person's."""
        if chat_type == "private":
            return language_for_user(user_language, self.default_language)
        return self.default_language

    def policy(self, team: Team, decision: DecisionKind = DecisionKind.PROPOSAL) -> Policy:
        return self.config.policies.resolve(TeamKind(team.kind), decision, team.policy_overrides)

    def local_datetime(self, moment: datetime, lang: str, *, zone: bool = False) -> str:
        """A moment in the network's timezone, as every message shows it (bot.texts.dates):
        "Do., 05.11.2026, 09:31 Uhr"; with `zone` (a private chat, a file) "… Uhr MEZ"."""
        return dates.moment(moment, lang, self.config.network.timezone, zone=zone)

    def local_date(self, moment: datetime, lang: str) -> str:
        """The day of a moment in the network's timezone: "05.11.2026", "5 Nov 2026"."""
        return dates.day(moment, lang, self.config.network.timezone)

    def duration(self, value: timedelta, lang: str) -> str:
        """`7 Tage`, `3 days`: a policy's durations in words."""
        return format_timedelta(value, locale=lang, threshold=1.0, format="long")
