"""Right after the guard (handlers.guard): remember every user the bot sees, and keep
chat-mode rosters current."""

from __future__ import annotations

import logging

from telegram import Update

from bot.charter.teams import joins_by_sighting
from handlers.common import Context, deployment_of, remember_user

log = logging.getLogger(__name__)


async def remember_sender(update: Update, context: Context) -> None:
    """Someone wrote or pressed: store who they are, and in chat mode put them on the roster."""
    user = update.effective_user
    if user is None or user.is_bot or update.chat_member or update.my_chat_member:
        return
    deployment = deployment_of(context)
    chat = update.effective_chat
    if chat is not None and chat.type == "private":
        # Writing to the bot lets it write back, in every network that knows the person.
        placed = deployment.placed()
        if placed is not None:
            await remember_user(context, user)
        for services in deployment.networks:
            known = await services.storage.people.by_telegram_id(user.id)
            if known is not None and not known.started_bot:
                await services.storage.people.mark_started(known.id)
        return
    placed_group = deployment.placed()
    if placed_group is None:
        return  # a group of no network (not bound yet): nobody to remember it for
    services = placed_group
    person = await remember_user(context, user)
    if chat is None:
        return
    message = update.effective_message
    if message is not None and message.reply_to_message and message.reply_to_message.from_user:
        replied = message.reply_to_message.from_user
        if not replied.is_bot:
            await remember_user(context, replied)
    if update.callback_query is not None:
        return  # a press joins a chat-mode roster where it is counted (bot.flows.responses)
    team = await services.storage.teams.by_chat(chat.id)
    if team is None or team.roster_mode != "chat":
        return
    if await services.storage.rosters.is_member(team.id, person.id):
        return
    departure = await services.storage.rosters.last_departure(team.id, person.id)
    if joins_by_sighting(team.roster_mode, last_left_how=departure.left_how if departure else None):
        await services.storage.rosters.admit(team.id, person.id, "chat", services.clock.now())
