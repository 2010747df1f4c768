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

from bot.charter.policy import TeamKind
from handlers import (
    admissions,
    delegations,
    digests,
    elections,
    export,
    networks,
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
    proposer's own proposal, a chat's admins, a core team's members)."""

    ANYONE = "anyone"
    MEMBER = "member"  # on the roster of the chat's team (or a network admin who is)
    NETWORK_ADMIN = "network_admin"


PT, ST, KT, LT, NET = TeamKind.PT, TeamKind.ST, TeamKind.KT, TeamKind.LT, TeamKind.NET
EVERY_KIND: frozenset[str] = frozenset(TeamKind)


@dataclass(frozen=True, eq=False)
class Command:
    """One command: what runs it, its handler, and where /help and the menus offer it."""

    name: str  # English: what English texts and menus say, and the texts' keys are named after
    aliases: tuple[str, ...]  # German ones; the first is what German texts and menus say
    handler: Handler
    help_in: frozenset[Chat]
    menus: frozenset[Menu]
    who: Who = Who.ANYONE
    also_understood: tuple[str, ...] = ()  # understood, never shown
    # In a team's chat, /help lists it only in the chats of these kinds of team.
    kinds: frozenset[str] = EVERY_KIND
    # In the short /help (the first one asks for); /help all lists the rest too.
    short: bool = False
    # In a menu, listed right after that command instead of at its place in the table.
    menu_after: Mapping[Menu, str] = field(default_factory=dict)
    # Listed (in /help and the menus) only by a bot that serves several networks.
    several_networks: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        """Everything that runs it: /name, the aliases, what is also understood."""
        return (self.name, *self.aliases, *self.also_understood)

    def shown(self, lang: str) -> str:
        """The name the texts, /help and the menus use in this language (without the /)."""
        return self.aliases[0] if lang == "de" and self.aliases else self.name

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
MEMBER = Who.MEMBER
ADMIN = Who.NETWORK_ADMIN

# In the order /help lists them (and the menus, but for `menu_after`). A row reads:
# Command(name, German aliases, handler, where /help lists it, the menus it is in, …).
COMMANDS: tuple[Command, ...] = (
    # In a team's chat: the team decides
    Command("propose", ("vorschlag",), proposals.propose, TEAM, GROUP_MENU, MEMBER, short=True),
    Command("open", ("offen",), proposals.list_open, TEAM, GROUP_MENU, short=True),
    Command("decisions", ("beschluesse",), proposals.list_decisions, TEAM, GROUP_MENU, short=True),
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
    Command("revise", ("ueberarbeiten",), proposals.revise, TEAM, GROUP_MENU, MEMBER),
    Command("majority", ("abstimmung",), proposals.request_majority, TEAM, GROUP_MENU, MEMBER),
    Command("withdraw", ("zurueckziehen",), proposals.withdraw, TEAM, GROUP_MENU, MEMBER),
    Command(
        "request_support",
        ("unterstuetzung",),
        proposals.request_support,
        TEAM,
        GROUP_MENU,
        MEMBER,
        kinds=frozenset({LT}),
        short=True,
    ),
    Command(
        "settings",
        ("einstellungen",),
        admissions.show_or_change_settings,
        TEAM,
        GROUP_MENU,
        MEMBER,
        kinds=frozenset({LT}),
        short=True,
    ),
    Command(
        "nominate",
        ("nominieren",),
        nominations.nominate,
        TEAM,
        GROUP_MENU,
        MEMBER,
        kinds=frozenset({PT, ST}),
        short=True,
    ),
    Command(
        "delegate",
        ("entsenden",),
        delegations.delegate,
        TEAM,
        GROUP_MENU,
        kinds=frozenset({PT, ST, KT}),
    ),
    Command(
        "election",
        ("wahl",),
        elections.call_election,
        TEAM,
        GROUP_MENU,
        kinds=frozenset({ST, KT, NET}),
    ),
    # In a private chat: a person's own business
    Command("start", (), help_.start, PRIVATE, PRIVATE_MENU),
    Command("join", ("beitreten",), admissions.join, PRIVATE, BOTH_MENUS, short=True),
    Command(
        "petition",
        ("anliegen",),
        petitions.raise_petition,
        PRIVATE,
        PRIVATE_MENU,
        also_understood=("concern",),  # the spec's first name for it
        short=True,
    ),
    Command(
        "mydata", ("meinedaten",), personal_data.send_my_data, PRIVATE, PRIVATE_MENU, short=True
    ),
    Command("forgetme", ("vergessen",), personal_data.ask_to_forget, PRIVATE, PRIVATE_MENU),
    Command(
        "network",
        ("netzwerk",),
        networks.show_or_change,
        EVERYWHERE,
        PRIVATE_MENU,
        short=True,
        several_networks=True,
    ),
    # In a team's chat: the team itself
    Command("team", (), setup.show_team, TEAM, GROUP_MENU, short=True),
    Command("members", ("mitglieder",), roster.list_members, TEAM, GROUP_MENU, short=True),
    Command("leave", ("austreten",), roster.leave_team, TEAM, GROUP_MENU, MEMBER),
    Command(
        "admit",
        ("aufnehmen",),
        roster.admit_member,
        TEAM,
        GROUP_MENU,
        ADMIN,
        kinds=EVERY_KIND - {NET},  # the network chat's roster is whoever is in it
        short=True,
    ),
    Command("remove", ("entfernen",), roster.remove_member, TEAM, GROUP_MENU, ADMIN),
    # A bot of several networks: the code with which a group joins the admin's network as
    # an LT (SPEC §1). The same word in German texts (an admin's word, like /setup).
    Command(
        "ltcode",
        (),
        setup.lt_code,
        PRIVATE | TEAM,
        PRIVATE_MENU,
        ADMIN,
        also_understood=("lt_code",),
        short=True,
        several_networks=True,
    ),
    # In a group that is no team's yet. "/setup" in German texts too (an admin's word).
    Command(
        "setup",
        (),
        setup.setup_team,
        UNBOUND,
        GROUP_MENU,
        also_understood=("team_einrichten",),
        short=True,
    ),
    Command("help", ("hilfe",), help_.show_help, EVERYWHERE, BOTH_MENUS),
)


@dataclass(frozen=True, slots=True)
class Asker:
    """Who asks /help, and where: what decides which rows it lists."""

    chat: Chat
    kind: str | None = None  # the team's kind, in a team's chat
    member: bool = False  # on that team's roster
    network_admin: bool = False
    several_networks: bool = False  # the bot serves several networks


def in_help(asker: Asker, *, everything: bool = False) -> list[Command]:
    """The commands /help lists for this person in this chat, in the table's order: the
    short list, or with `everything` (/help all) every command that fits."""

    def fits(command: Command) -> bool:
        if asker.chat not in command.help_in:
            return False
        if asker.chat is Chat.TEAM and asker.kind not in command.kinds:
            return False
        if command.who is Who.MEMBER and not asker.member:
            return False
        if command.who is Who.NETWORK_ADMIN and not asker.network_admin:
            return False
        if command.several_networks and not asker.several_networks:
            return False
        return everything or command.short

    return [command for command in COMMANDS if fits(command)]


def in_menu(menu: Menu, *, several_networks: bool = False) -> list[Command]:
    """The commands of one menu: the table's order, but for a row's `menu_after`; those of
    a bot of several networks only with `several_networks`."""
    place = {command.name: index for index, command in enumerate(COMMANDS)}

    def position(command: Command) -> tuple[int, int]:
        after = command.menu_after.get(menu)
        return (place[after], 1) if after else (place[command.name], 0)

    return sorted(
        (
            command
            for command in COMMANDS
            if menu in command.menus and (several_networks or not command.several_networks)
        ),
        key=position,
    )
