"""Elections: /election [DEADLINE] SEATS PERSON PERSON … and the candidates' answers."""

from __future__ import annotations

from telegram import MessageEntity, Update

from bot.charter.policy import DecisionKind
from bot.charter.refusals import Refusal
from bot.flows import delegations, elections
from handlers.common import (
    Context,
    bound_team,
    current_person,
    refuse,
    remember_user,
    reply,
    services_of,
)
from handlers.proposals import leading_deadline
from storage.people import Person


async def call_election(update: Update, context: Context) -> None:
    """A network admin or KT member calls an election in this chat."""
    team = await bound_team(update, context)
    if team is None:
        return
    services = services_of(context)
    caller = await current_person(update, context)
    if caller is None:
        return
    if not await delegations.may_record(services, caller.telegram_id, caller.id):
        await reply(update, context, "election.who")
        return
    parsed = await leading_deadline(update, context, team, DecisionKind.ELECTION)
    if parsed is None:
        return
    deadline, rest = parsed
    words = rest.split()
    if not words or not words[0].isdigit():
        await reply(update, context, "election.usage")
        return
    candidates = await _candidates(update, context, words[1:])
    if candidates is None:
        await reply(update, context, "election.usage")
        return
    try:
        await elections.call(services, team, caller, int(words[0]), candidates, deadline)
    except Refusal as refusal:
        await refuse(update, context, refusal)


async def _candidates(
    update: Update, context: Context, words: list[str]
) -> list[tuple[Person | None, str | None]] | None:
    """Each candidate by @username (seen or not) or by a text mention, in order."""
    message = update.effective_message
    mentions = [
        entity.user
        for entity in (message.entities if message else ())
        if entity.type == MessageEntity.TEXT_MENTION and entity.user is not None
    ]
    services = services_of(context)
    found: list[tuple[Person | None, str | None]] = []
    for user in mentions:
        found.append((await remember_user(context, user), None))
    for word in words:
        if not word.startswith("@"):
            continue
        username = word[1:]
        person = await services.storage.people.by_username(username)
        found.append((person, None) if person else (None, username))
    if not mentions and any(not word.startswith("@") for word in words):
        return None
    return found or None
