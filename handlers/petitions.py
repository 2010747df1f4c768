"""Anliegen: /petition in a private chat, the sender's choice (named or anonymous), PT members'
replies to the post, and the sender's answers to those."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import BadRequest, TelegramError

from bot.charter.refusals import Refusal
from bot.flows import petitions
from bot.flows.payloads import PetitionPress, RaisePetition
from bot.telegram_side import callbacks
from bot.texts.i18n import t
from handlers.common import (
    Context,
    answer_query,
    current_person,
    deployment_of,
    in_private_chat,
    lang_of,
    refuse,
    reply,
    services_of,
)
from handlers.proposals import command_rest

log = logging.getLogger(__name__)


async def raise_petition(update: Update, context: Context) -> None:
    """Someone wants to raise a petition with the PT: /petition [TEXT]."""
    services = services_of(context)
    chat = update.effective_chat
    message = update.effective_message
    assert chat is not None and message is not None
    if chat.type != "private":
        # A petition is confidential: never repeat it here, and take it out of the chat.
        key = "petition.private_only"
        if command_rest(update) and await _delete(context, chat.id, message.message_id):
            key = "petition.private_only_deleted"
        # The link opens the private chat at the petition's first question (in a bot of
        # several networks: of this group's network).
        network = None if deployment_of(context).single else services.storage.network_id
        link = services.outbox.start_link(RaisePetition(network))
        await services.outbox.send(chat.id, t(lang_of(update, context), key, link=link))
        return
    await ask_privately(update, context, command_rest(update))


async def ask_privately(update: Update, context: Context, text: str = "") -> None:
    """In the private chat: the first question of a petition (its text, or with `text` named
    or anonymous) — after /petition, or the link a group was given (/start petition)."""
    person = await current_person(update, context)
    if person is None:
        return
    try:
        await petitions.start(services_of(context), person, text)
    except Refusal as refusal:
        await refuse(update, context, refusal)


async def _delete(context: Context, chat_id: int, message_id: int) -> bool:
    """Whether the message is out of the chat now. Not found is gone too: deleted by someone
    else, or by Telegram before the connection dropped (the call is tried again)."""
    try:
        return await context.bot.delete_message(chat_id, message_id)
    except BadRequest as exc:
        return "message to delete not found" in exc.message.lower()
    except TelegramError:
        return False


async def choose(update: Update, context: Context) -> None:
    """The sender pressed Mit meinem Namen, Anonym or Abbrechen."""
    query = update.callback_query
    assert query is not None
    services = services_of(context)
    lang = lang_of(update, context)
    if not in_private_chat(query):
        await answer_query(query, t(lang, "press.invalid"), alert=True)
        return
    press = callbacks.decode(query.data)
    person = await current_person(update, context)
    if not isinstance(press, PetitionPress) or person is None:
        await answer_query(query, t(lang, "petition.stale"), alert=True)
        return
    answer = await petitions.choose(services, person, press)
    # Only what did not work needs the alert's attention; the rest is a short notice.
    alert = answer.question_text is None
    await answer_query(query, t(lang, answer.alert, id=answer.number or ""), alert=alert)
    message = query.message
    if answer.question_text is None or message is None or answer.petition_id is None:
        return
    # The question becomes the confirmation: its buttons are gone, and a reply to it
    # reaches the PT like a reply to an answer.
    await services.outbox.edit(
        message.chat.id, message.message_id, t(lang, answer.question_text, id=answer.number)
    )
    if answer.question_text != "petition.cancelled":
        await petitions.remember_confirmation(services, answer.petition_id, message.message_id)


async def private_text(update: Update, context: Context) -> bool:
    """A private message that belongs to a petition: an answer to the PT (a reply to one of
    its messages) or the text a /petition waits for. False if it is not about a petition."""
    services = services_of(context)
    message = update.effective_message
    person = await current_person(update, context)
    if message is None or person is None:
        return True  # nobody to answer: nothing else will take it either
    text = message.text or ""
    if message.reply_to_message is not None:
        key = await petitions.follow_up(services, person, message.reply_to_message.message_id, text)
        if key is not None:
            await reply(update, context, key, limit=petitions.MAX_TEXT)
            return True
    try:
        return await petitions.take_text(services, person, text)
    except Refusal as refusal:
        await refuse(update, context, refusal)
        return True


async def reply_in_group(update: Update, context: Context) -> bool:
    """A reply in a group to a petition's post: it goes to the sender privately. False if
    the reply is to something else."""
    services = services_of(context)
    message = update.effective_message
    if message is None or message.reply_to_message is None or not message.text:
        return True
    petition = await services.storage.petitions.by_team_message(
        message.chat_id, message.reply_to_message.message_id
    )
    if petition is None:
        return False
    person = await current_person(update, context)
    if person is None:
        return True
    outcome = await petitions.reply_from_team(
        services,
        message.chat_id,
        message.reply_to_message.message_id,
        person,
        message.text,
        message.message_id,
    )
    if outcome is None:
        return True
    await services.outbox.send(
        message.chat_id,
        t(lang_of(update, context), outcome.key, id=outcome.number, **outcome.params),
        reply_to=message.message_id,
        silent=True,
    )
    return True
