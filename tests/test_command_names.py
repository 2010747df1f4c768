"""The menus and the messages name the same commands (issue 12.6): the German catalogue says
/vorschlag and /anliegen, and so do the German menus; the English catalogue and menus say
/propose and /petition. A group's menu speaks the group's language (the network's), whatever
the person's own; a private chat's menu speaks the person's."""

from __future__ import annotations

import re

import pytest

from bot.texts.i18n import catalogue
from handlers.commands import COMMANDS, Command, Menu, in_menu
from tests.harness import Teams

COMMAND = re.compile(r"(?<![\w<])/([a-z_]+)")
BY_NAME: dict[str, Command] = {name: command for command in COMMANDS for name in command.names}
# Texts that name a command by another language's name, and why.
OTHER_NAMES = {
    # how the German names are spelt when typed with umlauts: they are German either way
    ("en", "error.umlaut_command"): {"ueberarbeiten", "beschluesse"},
}
SCOPES = {"all_group_chats": Menu.GROUP, "all_private_chats": Menu.PRIVATE}


def named_in_messages(lang: str) -> dict[str, set[str]]:
    """Every /command a text of this language names: the name → the keys that name it."""
    named: dict[str, set[str]] = {}
    for key, text in catalogue(lang).items():
        for name in COMMAND.findall(text):
            if name not in OTHER_NAMES.get((lang, key), set()):
                named.setdefault(name, set()).add(key)
    return named


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_messages_name_each_command_by_its_name_in_their_language(lang: str) -> None:
    named = named_in_messages(lang)
    assert len(named) >= 15  # the scan finds the commands the texts name
    unknown = {name: keys for name, keys in named.items() if name not in BY_NAME}
    assert unknown == {}
    other = {
        name: sorted(keys) for name, keys in named.items() if BY_NAME[name].shown(lang) != name
    }
    assert other == {}


def test_german_and_english_names_differ_where_the_table_has_a_german_one() -> None:
    shown = {command.name: command.shown("de") for command in COMMANDS}
    assert shown["propose"] == "vorschlag" and shown["petition"] == "anliegen"
    assert shown["help"] == "hilfe" and shown["setup"] == "setup"
    assert all(command.shown("en") == command.name for command in COMMANDS)


@pytest.mark.parametrize("network", ["de", "en"])
async def test_the_menus_name_the_commands_the_messages_use(team: Teams, network: str) -> None:
    h = await team.bot(language=network)
    menus: dict[str, set[str]] = {"de": set(), "en": set()}
    calls = h.model.calls_of("setMyCommands")
    assert len(calls) == len(Menu) * 3  # each menu: the default and each language
    for call in calls:
        menu = SCOPES[call.params["scope"]["type"]]
        asked = call.params.get("language_code") or network
        # a group speaks the network's language to everyone; a private chat the person's
        lang = network if menu is Menu.GROUP else asked
        names = [command["command"] for command in call.params["commands"]]
        assert names == [command.shown(lang) for command in in_menu(menu)], (menu, asked)
        menus[lang] |= set(names)
    # Every command the network's messages name is in a menu of its language, by that name
    # (in the other language only private chats speak, so only their menu is in it) — but
    # those only a bot of several networks has (and says), which a bot of one lists nowhere.
    several = {c.shown(network) for c in COMMANDS if c.several_networks}
    assert several and not several & menus[network]
    assert set(named_in_messages(network)) - several <= menus[network]
    assert {"vorschlag" if network == "de" else "propose", "hilfe", "help"} <= (
        menus["de"] | menus["en"]
    )
    assert "anliegen" in menus["de"] and "petition" in menus["en"]
