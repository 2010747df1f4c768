"""In a private chat with a bot that serves several networks (SPEC §1): which network a
message is for, when it names none and the person belongs to several or none — asked with
buttons, remembered, and the message that asked runs once they chose; `/network` shows the
choice and changes it."""

from __future__ import annotations

import contextlib
import json
import logging

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.flows.payloads import NetworkChoice
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
    if waiting is None:
        return
    try:
        again = Update.de_json(json.loads(waiting), context.bot)
    except Exception as exc:  # written by this bot; unreadable only if Telegram's shape changed
        log.warning("event=network_choice_unreadable error=%s", type(exc).__name__)
        return
    if again is None:
        return
    # The message runs as if it had come now, in the chosen network (routing places it so).
    with contextlib.suppress(ApplicationHandlerStop):
        await context.application.process_update(again)
