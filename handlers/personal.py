"""A person's own answers to what the bot asked them privately — accept a nomination,
confirm a delegation, stand in an election — by button or by opening a deep link."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update

from bot.flows import delegations, elections, nominations
from bot.services import Services
from bot.telegram_side.callbacks import decode_acceptance, decode_candidacy, decode_confirmation
from bot.texts.i18n import t
from handlers.common import Context, current_person, lang_of, reply, services_of
from handlers.proposals import answer_query
from storage.people import Person

# Deep-link payload prefix -> what opening it does; each returns a text key ("" = asked).
DEEP_LINKS: dict[str, Callable[[Services, Person, str], Awaitable[str]]] = {
    nominations.DEEP_LINK: nominations.open_by_deep_link,
    delegations.DEEP_LINK: delegations.open_by_deep_link,
    elections.DEEP_LINK: elections.open_by_deep_link,
}


async def by_deep_link(update: Update, context: Context, payload: str) -> bool:
    """/start PAYLOAD for one of the questions above; False if the payload is none of them."""
    for prefix, open_link in DEEP_LINKS.items():
        if payload.startswith(prefix):
            person = await current_person(update, context)
            if person is not None:
                key = await open_link(services_of(context), person, payload[len(prefix) :])
                if key:
                    await reply(update, context, key)
            return True
    return False


async def _answer_with(
    update: Update, context: Context, act: Callable[[Services, Person], Awaitable[str]] | None
) -> None:
    query = update.callback_query
    assert query is not None
    lang = lang_of(update, context)
    person = await current_person(update, context)
    if act is None or person is None:
        await answer_query(query, t(lang, "press.invalid"), alert=True)
        return
    key = await act(services_of(context), person)
    await answer_query(query, t(lang, key), alert=True)


async def answer_nomination(update: Update, context: Context) -> None:
    """The candidate pressed Annehmen or Ablehnen."""
    choice = decode_acceptance(update.callback_query.data if update.callback_query else None)
    act = None
    if choice is not None:

        async def act(services: Services, person: Person) -> str:
            return await nominations.answer(services, choice.nomination_id, person, choice.accept)

    await _answer_with(update, context, act)


async def answer_delegation(update: Update, context: Context) -> None:
    """The delegate pressed Bestätigen or Ablehnen."""
    choice = decode_confirmation(update.callback_query.data if update.callback_query else None)
    act = None
    if choice is not None:

        async def act(services: Services, person: Person) -> str:
            return await delegations.answer(services, choice.delegation_id, person, choice.confirm)

    await _answer_with(update, context, act)


async def answer_candidacy(update: Update, context: Context) -> None:
    """A candidate pressed Ich kandidiere or Ablehnen."""
    choice = decode_candidacy(update.callback_query.data if update.callback_query else None)
    act = None
    if choice is not None:

        async def act(services: Services, person: Person) -> str:
            return await elections.answer(
                services, choice.election_id, choice.position, person, choice.stands
            )

    await _answer_with(update, context, act)
