"""/start, /help and everything nobody asked for: unknown commands and stray chats."""

from __future__ import annotations

from telegram import Update

from bot.flows import admissions
from bot.texts.i18n import Html, t
from handlers import personal, proposals
from handlers.common import Context, current_person, lang_of, reply, reply_html, services_of

# (command, alias) as the person sees them; which ones fit depends on chat and person.
PRIVATE_COMMANDS = [
    ("start", None),
    ("join", "beitreten"),
    ("petition", "anliegen"),
    ("mydata", "meinedaten"),
    ("forgetme", "vergessen"),
    ("help", "hilfe"),
]
TEAM_COMMANDS = [
    ("propose", "vorschlag"),
    ("open", "offen"),
    ("decisions", "beschluesse"),
    ("digest", "rueckblick"),
    ("export", "exportieren"),
    ("revise", "ueberarbeiten"),
    ("majority", "abstimmung"),
    ("withdraw", "zurueckziehen"),
    ("request_support", "unterstuetzung"),
    ("settings", "einstellungen"),
    ("nominate", "nominieren"),
    ("delegate", "entsenden"),
    ("election", "wahl"),
    ("team", None),
    ("members", "mitglieder"),
    ("leave", "austreten"),
]
ADMIN_TEAM_COMMANDS = [("admit", "aufnehmen"), ("remove", "entfernen")]
SETUP_COMMANDS = [("setup", "team_einrichten")]
HELP = ("help", "hilfe")


async def start(update: Update, context: Context) -> None:
    """Someone opened the bot (possibly through a deep link)."""
    payload = (context.args or [""])[0]
    if payload and await proposals.reason_by_deep_link(update, context, payload):
        return
    if payload and await personal.by_deep_link(update, context, payload):
        return
    await show_help(update, context)
    person = await current_person(update, context)
    if person is not None and update.effective_chat and update.effective_chat.type == "private":
        await admissions.deliver_invitations(services_of(context), person)


async def show_help(update: Update, context: Context) -> None:
    """What the bot is and the commands that fit this chat and this person: /help."""
    services = services_of(context)
    chat = update.effective_chat
    user = update.effective_user
    assert chat is not None
    lang = lang_of(update, context)
    is_admin = services.is_network_admin(user.id if user else None)
    lines = [t(lang, "help.intro", network=services.config.network.name)]
    if chat.type == "private":
        lines.append(t(lang, "help.private"))
        commands = list(PRIVATE_COMMANDS)
    else:
        team = await services.storage.teams.by_chat(chat.id)
        if team is None:
            lines.append(t(lang, "help.unbound"))
            commands = [*SETUP_COMMANDS, HELP]
        else:
            lines.append(t(lang, "help.team", name=team.name, kind=t(lang, f"kind.{team.kind}")))
            admin_commands = ADMIN_TEAM_COMMANDS if is_admin else []
            commands = [*TEAM_COMMANDS, *admin_commands, HELP]
    lines.append("")
    lines.extend(command_line(lang, name, alias) for name, alias in commands)
    if is_admin and chat.type == "private":
        lines.append("")
        lines.append(t(lang, "help.admin_private"))
    await reply_html(update, context, "\n".join(lines))


def command_line(lang: str, name: str, alias: str | None) -> Html:
    # The German aliases are shown to German speakers; every alias works in any language.
    label = f"/{name}" + (f" · /{alias}" if alias and lang == "de" else "")
    return t(lang, "help.command", command=label, description=t(lang, f"command.{name}"))


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
    concern's text, a reason, an answer); saying so beats silence."""
    await reply(update, context, "help.text_only")
