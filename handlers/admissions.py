"""Joining teams: /join (declaration of intent to the PT), /settings (an LT decides its own
roster mode and process), join requests made with the bot's invite links."""

from __future__ import annotations

from telegram import Update

from bot.charter.policy import TeamKind
from bot.charter.refusals import Refusal
from bot.flows import admissions
from bot.flows.payloads import SettingPress
from bot.telegram_side import callbacks
from bot.texts import naming
from bot.texts.i18n import Html, t
from handlers.common import (
    Context,
    answer_query,
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
        proposal = await admissions.declare_intent(services, person, text)
    except Refusal as refusal:
        await refuse(update, context, refusal)
        return
    await reply(update, context, "join.sent", id=proposal.number)


async def show_or_change_settings(update: Update, context: Context) -> None:
    """An LT looks at its own settings, with a button for each change it can propose:
    /settings. The code's words still work typed (`/settings mode explicit`)."""
    team = await bound_team(update, context)
    if team is None:
        return
    services = services_of(context)
    lang = lang_of(update, context)
    if team.kind != TeamKind.LT:
        await reply(update, context, "settings.lt_only")
        return
    args = context.args or []
    if len(args) == 2 and admissions.is_setting(args[0], args[1]):
        person_id = await member_of(update, context, team)
        if person_id is None:
            return
        person = await services.storage.people.by_id(person_id)
        assert person is not None
        try:
            await admissions.propose_setting(services, team, person, args[0], args[1])
        except Refusal as refusal:
            await refuse(update, context, refusal)
        return  # the card is the answer
    text, keyboard = admissions.settings_menu(services, team, lang)
    if args:  # words that are no setting: the buttons instead
        text = Html(t(lang, "settings.unknown") + "\n\n" + text)
    message = update.effective_message
    await services.outbox.send(
        team.chat_id, text, keyboard=keyboard, reply_to=message.message_id if message else None
    )


async def propose_setting_pressed(update: Update, context: Context) -> None:
    """A member pressed one of /settings' buttons: the change is proposed, the card posted."""
    query = update.callback_query
    assert query is not None
    services = services_of(context)
    lang = lang_of(update, context)
    press = callbacks.decode(query.data)
    message = query.message
    team = await services.storage.teams.by_chat(message.chat.id) if message else None
    person = await current_person(update, context)
    if not isinstance(press, SettingPress) or team is None or team.id != press.team_id:
        await answer_query(query, t(lang, "press.invalid"), alert=True)
        return
    if person is None:
        return
    member = await services.storage.rosters.is_member(team.id, person.id)
    if not member and not await services.decisions.joins_open_electorate(
        team,
        query.from_user.id,
        person.id,  # roster mode `chat`: a confirmed chat member
    ):
        team_named = naming.team(team, lang)
        await answer_query(query, t(lang, "proposal.not_member", team=team_named), alert=True)
        return
    try:
        proposal = await admissions.propose_setting(
            services, team, person, press.field.value, press.value
        )
    except Refusal as refusal:
        await refuse(update, context, refusal)
        return
    await answer_query(query, t(lang, "settings.proposed", id=proposal.number))


async def join_request(update: Update, context: Context) -> None:
    """Someone asks to join a team's chat through an invite link."""
    request = update.chat_join_request
    assert request is not None
    link = request.invite_link.invite_link if request.invite_link else None
    await admissions.join_request(services_of(context), request.chat.id, request.from_user.id, link)
