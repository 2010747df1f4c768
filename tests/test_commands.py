"""The command table is the one list of commands: every row is registered and reachable by
each of its names, /help and the menus show exactly its rows, and its texts exist."""

from __future__ import annotations

from typing import Any

import pytest
from telegram import Update
from telegram.ext import BaseHandler, CommandHandler

from bot.texts.i18n import keys, t
from handlers import GROUP_MAIN
from handlers.commands import COMMANDS, Asker, Chat, Command, Menu, in_help, in_menu
from tests.harness import ADMIN, ANNA, BERT, CARL, DORA, LT, PLAIN, PT, ST, Harness, Teams

SCOPES = {"all_group_chats": Menu.GROUP, "all_private_chats": Menu.PRIVATE}
ALL_NAMES = [name for command in COMMANDS for name in command.names]


def command_update(h: Harness, text: str, chat_id: int, chat_type: str) -> Update:
    assert h.app is not None
    length = len(text.split()[0])
    data = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": chat_id, "type": chat_type},
            "from": {"id": ANNA, "is_bot": False, "first_name": "Anna"},
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": length}],
        },
    }
    update = Update.de_json(data, h.app.bot)
    assert update is not None
    return update


def first_taker(h: Harness, update: Update) -> BaseHandler[Any, Any, Any]:
    """The handler of the main group that gets this update: the first one that matches."""
    assert h.app is not None
    return next(handler for handler in h.app.handlers[GROUP_MAIN] if handler.check_update(update))


def command_handlers(h: Harness) -> list[CommandHandler[Any, Any]]:
    assert h.app is not None
    return [
        handler
        for group in h.app.handlers.values()
        for handler in group
        if isinstance(handler, CommandHandler)
    ]


def test_no_name_belongs_to_two_commands() -> None:
    assert len(ALL_NAMES) == len(set(ALL_NAMES))


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: command.name)
async def test_every_name_of_a_command_reaches_its_handler(h: Harness, command: Command) -> None:
    assert h.app is not None
    for name in command.names:
        for update in (
            command_update(h, f"/{name} x", ANNA, "private"),
            command_update(h, f"/{name}@{h.app.bot.username} x", PT, "supergroup"),
        ):
            taker = first_taker(h, update)
            assert isinstance(taker, CommandHandler), name
            assert taker.callback is command.handler, name


async def test_no_command_is_registered_outside_the_table(h: Harness) -> None:
    handlers = command_handlers(h)
    assert len(handlers) == len(COMMANDS)
    registered = {name for handler in handlers for name in handler.commands}
    assert registered == set(ALL_NAMES)


BY_NAME = {name: command for command in COMMANDS for name in command.names}


async def help_names(h: Harness, chat_id: int, user_id: int, text: str = "/help") -> list[str]:
    """The commands one /help lists, by their table name (each line starts with one of the
    command's names)."""
    reply = await h.say(chat_id, user_id, text)
    assert reply is not None and reply.text
    return [
        BY_NAME[line.split()[0][1:]].name
        for line in reply.text.splitlines()
        if line.startswith("/")
    ]


async def test_help_lists_the_rows_that_fit_the_chat_and_the_person(h: Harness) -> None:
    await h.bind(PT, "PT", "Projektteam")
    for chat_id, user_id, asker in (
        (ADMIN, ADMIN, Asker(Chat.PRIVATE, network_admin=True)),
        (ANNA, ANNA, Asker(Chat.PRIVATE)),
        (PT, ADMIN, Asker(Chat.TEAM, "PT", network_admin=True)),
        (PT, ANNA, Asker(Chat.TEAM, "PT")),
        (ST, ADMIN, Asker(Chat.UNBOUND, network_admin=True)),
        (ST, ANNA, Asker(Chat.UNBOUND)),
    ):
        for text, everything in (("/help", False), ("/help all", True)):
            expected = [command.name for command in in_help(asker, everything=everything)]
            assert await help_names(h, chat_id, user_id, text) == expected, (asker, text)


async def test_every_command_is_offered_in_help_somewhere(team: Teams) -> None:
    h, _ = await team("PT", (ANNA, BERT))
    await team("LT", (ANNA, BERT))
    await team("ST", (CARL, DORA))
    shown: set[str] = set()
    for chat_id, user_id in (
        (ADMIN, ADMIN),
        (PT, ANNA),
        (PT, ADMIN),
        (LT, ANNA),
        (ST, CARL),
        (PLAIN, ADMIN),
    ):
        shown |= set(await help_names(h, chat_id, user_id, "/hilfe alle"))
    # (a bot of one network offers no choice of network: /network is a bot of several's)
    assert shown == {command.name for command in COMMANDS if not command.several_networks}


async def test_help_names_commands_by_the_language_of_the_chat(h: Harness) -> None:
    german = await h.say(ANNA, ANNA, "/help")
    everything = await h.say(ANNA, ANNA, "/hilfe alle")
    english = await h.say(DORA, DORA, "/help all")
    assert german is not None and everything is not None and english is not None
    petition = next(command for command in COMMANDS if command.name == "petition")
    assert f"/anliegen – {t('de', petition.help_key)}" in (german.text or "")
    assert "/petition" not in (german.text or "")
    assert "/anliegen · /petition –" in (everything.text or "")
    assert f"/petition – {t('en', petition.help_key)}" in (english.text or "")
    assert "/anliegen" not in (english.text or "")


async def test_concern_is_understood_but_never_shown(h: Harness) -> None:
    reply = await h.say(ANNA, ANNA, "/concern")
    assert reply is not None and "kenne ich nicht" not in (reply.text or "")
    await h.bind(PT, "PT", "Projektteam")
    for chat_id in (ADMIN, PT, ST):
        reply = await h.say(chat_id, ADMIN, "/help")
        assert reply is not None and "/concern" not in (reply.text or "")
    for call in h.model.calls_of("setMyCommands"):
        assert "concern" not in [c["command"] for c in call.params["commands"]]


async def test_the_menus_are_the_rows_of_each_menu_in_every_language(h: Harness) -> None:
    seen = set()
    for call in h.model.calls_of("setMyCommands"):
        menu = SCOPES[call.params["scope"]["type"]]
        lang = call.params.get("language_code") or ""
        seen.add((menu, lang))
        # a group's menu speaks the network's language (German here) to everyone
        texts = "de" if menu is Menu.GROUP else lang or "de"
        expected = [
            {"command": command.shown(texts), "description": t(texts, command.menu_key)}
            for command in in_menu(menu)
        ]
        assert call.params["commands"] == expected, (menu, lang)
    assert seen == {(menu, lang) for menu in Menu for lang in ("", "de", "en")}


def test_every_command_is_in_a_menu_and_in_help() -> None:
    for command in COMMANDS:
        assert command.menus, command.name
        assert command.help_in, command.name
        for menu in command.menus:
            assert command in in_menu(menu, several_networks=True), command.name
            assert (command in in_menu(menu)) is not command.several_networks, command.name


def test_a_menu_place_names_a_command_of_that_menu() -> None:
    for command in COMMANDS:
        for menu, after in command.menu_after.items():
            assert menu in command.menus, command.name
            assert after in [other.name for other in in_menu(menu)], command.name
            listed = [other.name for other in in_menu(menu)]
            assert listed.index(command.name) == listed.index(after) + 1, command.name


@pytest.mark.parametrize("lang", ["de", "en"])
def test_every_command_has_its_texts_in_both_catalogues(lang: str) -> None:
    missing = [
        key
        for command in COMMANDS
        for key in (command.help_key, command.menu_key)
        if key not in keys(lang)
    ]
    assert missing == []
