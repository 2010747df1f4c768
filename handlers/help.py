"""/start, /help and everything nobody asked for: unknown commands and stray chats."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram import Update

from bot.flows import admissions
from bot.texts.i18n import Html, t
from handlers import personal
from handlers.common import Context, current_person, lang_of, reply, reply_html, services_of

if TYPE_CHECKING:
    from handlers.commands import Command


async def start(update: Update, context: Context) -> None:
    """Someone opened the bot (possibly through a deep link)."""
    payload = (context.args or [""])[0]
    if payload and await personal.by_deep_link(update, context, payload):
        return
    await show_help(update, context)
    person = await current_person(update, context)
    if person is not None and update.effective_chat and update.effective_chat.type == "private":
        await admissions.deliver_invitations(services_of(context), person)


async def show_help(update: Update, context: Context) -> None:
    """What the bot is and the commands that fit this chat and this person: /help."""
    # The command table names this handler, so it is read when /help runs.
    from handlers.commands import Chat, in_help

    services = services_of(context)
    chat = update.effective_chat
    user = update.effective_user
    assert chat is not None
    lang = lang_of(update, context)
    is_admin = services.is_network_admin(user.id if user else None)
    lines: list[str] = [t(lang, "help.intro", network=services.config.network.name)]
    if chat.type == "private":
        lines.append(t(lang, "help.private"))
        where = Chat.PRIVATE
    else:
        team = await services.storage.teams.by_chat(chat.id)
        if team is None:
            lines.append(t(lang, "help.unbound"))
            where = Chat.UNBOUND
        else:
            lines.append(t(lang, "help.team", name=team.name, kind=t(lang, f"kind.{team.kind}")))
            where = Chat.TEAM
    lines.append("")
    lines.extend(command_line(lang, command) for command in in_help(where, network_admin=is_admin))
    if is_admin and chat.type == "private":
        lines.append("")
        lines.append(t(lang, "help.admin_private"))
    await reply_html(update, context, "\n".join(lines))


def command_line(lang: str, command: Command) -> Html:
    # The German aliases are shown to German speakers; every alias works in any language.
    aliases = "".join(f" · /{alias}" for alias in command.aliases) if lang == "de" else ""
    return t(
        lang,
        "help.command",
        command=f"/{command.name}{aliases}",
        description=t(lang, command.help_key),
    )


async def unknown_command(update: Update, context: Context) -> None:
    """A command the bot does not know. In groups only when addressed to this bot by name,
    since other bots in the chat may own it."""
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None or not message.text:
        return
    command = message.text.split()[0]
    if chat.type != "private":
        target = command.partition("@")[2]
        if target.lower() != services_of(context).bot_username.lower():
            return
    await reply(update, context, "error.unknown_command", command=command.partition("@")[0])


async def not_text(update: Update, context: Context) -> None:
    """A photo, voice message, sticker … in a private chat: the bot reads text only (a
    petition's text, a reason, an answer); saying so beats silence."""
    await reply(update, context, "help.text_only")
