"""Text that is no command: whom a private message or a reply in a group is for.

One person's free text can belong to a petition (Anliegen) or be the reason for a response
(Bedenken or Einwand); the petition is asked first, because a reply to one of its messages or
the text a /petition waits for is unambiguous, while a reason is whatever else the bot asked for.

A command typed with an umlaut (`/überarbeiten 1 …`) is text too: Telegram's commands are
ASCII, so it marks none. It runs as the command spelt without umlauts (`/ueberarbeiten`, the
German name in the command table); a word that is no command is answered with how commands
are spelt.
"""

from __future__ import annotations

import re

from telegram import Update
from telegram.ext import filters

from handlers import petitions, proposals
from handlers.commands import COMMANDS
from handlers.common import Context, reply, services_of

_SPELT_OUT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
# "/überarbeiten 1 …", "/beschlüsse@WiqBot": a slash, then a word with an umlaut or ß
UMLAUT_COMMAND = (
    (filters.ChatType.PRIVATE | filters.ChatType.GROUPS)
    & filters.TEXT
    & filters.Regex(re.compile(r"^/[^\s/@]*[äöüÄÖÜß][^\s/@]*(?:@\w+)?(?:\s|$)"))
)


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


async def umlaut_command(update: Update, context: Context) -> None:
    """`/überarbeiten 1 …`, `/zurückziehen 1`, `/beschlüsse`, `/rückblick`: run the command of
    that name spelt without umlauts, as if it had been typed so; else say how it is spelt."""
    message = update.effective_message
    if message is None or not message.text:
        return
    if message.sender_chat is not None:  # an anonymous admin: nobody to attribute it to
        await reply(update, context, "error.anonymous_admin")
        return
    typed, *args = message.text.split()
    name, _, addressee = typed[1:].partition("@")
    if addressee and addressee.lower() != services_of(context).bot_username.lower():
        return  # another bot's (it cannot be: no bot's command has an umlaut; but not ours)
    spelt = name.lower().translate(_SPELT_OUT)
    command = next((command for command in COMMANDS if spelt in command.names), None)
    if command is None:
        await reply(update, context, "error.umlaut_command", command=f"/{name}")
        return
    context.args = args
    await command.handler(update, context)
