"""Nominations in the PT or ST chat (/nominate), and the candidate's answer."""

from __future__ import annotations

from telegram import Update

from bot import nominations
from bot.callbacks import decode_acceptance
from bot.i18n import t
from bot.policy import DecisionKind
from handlers.common import (
    Context,
    bound_team,
    current_person,
    lang_of,
    named_person,
    reply,
    services,
)
from handlers.proposals import _answer, leading_deadline, member_of


async def nominate(update: Update, context: Context) -> None:
    """A PT or ST member nominates someone for the UT or KT: /nominate [DEADLINE] PERSON UT|KT
    [reason]."""
    team = await bound_team(update, context)
    if team is None:
        return
    person_id = await member_of(update, context, team)
    if person_id is None:
        return
    wiq = services(context)
    parsed = await leading_deadline(update, context, team, DecisionKind.NOMINATION)
    if parsed is None:
        return
    deadline, rest = parsed
    named = await named_person(update, context, rest.split())
    username = None
    if named.person is None:
        if named.problem != "error.unknown_username":
            await reply(
                update,
                context,
                named.problem or "error.name_a_person",
                username="",
                usage=t(lang_of(update, context), "nominate.usage"),
            )
            return
        username = named.username  # an unseen @username: bound when they open the link
    words = named.rest[1:] if username else named.rest
    if not words:
        await reply(update, context, "nominate.usage")
        return
    nominator = await wiq.storage.people.by_id(person_id)
    assert nominator is not None
    try:
        await nominations.nominate(
            wiq,
            team,
            nominator,
            named.person,
            username,
            words[0],
            " ".join(words[1:]),
            deadline,
        )
    except nominations.Refused as refused:
        await reply(update, context, refused.key, **refused.params)


async def answer_nomination(update: Update, context: Context) -> None:
    """The candidate pressed Annehmen or Ablehnen in their private chat."""
    query = update.callback_query
    assert query is not None
    lang = lang_of(update, context)
    acceptance = decode_acceptance(query.data)
    person = await current_person(update, context)
    if acceptance is None or person is None:
        await _answer(query, t(lang, "press.invalid"), alert=True)
        return
    key = await nominations.answer(
        services(context), acceptance.nomination_id, person, acceptance.accept
    )
    await _answer(query, t(lang, key), alert=True)


async def nomination_by_deep_link(update: Update, context: Context, payload: str) -> bool:
    if not payload.startswith(nominations.DEEP_LINK):
        return False
    person = await current_person(update, context)
    if person is None:
        return True
    key = await nominations.open_by_deep_link(
        services(context), person, payload[len(nominations.DEEP_LINK) :]
    )
    if key:
        await reply(update, context, key)
    return True
