"""/start, /help and everything nobody asked for: unknown commands and stray chats."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram import Update

from bot.flows import admissions
from bot.texts.i18n import Html, t
from handlers import personal, setup
from handlers.common import Context, current_person, deployment_of, lang_of, reply, reply_html

if TYPE_CHECKING:
    from handlers.commands import Command


# "/help all", "/hilfe alle": every command that fits, not only the short list.
EVERYTHING = frozenset({"all", "alle", "mehr", "more"})


async def start(update: Update, context: Context) -> None:
    """Someone opened the bot (possibly through a deep link)."""
    payload = (context.args or [""])[0]
    if payload and await personal.by_deep_link(update, context, payload):
        return
    await help_text(update, context, everything=False)
    chat = update.effective_chat
    user = update.effective_user
    if chat is None or chat.type != "private" or user is None:
        return
    # Invitations wait for the person's first private message, in every network they have.
    deployment = deployment_of(context)
    placed = deployment.placed()
    for services in deployment.networks:
        with deployment.serving(services.storage.network_id):
            if services is placed:
                person = await current_person(update, context)
            else:
                person = await services.storage.people.by_telegram_id(user.id)
            if person is not None:
                await admissions.deliver_invitations(services, person)


async def show_help(update: Update, context: Context) -> None:
    """/help: the commands that fit this chat and this person; /help all: all of them."""
    words = {word.lower() for word in context.args or []}
    await help_text(update, context, everything=bool(words & EVERYTHING))


async def help_text(update: Update, context: Context, *, everything: bool) -> None:
    """What the bot is, and the commands for this chat (its kind of team) and this person
    (on the team's roster, a network admin), by the names this language uses: a short list
    and the way to the rest, or with `everything` all of them."""
    # The command table names this handler, so it is read when /help runs.
    from handlers.commands import Asker, Chat, in_help

    deployment = deployment_of(context)
    services = deployment.placed()  # None: a bot of several networks, none named here
    chat = update.effective_chat
    user = update.effective_user
    assert chat is not None
    lang = lang_of(update, context)
    user_id = user.id if user else None
    several = not deployment.single
    if services is not None:
        is_admin = services.is_network_admin(user_id)
        network = services.network.name
    else:
        is_admin = bool(deployment.of_admin(user_id))
        network = " · ".join(s.network.name for s in deployment.networks)
    lines: list[str] = [t(lang, "help.intro", network=network)]
    if chat.type == "private":
        lines.append(t(lang, "help.private"))
        asker = Asker(Chat.PRIVATE, network_admin=is_admin, several_networks=several)
    else:
        team = await services.storage.teams.by_chat(chat.id) if services else None
        if team is None:
            lines.append(t(lang, "help.unbound"))
            if several:  # how /setup names the network, and an LT's code
                lines.append(setup.setup_usage_networks(deployment, lang))
            asker = Asker(Chat.UNBOUND, network_admin=is_admin, several_networks=several)
        else:
            assert services is not None
            lines.append(t(lang, "help.team", name=team.name, kind=t(lang, f"kind.{team.kind}")))
            person = await current_person(update, context)
            member = person is not None and await services.storage.rosters.is_member(
                team.id, person.id
            )
            asker = Asker(
                Chat.TEAM,
                team.kind,
                member=member,
                network_admin=is_admin,
                several_networks=several,
            )
    lines.append("")
    commands = in_help(asker, everything=everything)
    lines.extend(command_line(lang, command, everything=everything) for command in commands)
    # The way to the rest, where there is more than /help itself.
    rest = [c for c in in_help(asker, everything=True) if c not in commands and c.name != "help"]
    if not everything and rest:
        lines.append(t(lang, "help.more"))
    if is_admin and chat.type == "private":
        lines.append("")
        lines.append(t(lang, "help.admin_private"))
    await reply_html(update, context, "\n".join(lines))


def command_line(lang: str, command: Command, *, everything: bool = False) -> Html:
    """One command by the name this language uses; in the whole German list its English
    name after it (every name works in any language; English speakers see English only)."""
    shown = command.shown(lang)
    others = [name for name in (command.name, *command.aliases) if name != shown]
    names = " · ".join(
        f"/{name}" for name in (shown, *(others if everything and lang == "de" else ()))
    )
    return t(lang, "help.command", command=names, description=t(lang, command.help_key))


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
        if target.lower() != deployment_of(context).first().bot_username.lower():
            return
    await reply(update, context, "error.unknown_command", command=command.partition("@")[0])


async def not_text(update: Update, context: Context) -> None:
    """A photo, voice message, sticker … in a private chat: the bot reads text only (a
    petition's text, a reason, an answer); saying so beats silence."""
    await reply(update, context, "help.text_only")
