"""Which network, asked with buttons, in a bot that serves several networks (SPEC §1).

In a private chat: which network a message is for, when it names none and the person belongs
to several or none — remembered, and the message that asked runs once they chose; `/network`
shows the choice and changes it. In a group no team is bound to: which network an admin of
several binds it into with a `/setup` that named none — for that /setup only (nothing is
remembered), which runs once they picked, as if they had named the network. Either way the
message waits in storage and runs again (`_run_again`)."""

from __future__ import annotations

import contextlib
import json
import logging

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.flows.payloads import BindingNetwork, NetworkChoice
from bot.flows.port import Button, Keyboard
from bot.services import Services
from bot.telegram_side import callbacks
from bot.texts.i18n import t
from handlers.common import (
    Context,
    answer_query,
    deployment_of,
    in_private_chat,
    lang_of,
    reply,
    reply_html,
)

log = logging.getLogger(__name__)


async def _choices(update: Update, context: Context) -> list[Services]:
    """The networks to offer: those the person belongs to, else every one."""
    from handlers.routing import belongs_to

    deployment = deployment_of(context)
    user = update.effective_user
    assert user is not None
    return await belongs_to(user.id, deployment) or list(deployment.networks)


def _keyboard(choices: list[Services]) -> Keyboard:
    return Keyboard.of(
        *(
            [Button(services.network.name, NetworkChoice(services.storage.network_id))]
            for services in choices
        )
    )


async def ask(update: Update, context: Context) -> None:
    """Ask which network this private message is for; it waits (the latest one) and runs
    once the person chose."""
    deployment = deployment_of(context)
    user = update.effective_user
    chat = update.effective_chat
    assert user is not None and chat is not None
    choices = await _choices(update, context)
    await deployment.first().storage.networks.wait_for_choice(
        user.id, json.dumps(update.to_dict(), ensure_ascii=False), deployment.first().clock.now()
    )
    lang = lang_of(update, context)
    key = "network.which" if len(choices) < len(deployment.networks) else "network.which_any"
    await deployment.first().outbox.send(chat.id, t(lang, key), keyboard=_keyboard(choices))


async def show_or_change(update: Update, context: Context) -> None:
    """/network: the network this private chat is for, and buttons to change it."""
    deployment = deployment_of(context)
    if deployment.single:
        await reply(update, context, "network.only", network=deployment.first().network.name)
        return
    chat = update.effective_chat
    assert chat is not None
    if chat.type != "private":
        placed = deployment.placed()
        name = placed.network.name if placed else "–"
        await reply(update, context, "network.of_group", network=name)
        return
    placed = deployment.placed()
    lang = lang_of(update, context)
    text = (
        t(lang, "network.current", network=placed.network.name)
        if placed is not None
        else t(lang, "network.unchosen")
    )
    choices = await _choices(update, context)
    await deployment.first().outbox.send(chat.id, text, keyboard=_keyboard(choices))


async def chosen(update: Update, context: Context) -> None:
    """A press on one of the networks: remember it, and run what waited for it."""
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    deployment = deployment_of(context)
    payload = callbacks.decode(query.data)
    lang = lang_of(update, context)
    choices = await _choices(update, context)
    services = deployment.by_id(payload.network_id) if isinstance(payload, NetworkChoice) else None
    if services is None or services not in choices or not in_private_chat(query):
        await answer_query(query, t(lang, "network.stale"), alert=True)
        return
    waiting = await deployment.first().storage.networks.choose(
        user.id, services.storage.network_id, services.clock.now()
    )
    deployment.place(services)
    await answer_query(query, t(lang, "network.chosen_toast", network=services.network.name))
    await reply_html(update, context, t(lang, "network.chosen", network=services.network.name))
    if waiting is not None:
        await _run_again(context, waiting)


async def ask_in_group(update: Update, context: Context, choices: list[Services]) -> None:
    """An admin of several networks sent /setup naming none: which network, asked in the
    group with a button for each of theirs; the /setup waits (their latest) until they pick."""
    deployment = deployment_of(context)
    user = update.effective_user
    chat = update.effective_chat
    message = update.effective_message
    assert user is not None and chat is not None
    await deployment.first().storage.networks.wait_in_group(
        chat.id,
        user.id,
        json.dumps(update.to_dict(), ensure_ascii=False),
        deployment.first().clock.now(),
    )
    keyboard = Keyboard.of(
        *(
            [Button(services.network.name, BindingNetwork(services.storage.network_id))]
            for services in choices
        )
    )
    await deployment.first().outbox.send(
        chat.id,
        t(lang_of(update, context), "setup.which_network"),
        keyboard=keyboard,
        reply_to=message.message_id if message else None,
    )


async def binding_chosen(update: Update, context: Context) -> None:
    """The admin who sent /setup picked the network: that /setup runs, naming it. A press by
    anyone else, or on a question already answered, changes nothing."""
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    deployment = deployment_of(context)
    payload = callbacks.decode(query.data)
    lang = lang_of(update, context)
    services = deployment.by_id(payload.network_id) if isinstance(payload, BindingNetwork) else None
    chat = query.message.chat if query.message is not None else None
    waiting = None
    if services is not None and chat is not None and services.is_network_admin(user.id):
        waiting = await deployment.first().storage.networks.take_group_wait(chat.id, user.id)
    if services is None or waiting is None:
        await answer_query(query, t(lang, "setup.which_network_stale"), alert=True)
        return
    await answer_query(query, t(lang, "setup.which_network_toast", network=services.network.name))
    await _run_again(context, waiting, network_key=services.network.key)


def _naming(update: dict[str, object], network_key: str) -> None:
    """`/setup KIND NAME` -> `/setup KIND <network_key> NAME`: the /setup as if it had named
    its network (the command's own entity, at the start, stays where it is)."""
    message = update.get("message")
    if not isinstance(message, dict) or not isinstance(message.get("text"), str):
        return
    words = message["text"].split()
    message["text"] = " ".join([*words[:2], network_key, *words[2:]])
    entities = message.get("entities")
    if isinstance(entities, list):
        message["entities"] = [e for e in entities if isinstance(e, dict) and e.get("offset") == 0]


async def _run_again(context: Context, waiting: str, *, network_key: str | None = None) -> None:
    """The message that waited for a choice runs as if it had come now; routing places it
    in the chosen network (the person's choice; or, with `network_key`, the network the
    /setup now names)."""
    try:
        data = json.loads(waiting)
        if network_key is not None:
            _naming(data, network_key)
        again = Update.de_json(data, context.bot)
    except Exception as exc:  # written by this bot; unreadable only if Telegram's shape changed
        log.warning("event=network_choice_unreadable error=%s", type(exc).__name__)
        return
    if again is None:
        return
    with contextlib.suppress(ApplicationHandlerStop):
        await context.application.process_update(again)
