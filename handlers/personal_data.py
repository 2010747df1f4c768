"""A person's own data: /mydata sends it as a JSON file, /forgetme (confirmed by a button)
forgets them. Both only in a private chat."""

from __future__ import annotations

from telegram import Update

from bot.flows import personal_data
from bot.flows.payloads import ForgetPress, OpenBot
from bot.flows.port import Button, Keyboard
from bot.services import Services
from bot.telegram_side import callbacks
from bot.texts.i18n import t
from handlers.common import (
    Context,
    answer_query,
    current_person,
    deployment_of,
    in_private_chat,
    lang_of,
    reply,
    services_of,
)
from storage.people import Person


async def _asker(update: Update, context: Context) -> Person | None:
    """The person asking about their own data, in a private chat; None (after saying where
    to ask) in a group — personal data never goes there."""
    if not await _privately(update, context):
        return None
    deployment = deployment_of(context)
    if deployment.placed() is None:
        # A person of several networks who chose none: these commands need no network
        # (handlers.routing); they are asked as the first network that knows them.
        known = await _in_every_network(update, context)
        if known:
            deployment.place(known[0][0])
            return known[0][1]
        deployment.place(deployment.first())
    person = await current_person(update, context)
    if person is None or person.telegram_id is None:
        return None
    return person


async def _privately(update: Update, context: Context) -> bool:
    """Personal data never goes to a group: there, say where to ask instead."""
    chat = update.effective_chat
    assert chat is not None
    if chat.type == "private":
        return True
    link = deployment_of(context).first().outbox.start_link(OpenBot())
    await reply(update, context, "privacy.private_only", link=link)
    return False


async def _in_every_network(update: Update, context: Context) -> list[tuple[Services, Person]]:
    """The person in each network that knows them (SPEC §1: a person in two networks is one
    in each): the placed network's first."""
    deployment = deployment_of(context)
    user = update.effective_user
    if user is None:
        return []
    placed = deployment.placed()
    found: list[tuple[Services, Person]] = []
    for services in sorted(deployment.networks, key=lambda s: s is not placed):
        person = await services.storage.people.by_telegram_id(user.id)
        if person is not None and person.telegram_id is not None:
            found.append((services, person))
    return found


async def send_my_data(update: Update, context: Context) -> None:
    """Someone asks what the bot stores about them: /mydata — of every network that knows
    them."""
    person = await _asker(update, context)
    if person is None or person.telegram_id is None:
        return
    services = services_of(context) if deployment_of(context).single else None
    if services is not None:
        document = await personal_data.personal_data(services, person)
    else:
        document = await personal_data.of_networks(await _in_every_network(update, context))
    await (
        deployment_of(context)
        .first()
        .outbox.send_document(
            person.telegram_id,
            document,
            personal_data.FILE_NAME,
            caption=t(lang_of(update, context), "mydata.caption"),
        )
    )


async def ask_to_forget(update: Update, context: Context) -> None:
    """Someone asks to be forgotten: /forgetme. Nothing happens before they confirm."""
    person = await _asker(update, context)
    if person is None or person.telegram_id is None:
        return
    deployment = deployment_of(context)
    lang = lang_of(update, context)
    teams: list[str] = []
    for services, known in await _in_every_network(update, context):
        names = await personal_data.team_names(services, known)
        if not deployment.single:
            names = [f"{name} ({services.network.name})" for name in names]
        teams.extend(names)
    keyboard = Keyboard.of(
        [
            Button(t(lang, "forget.button.yes"), ForgetPress(person.id, True)),
            Button(t(lang, "forget.button.no"), ForgetPress(person.id, False)),
        ]
    )
    text = t(
        lang,
        "forget.ask",
        teams=", ".join(teams) if teams else t(lang, "forget.no_teams"),
    )
    await deployment.first().outbox.send(person.telegram_id, text, keyboard=keyboard)


async def answer_forget(update: Update, context: Context) -> None:
    """The person pressed Ja, vergiss mich or Abbrechen."""
    query = update.callback_query
    assert query is not None
    services = services_of(context)
    lang = lang_of(update, context)
    if not in_private_chat(query):
        await answer_query(query, t(lang, "press.invalid"), alert=True)
        return
    press = callbacks.decode(query.data)
    person = await current_person(update, context)
    # Someone forgotten is a new person to the bot, so their old question is stale.
    if not isinstance(press, ForgetPress) or person is None or person.id != press.person_id:
        await answer_query(query, t(lang, "forget.stale"), alert=True)
        return
    if press.confirm:
        # Forgotten in every network that knows them, and the network their chat was for.
        deployment = deployment_of(context)
        done = False
        for network, known in await _in_every_network(update, context):
            with deployment.serving(network.storage.network_id):
                done = await personal_data.forget(network, known) or done
        if person.telegram_id is not None:
            await services.storage.networks.forget_choice(person.telegram_id)
        key = "forget.done" if done else "forget.stale"
    else:
        key = "forget.kept"
    # The toast is short (Telegram cuts at 200 characters); the question's message, edited,
    # says in full what was deleted and how long backups still hold the person.
    await answer_query(query, t(lang, "forget.done_toast" if key == "forget.done" else key))
    if query.message is not None:
        await services.outbox.edit(query.message.chat.id, query.message.message_id, t(lang, key))
