"""What every handler needs, built once at start: config, storage, outbox, clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from babel.dates import format_date, format_datetime, format_timedelta

from bot.charter.policy import DecisionKind, Policy, TeamKind
from bot.clock import Clock
from bot.config import Config
from bot.telegram_side.outbox import Outbox
from bot.texts.i18n import language_for_user
from storage import Storage
from storage.teams import Team

SERVICES_KEY = "wiq"  # where the Application's bot_data holds the Services


@dataclass
class Services:
    config: Config
    clock: Clock
    storage: Storage
    outbox: Outbox
    bot_username: str = ""
    decisions: Any = None  # bot.decisions.Decisions, set at start
    reminders: Any = None  # bot.reminders.Reminders, set at start
    digests: Any = None  # bot.digests.DigestRunner, set at start

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

    def local_datetime(self, moment: datetime, lang: str) -> str:
        return format_datetime(
            moment, format="short", tzinfo=self.config.network.timezone, locale=lang
        )

    def local_date(self, moment: datetime, lang: str) -> str:
        return format_date(moment.astimezone(self.config.network.timezone), "medium", locale=lang)

    def duration(self, value: timedelta, lang: str) -> str:
        """`7 Tage`, `3 days`: a policy's durations in words."""
        return format_timedelta(value, locale=lang, threshold=1.0, format="long")

    def deep_link(self, payload: str) -> str:
        return f"https://t.me/{self.bot_username}?start={payload}"
