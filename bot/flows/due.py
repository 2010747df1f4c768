"""When something next falls due: the moment the one timer (bot/app.py, `DueTimer`) sleeps
until. Every moment is in the database (a proposal's `due_at`, the reminders' `remind_at`,
an election's window and poll, a nomination's approval) or follows from the config (the
digest's weekly slot); each is read with an indexed query or from the few unfinished
elections and nominations, so that finding the next moment costs the same with ten open
items as with ten thousand."""

from __future__ import annotations

from datetime import datetime

from bot.flows.nominations import lapse_moment
from bot.services import Services


async def next_moment(services: Services, after: datetime) -> datetime | None:
    """The first moment strictly after `after` at which something falls due. What was due
    at or before `after` was handled by the run that asks; what such a run left undone (an
    error, another process holding it) is taken up again by the timer's next run, which is
    never more than a minute away."""
    storage = services.storage
    moments: list[datetime | None] = [
        await storage.proposals.next_due(after),
        await storage.reminders.next_due(after),
        services.digests.next_run(after),
    ]
    for election in await storage.elections.unfinished():
        if election.status == "asking":
            moments.append(election.stand_until)
        elif election.status == "voting":
            moments.append(election.vote_deadline)
    for nomination in await storage.nominations.open_nominations():
        moments.append(await lapse_moment(services, nomination))
    return min((m for m in moments if m is not None and m > after), default=None)
