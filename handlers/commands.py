"""The command table: every command the bot understands, once. `register` adds a handler
per row, /help lists the rows that fit the chat and the person, and the command menus
(setMyCommands) are built from it."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from telegram import (
    BotCommandScope,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    Update,
)

from handlers import (
    admissions,
    delegations,
    digests,
    elections,
    export,
    nominations,
    personal_data,
    petitions,
    proposals,
    roster,
    setup,
)
from handlers import help as help_
from handlers.common import Context

Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]


class Chat(Enum):
    """Where /help lists a command."""

    PRIVATE = "private"
    TEAM = "team"  # a group bound to a team
    UNBOUND = "unbound"  # a group bound to no team yet


class Menu(Enum):
    """The command menus Telegram shows while typing "/" (one per scope)."""

    GROUP = "group"
    PRIVATE = "private"

    def scope(self) -> BotCommandScope:
        if self is Menu.GROUP:
            return BotCommandScopeAllGroupChats()
        return BotCommandScopeAllPrivateChats()


class Who(Enum):
    """Whom /help offers a command to. The handler checks the finer rules itself (the
    proposer's own proposal, a team's members, a chat's admins)."""

    ANYONE = "anyone"
    NETWORK_ADMIN = "network_admin"


@dataclass(frozen=True, eq=False)
class Command:
    """One command: what runs it, its handler, and where /help and the menus offer it."""

    name: str  # English: what the menus show and the texts' keys are named after
    aliases: tuple[str, ...]  # German ones, shown to German speakers in /help
    handler: Handler
    help_in: frozenset[Chat]
    menus: frozenset[Menu]
    who: Who = Who.ANYONE
    also_understood: tuple[str, ...] = ()  # understood, never shown
    # In a menu, listed right after that command instead of at its place in the table.
    menu_after: Mapping[Menu, str] = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        """Everything that runs it: /name, the aliases, what is also understood."""
        return (self.name, *self.aliases, *self.also_understood)

    @property
    def help_key(self) -> str:
        """Its description in /help (after the names)."""
        return f"command.{self.name}"

    @property
    def menu_key(self) -> str:
        """Its description in the menus (the same text as in /help)."""
        return f"command.{self.name}"


PRIVATE = frozenset({Chat.PRIVATE})
TEAM = frozenset({Chat.TEAM})
UNBOUND = frozenset({Chat.UNBOUND})
EVERYWHERE = frozenset(Chat)
GROUP_MENU = frozenset({Menu.GROUP})
PRIVATE_MENU = frozenset({Menu.PRIVATE})
BOTH_MENUS = frozenset(Menu)

# In the order /help lists them (and the menus, but for `menu_after`). A row reads:
# Command(name, German aliases, handler, where /help lists it, the menus it is in, …).
COMMANDS: tuple[Command, ...] = (
    # In a team's chat: the team decides
    Command("propose", ("vorschlag",), proposals.propose, TEAM, GROUP_MENU),
    Command("open", ("offen",), proposals.list_open, TEAM, GROUP_MENU),
    Command("decisions", ("beschluesse",), proposals.list_decisions, TEAM, GROUP_MENU),
    Command("digest", ("rueckblick",), digests.show_digest, TEAM, GROUP_MENU),
    Command(
        "export",
        ("exportieren",),
        export.export,
        TEAM,
        BOTH_MENUS,
        # the menus have always listed it later than /help does
        menu_after={Menu.GROUP: "election", Menu.PRIVATE: "forgetme"},
    ),
    Command("revise", ("ueberarbeiten",), proposals.revise, TEAM, GROUP_MENU),
    Command("majority", ("abstimmung",), proposals.request_majority, TEAM, GROUP_MENU),
    Command("withdraw", ("zurueckziehen",), proposals.withdraw, TEAM, GROUP_MENU),
    Command("request_support", ("unterstuetzung",), proposals.request_support, TEAM, GROUP_MENU),
    Command("settings", ("einstellungen",), admissions.show_or_change_settings, TEAM, GROUP_MENU),
    Command("nominate", ("nominieren",), nominations.nominate, TEAM, GROUP_MENU),
    Command("delegate", ("entsenden",), delegations.delegate, TEAM, GROUP_MENU),
    Command("election", ("wahl",), elections.call_election, TEAM, GROUP_MENU),
    # In a private chat: a person's own business
    Command("start", (), help_.start, PRIVATE, PRIVATE_MENU),
    Command("join", ("beitreten",), admissions.join, PRIVATE, BOTH_MENUS),
    Command(
        "petition",
        ("anliegen",),
        petitions.raise_petition,
        PRIVATE,
        PRIVATE_MENU,
        also_understood=("concern",),  # the spec's first name for it
    ),
    Command("mydata", ("meinedaten",), personal_data.send_my_data, PRIVATE, PRIVATE_MENU),
    Command("forgetme", ("vergessen",), personal_data.ask_to_forget, PRIVATE, PRIVATE_MENU),
    # In a team's chat: the team itself
    Command("team", (), setup.show_team, TEAM, GROUP_MENU),
    Command("members", ("mitglieder",), roster.list_members, TEAM, GROUP_MENU),
    Command("leave", ("austreten",), roster.leave_team, TEAM, GROUP_MENU),
    Command("admit", ("aufnehmen",), roster.admit_member, TEAM, GROUP_MENU, who=Who.NETWORK_ADMIN),
    Command(
        "remove", ("entfernen",), roster.remove_member, TEAM, GROUP_MENU, who=Who.NETWORK_ADMIN
    ),
    # In a group that is no team's yet
    Command("setup", ("team_einrichten",), setup.setup_team, UNBOUND, GROUP_MENU),
    Command("help", ("hilfe",), help_.show_help, EVERYWHERE, BOTH_MENUS),
)


def in_help(chat: Chat, *, network_admin: bool) -> list[Command]:
    """The commands /help lists in this kind of chat for this person, in the table's order."""
    return [
        command
        for command in COMMANDS
        if chat in command.help_in and (command.who is Who.ANYONE or network_admin)
    ]


def in_menu(menu: Menu) -> list[Command]:
    """The commands of one menu: the table's order, but for a row's `menu_after`."""
    place = {command.name: index for index, command in enumerate(COMMANDS)}

    def position(command: Command) -> tuple[int, int]:
        after = command.menu_after.get(menu)
        return (place[after], 1) if after else (place[command.name], 0)

    return sorted((command for command in COMMANDS if menu in command.menus), key=position)
