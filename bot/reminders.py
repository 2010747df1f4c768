"""Reminders (SPEC §7): `reminder_before` a round or vote closes, one message in the team
chat mentioning the members of the electorate who have not responded — at most one per
round or vote (claimed in the database), none when everyone has."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.i18n import Html, t
from bot.outbox import Priority
from bot.policy import policy_from_json
from bot.render import mention
from bot.schedule import reminder_at
from storage.reminders import OpenStage

log = logging.getLogger(__name__)

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
            before = policy_from_json(stage.policy).reminder_before
            when = reminder_at(stage.opened_at, stage.deadline, before)
            if when is None or now >= stage.deadline:
                continue  # no reminder for it, or its close is due anyway
            if when > now:
                self.arm(f"reminder:{stage.stage}:{stage.stage_id}", when)
                continue
            await self.remind(stage)

    async def remind(self, stage: OpenStage) -> bool:
        """Post the reminder of one round or vote; False if it was sent before or nobody is
        missing (then it is not sent later either: at most one per round or vote)."""
        store = self.wiq.storage
        if not await store.reminders.claim(stage.stage, stage.stage_id, self.wiq.clock.now()):
            return False
        missing = await store.reminders.not_responded(stage.stage, stage.stage_id)
        team = await store.teams.by_id(stage.team_id)
        if not missing or team is None:
            return False
        people = await store.people.by_ids(missing)
        names = sorted(people.values(), key=lambda person: person.display_name.lower())
        lang = self.wiq.default_language
        text = t(
            lang,
            f"reminder.{stage.stage}",
            id=stage.proposal_id,
            title=stage.title,
            round=stage.round_number,
            deadline=self.wiq.local_datetime(stage.deadline, lang),
            people=Html(", ".join(mention(p.telegram_id, p.display_name) for p in names)),
        )
        reply_to = stage.message_id if stage.chat_id == team.chat_id else None
        await self.wiq.outbox.send(team.chat_id, text, priority=Priority.NOTICE, reply_to=reply_to)
        log.info(
            "event=reminder stage=%s id=%s proposal=%s missing=%d",
            stage.stage,
            stage.stage_id,
            stage.proposal_id,
            len(missing),
        )
        return True
