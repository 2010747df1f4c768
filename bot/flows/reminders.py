"""Reminders (SPEC §7): `reminder_before` a round or vote closes, one message in the team
chat mentioning the members of the electorate who have not responded — at most one per
round or vote (claimed in the database), none when everyone has."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.charter.policy import DecisionKind, Policy, policy_from_json
from bot.charter.schedule import reminder_at
from bot.flows.port import Keyboard, Reminder
from bot.services import Services
from bot.texts import naming
from bot.texts.i18n import Html, t
from storage.reminders import OpenStage

log = logging.getLogger(__name__)

# Mentions in one reminder: beyond this the list ends with "and N more" (one message).
MAX_MENTIONS = 50


class Reminders:
    def __init__(self, services: Services) -> None:
        self.services = services

    async def run_due(self) -> None:
        """Send every reminder that is due (its moment is stored when its round, vote or
        poll opens: an indexed query, however much is open). Called at start and by the one
        timer. A moment stored before it was worked out (a row older than the column) is
        worked out here once, from the stage's policy."""
        now = self.services.clock.now()
        store = self.services.storage.reminders
        for stage in await store.due(now):
            async with self.services.storage.unit():  # the claim and the reminder's row
                await self._due(stage, now)

    async def _due(self, stage: OpenStage, now: datetime) -> None:
        store = self.services.storage.reminders
        before = (await self._policy(stage)).reminder_before
        when = reminder_at(stage.opened_at, stage.deadline, before)
        if when is None or now >= stage.deadline:
            # no reminder for it, or its close is due anyway
            await store.reschedule(stage.stage, stage.stage_id, None)
            return
        if when > now:
            await store.reschedule(stage.stage, stage.stage_id, when)
            self.services.wake(when)
            return
        await self.remind(stage)

    async def _policy(self, stage: OpenStage) -> Policy:
        """A proposal's own (it keeps the policy it started under); an election's team's."""
        if stage.policy is not None:
            return policy_from_json(stage.policy)
        team = await self.services.storage.teams.by_id(stage.team_id)
        assert team is not None
        return self.services.policy(team, DecisionKind.ELECTION)

    async def remind(self, stage: OpenStage) -> bool:
        """Queue the reminder of one round or vote; False if it was claimed before or nobody
        is missing (then it is not sent later either: at most one per round or vote). Who is
        mentioned is worked out when it goes out: a chat over its budget may hold it a while,
        and by then someone may have answered, or the round closed (then it is not sent)."""
        store = self.services.storage
        if not await store.reminders.claim(stage.stage, stage.stage_id, self.services.clock.now()):
            return False
        team = await store.teams.by_id(stage.team_id)
        if team is None or not await store.reminders.not_responded(stage.stage, stage.stage_id):
            return False
        reply_to = stage.message_id if stage.chat_id == team.chat_id else None
        notice = Reminder(
            stage.stage,
            stage.stage_id,
            stage.proposal_id,
            stage.title,
            stage.round_number,
            stage.deadline,
            reply_to,
            stage.number,
        )
        await self.services.outbox.send_later(team.chat_id, notice)
        log.info(
            "event=reminder stage=%s id=%s proposal=%s",
            stage.stage,
            stage.stage_id,
            stage.proposal_id,
        )
        return True

    async def render(self, notice: Reminder) -> tuple[Html, Keyboard | None] | None:
        """The reminder as it goes out: None once the stage closed or nobody is missing."""
        store = self.services.storage.reminders
        if not await store.is_open(notice.stage, notice.stage_id):
            return None
        missing = await store.not_responded(notice.stage, notice.stage_id)
        if not missing:
            return None
        return await self._text(notice, missing), None

    async def _text(self, stage: OpenStage | Reminder, missing: list[int]) -> Html:
        """The reminder, with text mentions (people without a username are reached too);
        a long list is cut so that the message stays one message."""
        people = await self.services.storage.people.by_ids(missing)
        unanswered = sorted(people.values(), key=lambda person: naming.name(person).lower())
        lang = self.services.default_language
        shown = [naming.mention(p) for p in unanswered[:MAX_MENTIONS]]
        listed = ", ".join(shown)
        if len(unanswered) > MAX_MENTIONS:
            listed += t(lang, "reminder.more", count=len(unanswered) - MAX_MENTIONS)
        return t(
            lang,
            f"reminder.{stage.stage}",
            id=stage.proposal_id if stage.number is None else stage.number,
            title=stage.title,
            round=stage.round_number,
            deadline=self.services.local_datetime(stage.deadline, lang),
            people=Html(listed),
        )
