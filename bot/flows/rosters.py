"""Leaving a team's roster (SPEC §1, §3.3), however it happens: /leave, a network admin's
/remove, leaving or being removed from the team's chat, /forgetme."""

from __future__ import annotations

import logging

from bot.charter.teams import Leaving
from bot.services import Services
from storage.people import Person
from storage.teams import Team

log = logging.getLogger(__name__)


async def leave(
    services: Services,
    team: Team,
    person: Person,
    how: Leaving,
    *,
    by: Person | None,
    reason: str | None = None,
) -> bool:
    """Take `person` off the team's roster; False (and nothing else) if they were not on it.

    `by` is who did it: the person themselves, a network admin, a chat admin, or None when
    Telegram does not say. The roster, the record and the open rounds' and votes' electorates
    change together in storage; then the open decisions are looked at again, since one may now
    be complete and every card shows one fewer to answer.
    """
    left = await services.storage.rosters.leave(
        team.id,
        person.id,
        how.value,
        services.clock.now(),
        by=by.id if by is not None else None,
        reason=reason,
    )
    if not left:
        return False
    log.info("event=left_roster team=%s person=%s how=%s", team.id, person.id, how.value)
    await services.decisions.member_left(team)
    return True
