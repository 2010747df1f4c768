"""Joining teams: /join (declaration of intent to the PT), /settings (an LT decides its own
roster mode and process), join requests made with the bot's invite links."""

from __future__ import annotations

from telegram import Update

from bot.charter.policy import TeamKind
from bot.charter.refusals import Refusal
from bot.flows import admissions
from bot.texts.i18n import t
from handlers.common import (
    Context,
    bound_team,
    current_person,
    lang_of,
    refuse,
    reply,
    services_of,
)
from handlers.proposals import MAX_PROPOSAL, command_rest, member_of


async def join(update: Update, context: Context) -> None:
    """Someone declares their intent to join the PT: /join TEXT (privately or in the PT)."""
    services = services_of(context)
    chat = update.effective_chat
    assert chat is not None
    if chat.type != "private":
        team = await services.storage.teams.by_chat(chat.id)
        if team is None or team.kind != TeamKind.PT:
            await reply(update, context, "join.where")
            return
    person = await current_person(update, context)
    if person is None:
        return
    text = command_rest(update)
    if not text:
        await reply(update, context, "join.usage")
        return
    if len(text) > MAX_PROPOSAL:
        await reply(update, context, "error.too_long", limit=MAX_PROPOSAL)
        return
    try:
        proposal_id = await admissions.declare_intent(services, person, text)
    except Refusal as refusal:
        await refuse(update, context, refusal)
        return
    await reply(update, context, "join.sent", id=proposal_id)


async def show_or_change_settings(update: Update, context: Context) -> None:
    """An LT looks at or proposes a change of its own settings: /settings [mode|process X]."""
    team = await bound_team(update, context)
    if team is None:
        return
    services = services_of(context)
    lang = lang_of(update, context)
    args = context.args or []
    if team.kind != TeamKind.LT:  # where first, whoever asks (SPEC §10)
        await reply(update, context, "settings.lt_only")
        return
    if not args:
        await reply(
            update,
            context,
            "settings.show",
            mode=t(lang, f"roster_mode.{team.roster_mode}"),
            process=t(lang, f"process.{services.policy(team).process.value}"),
        )
        return
    person_id = await member_of(update, context, team)
    if person_id is None:
        return
    person = await services.storage.people.by_id(person_id)
    assert person is not None
    if len(args) != 2:
        await reply(update, context, "settings.usage")
        return
    try:
        proposal_id = await admissions.propose_setting(services, team, person, args[0], args[1])
    except Refusal as refusal:
        await refuse(update, context, refusal)
        return
    _ = proposal_id  # the card is the answer


async def join_request(update: Update, context: Context) -> None:
    """Someone asks to join a team's chat through an invite link."""
    request = update.chat_join_request
    assert request is not None
    link = request.invite_link.invite_link if request.invite_link else None
    await admissions.join_request(services_of(context), request.chat.id, request.from_user.id, link)
