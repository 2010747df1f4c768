"""ST seats by delegation: /delegate PERSON politik|verwaltung BODY, /delegate PERSON ut."""

from __future__ import annotations

from telegram import Update

from bot.charter.policy import TeamKind
from bot.charter.refusals import Refusal
from bot.charter.teams import seat_word
from bot.flows import delegations
from bot.flows.payloads import OpenDelegation
from bot.texts import naming
from bot.texts.i18n import t
from handlers.common import (
    Context,
    current_person,
    lang_of,
    named_person,
    refuse,
    reply,
    reply_naming_problem,
    services_of,
)
from handlers.proposals import member_of


async def delegate(update: Update, context: Context) -> None:
    """A delegation into the ST is recorded (outside seats) or put to the PT (UT seat)."""
    services = services_of(context)
    chat = update.effective_chat
    actor = await current_person(update, context)
    if chat is None or actor is None:
        return
    named = await named_person(update, context, context.args or [])
    username = None
    if named.person is None:
        if named.problem != "error.unknown_username":
            await reply_naming_problem(update, context, named, "delegate.usage")
            return
        username = named.username
    words = named.rest[1:] if username else named.rest
    if not words:
        await reply(update, context, "delegate.usage")
        return
    seat = seat_word(words[0])
    try:
        if seat == delegations.UT_SEAT:
            team = await services.storage.teams.by_chat(chat.id)
            if team is None or team.kind != TeamKind.PT or named.person is None:
                await reply(update, context, "delegate.ut_in_pt")
                return
            if await member_of(update, context, team) is None:
                return
            await delegations.propose_ut_seat(services, team, actor, named.person)
            return
        if not await delegations.may_record(services, actor.telegram_id, actor.id):
            await reply(update, context, "delegate.who")
            return
        recorded = await delegations.record(
            services, actor, named.person, username, seat, " ".join(words[1:])
        )
    except Refusal as refusal:
        await refuse(update, context, refusal)
        return
    person = named.person
    about = [person.id] if person is not None else []
    # The answer echoes what was stored: the seat and the delegating body.
    stored = {"seat": t(lang_of(update, context), f"seat.{recorded.seat}"), "body": recorded.body}
    if person is not None and person.started_bot:
        await reply(
            update, context, "delegate.recorded", about=about, name=naming.name(person), **stored
        )
    else:
        name = naming.name(person, username=username)
        link = services.outbox.start_link(OpenDelegation(recorded.token))
        await reply(
            update, context, "delegate.recorded_link", about=about, name=name, link=link, **stored
        )
