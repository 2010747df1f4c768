"""Text that is no command: whom a private message or a reply in a group is for.

One person's free text can belong to a petition (Anliegen) or be the reason for a response
(Bedenken or Einwand); the petition is asked first, because a reply to one of its messages or
the text a /petition waits for is unambiguous, while a reason is whatever else the bot asked for.
"""

from __future__ import annotations

from telegram import Update

from handlers import petitions, proposals
from handlers.common import Context


async def private_text(update: Update, context: Context) -> None:
    """A private text: a petition's text or follow-up, else the reason the bot asked for."""
    if await petitions.private_text(update, context):
        return
    await proposals.private_reason(update, context)


async def reply_in_group(update: Update, context: Context) -> None:
    """A reply in a group: to a petition's post it goes to the sender; else it may be the
    reason for a Bedenken or Einwand, given as a reply to the card."""
    if await petitions.reply_in_group(update, context):
        return
    await proposals.reply_to_card(update, context)
