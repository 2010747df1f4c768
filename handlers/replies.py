"""A reply that names people: as `handlers.common.reply` and `reply_html`, with the people it
names (internal ids) kept with it while it waits in the outbox, so that /forgetme re-renders
it (SPEC §8)."""

from __future__ import annotations

from collections.abc import Iterable

from telegram import Update

from bot.flows.port import Delivery, Priority
from bot.texts.i18n import Html, t
from handlers.common import Context, lang_of, services_of


async def reply_about(
    update: Update, context: Context, about: Iterable[int], key: str, /, **params: object
) -> Delivery:
    """Answer with the text `key`, which names the people `about`."""
    text = t(lang_of(update, context), key, **params)
    return await reply_html_about(update, context, about, text)


async def reply_html_about(
    update: Update, context: Context, about: Iterable[int], text: str
) -> Delivery:
    """Answer with this HTML, which names the people `about` (a reply in a group, a message
    in a private chat)."""
    message = update.effective_message
    chat = update.effective_chat
    assert chat is not None
    reply_to = message.message_id if message and chat.type != "private" else None
    return await services_of(context).outbox.send(
        chat.id, Html(text), priority=Priority.REPLY, reply_to=reply_to, about=sorted(set(about))
    )
