"""The command table is the one list of commands: every row is registered and reachable by
each of its names, /help and the menus show exactly its rows, and its texts exist."""

from __future__ import annotations

from typing import Any

import pytest
from telegram import Update
from telegram.ext import BaseHandler, CommandHandler

from bot.texts.i18n import keys, t
from handlers import GROUP_MAIN
from handlers.commands import COMMANDS, Chat, Command, Menu, in_help, in_menu
from tests.harness import ADMIN, ANNA, DORA, PT, ST, Harness

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


async def help_names(h: Harness, chat_id: int, user_id: int) -> list[str]:
    """The commands one /help lists, by their first name on each line."""
    reply = await h.say(chat_id, user_id, "/help")
    assert reply is not None and reply.text
    return [line.split()[0][1:] for line in reply.text.splitlines() if line.startswith("/")]


async def test_help_lists_the_rows_that_fit_the_chat_and_the_person(h: Harness) -> None:
    await h.bind(PT, "PT", "Projektteam")
    for chat_id, user_id, chat, admin in (
        (ADMIN, ADMIN, Chat.PRIVATE, True),
        (ANNA, ANNA, Chat.PRIVATE, False),
        (PT, ADMIN, Chat.TEAM, True),
        (PT, ANNA, Chat.TEAM, False),
        (ST, ADMIN, Chat.UNBOUND, True),
        (ST, ANNA, Chat.UNBOUND, False),
    ):
        expected = [command.name for command in in_help(chat, network_admin=admin)]
        assert await help_names(h, chat_id, user_id) == expected, (chat, admin)


async def test_every_command_is_offered_in_help_somewhere(h: Harness) -> None:
    await h.bind(PT, "PT", "Projektteam")
    shown: set[str] = set()
    for chat_id in (ADMIN, PT, ST):
        shown |= set(await help_names(h, chat_id, ADMIN))
    assert shown == {command.name for command in COMMANDS}


async def test_help_shows_the_german_aliases_to_german_speakers_only(h: Harness) -> None:
    german = await h.say(ANNA, ANNA, "/help")
    english = await h.say(DORA, DORA, "/help")
    assert german is not None and english is not None
    petition = next(command for command in COMMANDS if command.name == "petition")
    assert "/petition · /anliegen –" in (german.text or "")
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
        expected = [
            {"command": command.name, "description": t(lang or "de", command.menu_key)}
            for command in in_menu(menu)
        ]
        assert call.params["commands"] == expected, (menu, lang)
    assert seen == {(menu, lang) for menu in Menu for lang in ("", "de", "en")}


def test_every_command_is_in_a_menu_and_in_help() -> None:
    for command in COMMANDS:
        assert command.menus, command.name
        assert command.help_in, command.name
        for menu in command.menus:
            assert command in in_menu(menu), command.name


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
