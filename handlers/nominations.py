"""Nominations in the PT or ST chat (/nominate), and the candidate's answer."""

from __future__ import annotations

from telegram import Update

from bot.charter.policy import DecisionKind, TeamKind
from bot.charter.refusals import Refusal
from bot.flows import nominations
from handlers.common import (
    Context,
    bound_team,
    named_person,
    refuse,
    reply,
    reply_naming_problem,
    services_of,
)
from handlers.proposals import leading_deadline, member_of


async def nominate(update: Update, context: Context) -> None:
    """A PT or ST member nominates someone for the UT or KT: /nominate [DEADLINE] PERSON UT|KT
    [reason]."""
    team = await bound_team(update, context)
    if team is None:
        return
    if team.kind not in (TeamKind.PT, TeamKind.ST):  # where first, whoever asks (SPEC §10)
        await reply(update, context, "nominate.where")
        return
    person_id = await member_of(update, context, team)
    if person_id is None:
        return
    services = services_of(context)
    parsed = await leading_deadline(update, context, team, DecisionKind.NOMINATION)
    if parsed is None:
        return
    deadline, rest = parsed
    named = await named_person(update, context, rest.split())
    username = None
    if named.person is None:
        if named.problem != "error.unknown_username":
            await reply_naming_problem(update, context, named, "nominate.usage")
            return
        username = named.username  # an unseen @username: bound when they open the link
    words = named.rest[1:] if username else named.rest
    if not words:
        await reply(update, context, "nominate.usage")
        return
    nominator = await services.storage.people.by_id(person_id)
    assert nominator is not None
    try:
        await nominations.nominate(
            services,
            team,
            nominator,
            named.person,
            username,
            words[0],
            " ".join(words[1:]),
            deadline,
        )
    except Refusal as refusal:
        await refuse(update, context, refusal)
