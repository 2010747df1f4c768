"""/export: a team's decisions as a CSV file and a Markdown file, in the team's chat for its
members; the whole network's in a private chat for a network admin."""

from __future__ import annotations

from telegram import Update

from bot.flows import export as files
from bot.texts import naming
from bot.texts.i18n import t
from handlers.common import (
    Context,
    bound_team,
    current_person,
    lang_of,
    reply,
    services_of,
)
from storage.record import decision_record


async def export(update: Update, context: Context) -> None:
    """Someone asked for the record as files: /export."""
    chat = update.effective_chat
    user = update.effective_user
    assert chat is not None
    services = services_of(context)
    lang = lang_of(update, context)
    now = services.clock.now()
    if chat.type == "private":
        if not services.is_network_admin(user.id if user else None):
            await reply(update, context, "export.private_not_admin")
            return
        record = await decision_record(services.storage.proposals)
        if not record:
            await reply(update, context, "export.none_network")
            return
        network = services.network.name
        teams = {team.id: team.name for team in await services.storage.teams.all()}
        made = files.build(
            record, lang, services.network.timezone, now, scope=network, team_names=teams
        )
        caption = t(
            lang,
            "export.caption_network",
            network=network,
            count=len(record),
            date=services.local_datetime(now, lang, zone=True),  # a private chat
        )
    else:
        team = await bound_team(update, context)
        if team is None:
            return
        person = await current_person(update, context)
        if person is None or not await services.storage.rosters.is_member(team.id, person.id):
            await reply(update, context, "export.not_member", team=naming.team(team, lang))
            return
        record = await decision_record(services.storage.proposals, team.id)
        if not record:
            await reply(update, context, "export.none", team=naming.team(team, lang))
            return
        made = files.build(record, lang, services.network.timezone, now, scope=team.name)
        caption = t(
            lang,
            "export.caption",
            team=naming.team(team, lang),
            count=len(record),
            date=services.local_datetime(now, lang),
        )
    message = update.effective_message
    reply_to = message.message_id if message and chat.type != "private" else None
    await services.outbox.send_document(
        chat.id, made.csv, made.csv_name, caption=caption, reply_to=reply_to
    )
    await services.outbox.send_document(
        chat.id, made.markdown, made.markdown_name, reply_to=reply_to
    )
