"""Reminders (SPEC §7): `reminder_before` a round or vote closes, one message in the team
chat mentioning the members of the electorate who have not responded — at most one per
round or vote (claimed in the database), none when everyone has."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from telegram.constants import ParseMode

from bot.charter.policy import DecisionKind, Policy, policy_from_json
from bot.charter.schedule import reminder_at
from bot.telegram_side.outbox import Priority
from bot.texts.i18n import Html, t
from bot.texts.render import mention
from storage.reminders import OpenStage

log = logging.getLogger(__name__)

# Mentions in one reminder: beyond this the list ends with "and N more" (one message).
MAX_MENTIONS = 50

# arm(name, when): a JobQueue job that calls run_due at `when` (replacing one of that name)
ArmReminder = Callable[[str, datetime], None]


class Reminders:
    def __init__(self, services: Any, arm: ArmReminder) -> None:
        self.wiq = services
        self.arm = arm

    async def run_due(self) -> None:
        """Send every reminder that is due; arm a job for each one still ahead. Called at
        start, by the jobs it arms, whenever a round or vote opens, and by the sweep."""
        now = self.wiq.clock.now()
        for stage in await self.wiq.storage.reminders.unsent():
            before = (await self._policy(stage)).reminder_before
            when = reminder_at(stage.opened_at, stage.deadline, before)
            if when is None or now >= stage.deadline:
                continue  # no reminder for it, or its close is due anyway
            if when > now:
                self.arm(f"reminder:{stage.stage}:{stage.stage_id}", when)
                continue
            await self.remind(stage)

    async def _policy(self, stage: OpenStage) -> Policy:
        """A proposal's own (it keeps the policy it started under); an election's team's."""
        if stage.policy is not None:
            return policy_from_json(stage.policy)
        team = await self.wiq.storage.teams.by_id(stage.team_id)
        assert team is not None
        return self.wiq.policy(team, DecisionKind.ELECTION)

    async def remind(self, stage: OpenStage) -> bool:
        """Queue the reminder of one round or vote; False if it was claimed before or nobody
        is missing (then it is not sent later either: at most one per round or vote). Who is
        mentioned is worked out when it goes out: a chat over its budget may hold it a while,
        and by then someone may have answered, or the round closed (then it is not sent)."""
        store = self.wiq.storage
        if not await store.reminders.claim(stage.stage, stage.stage_id, self.wiq.clock.now()):
            return False
        team = await store.teams.by_id(stage.team_id)
        if team is None or not await store.reminders.not_responded(stage.stage, stage.stage_id):
            return False
        reply_to = stage.message_id if stage.chat_id == team.chat_id else None

        async def build() -> dict[str, Any]:
            if not await store.reminders.is_open(stage.stage, stage.stage_id):
                return {}
            missing = await store.reminders.not_responded(stage.stage, stage.stage_id)
            if not missing:
                return {}
            kwargs: dict[str, Any] = {
                "chat_id": team.chat_id,
                "text": await self._text(stage, missing),
                "parse_mode": ParseMode.HTML,
            }
            if reply_to is not None:
                kwargs["reply_to_message_id"] = reply_to
                kwargs["allow_sending_without_reply"] = True
            return kwargs

        await self.wiq.outbox.submit(team.chat_id, "send_message", {}, Priority.NOTICE, build=build)
        log.info(
            "event=reminder stage=%s id=%s proposal=%s",
            stage.stage,
            stage.stage_id,
            stage.proposal_id,
        )
        return True

    async def _text(self, stage: OpenStage, missing: list[int]) -> str:
        """The reminder, with text mentions (people without a username are reached too);
        a long list is cut so that the message stays one message."""
        people = await self.wiq.storage.people.by_ids(missing)
        names = sorted(people.values(), key=lambda person: person.display_name.lower())
        lang = self.wiq.default_language
        shown = [mention(p.telegram_id, p.display_name) for p in names[:MAX_MENTIONS]]
        listed = ", ".join(shown)
        if len(names) > MAX_MENTIONS:
            listed += t(lang, "reminder.more", count=len(names) - MAX_MENTIONS)
        return t(
            lang,
            f"reminder.{stage.stage}",
            id=stage.proposal_id,
            title=stage.title,
            round=stage.round_number,
            deadline=self.wiq.local_datetime(stage.deadline, lang),
            people=Html(listed),
        )
