"""A person's own answers to what the bot asked them privately — accept a nomination,
confirm a delegation, stand in an election — by button or by opening a deep link; and the
one dispatch of what a link that opens the bot carries (/start PAYLOAD)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update

from bot.flows import delegations, elections, nominations
from bot.flows.payloads import (
    Acceptance,
    BindLt,
    CallbackPayload,
    Candidacy,
    Confirmation,
    GiveReason,
    OpenCandidacy,
    OpenDelegation,
    OpenNomination,
    RaisePetition,
)
from bot.services import Services
from bot.telegram_side import callbacks, deep_links
from bot.texts.i18n import t
from handlers import petitions, proposals, setup
from handlers.common import (
    Context,
    answer_query,
    current_person,
    in_private_chat,
    lang_of,
    reply,
    services_of,
)
from storage.people import Person

# What opening a question's link does; each returns a text key to answer with ("" = asked).
OpenQuestion = Callable[[Services, Person, str], Awaitable[str]]


async def by_deep_link(update: Update, context: Context, payload: str) -> bool:
    """/start PAYLOAD: what the link carries, decoded once; False if it carries nothing of
    ours (then /start is just /start)."""
    open_question: OpenQuestion
    match deep_links.decode(payload):
        case GiveReason(round_id):
            await proposals.reason_by_deep_link(update, context, round_id)
            return True
        case RaisePetition():
            await petitions.ask_privately(update, context)
            return True
        case BindLt(code):  # a startgroup link, in the group it added the bot to
            return await setup.code_by_link(update, context, code)
        case OpenNomination(token):
            open_question = nominations.open_by_deep_link
        case OpenDelegation(token):
            open_question = delegations.open_by_deep_link
        case OpenCandidacy(token):
            open_question = elections.open_by_deep_link
        case _:
            return False
    person = await current_person(update, context)
    if person is not None:
        key = await open_question(services_of(context), person, token)
        if key:
            await reply(update, context, key)
    return True


def _pressed(update: Update) -> CallbackPayload | None:
    return callbacks.decode(update.callback_query.data if update.callback_query else None)


async def _answer_with(
    update: Update, context: Context, act: Callable[[Services, Person], Awaitable[str]] | None
) -> None:
    query = update.callback_query
    assert query is not None
    lang = lang_of(update, context)
    person = await current_person(update, context)
    if act is None or person is None or not in_private_chat(query):
        await answer_query(query, t(lang, "press.invalid"), alert=True)
        return
    key = await act(services_of(context), person)
    await answer_query(query, t(lang, key), alert=True)


async def answer_nomination(update: Update, context: Context) -> None:
    """The candidate pressed Annehmen or Ablehnen."""
    choice = _pressed(update)
    act = None
    if isinstance(choice, Acceptance):

        async def act(services: Services, person: Person) -> str:
            return await nominations.answer(services, choice.nomination_id, person, choice.accept)

    await _answer_with(update, context, act)


async def answer_delegation(update: Update, context: Context) -> None:
    """The delegate pressed Bestätigen or Ablehnen."""
    choice = _pressed(update)
    act = None
    if isinstance(choice, Confirmation):

        async def act(services: Services, person: Person) -> str:
            return await delegations.answer(services, choice.delegation_id, person, choice.confirm)

    await _answer_with(update, context, act)


async def answer_candidacy(update: Update, context: Context) -> None:
    """A candidate pressed Ich kandidiere or Ablehnen."""
    choice = _pressed(update)
    act = None
    if isinstance(choice, Candidacy):

        async def act(services: Services, person: Person) -> str:
            return await elections.answer(
                services, choice.election_id, choice.position, person, choice.stands
            )

    await _answer_with(update, context, act)
