"""Entering existing members during the set-up phase (/admit, SPEC §1), and leaving a team's
roster (SPEC §1, §3.3), however it happens: /leave, a network admin's /remove, leaving or
being removed from the team's chat, /forgetme."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.charter.teams import Leaving
from bot.services import Services
from storage.people import Person
from storage.teams import Team

log = logging.getLogger(__name__)

# How many people one /admit enters at most: its one answer lists them all (one message of
# Telegram's 4096 characters), and a slip of the keyboard does not enter a crowd.
MAX_AT_ONCE = 50


async def enter(
    services: Services,
    team: Team,
    people: Sequence[Person],
    *,
    by: Person | None,
    seat: str | None = None,
    body: str | None = None,
) -> list[bool]:
    """A network admin enters existing members during the set-up phase (the caller checked
    that they may), each on their own: True where the person is on the roster now, False
    where they were already. One write per person: a stop in between leaves those before it
    entered, and the same command once more (or the update handled again) enters the rest."""
    entered: list[bool] = []
    for person in people:
        admitted = await services.storage.rosters.admit(
            team.id,
            person.id,
            "admitted",
            services.clock.now(),
            by=by.id if by is not None else None,
            seat=seat,
            body=body,
        )
        if admitted:
            log.info("event=admitted team=%s person=%s", team.id, person.id)
        entered.append(admitted)
    return entered


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
