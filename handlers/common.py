"""Shared pieces of the Telegram adapters: services, language, replies and refusals, and the
person a command names."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import cast

from telegram import CallbackQuery, Message, MessageEntity, Update, User
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.charter.refusals import Refusal
from bot.flows.port import Delivery, Priority
from bot.services import SERVICES_KEY, Deployment, Services
from bot.texts import naming
from bot.texts.i18n import Html, t
from storage.db import after_commit
from storage.people import Person
from storage.teams import Team

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE

MAX_ANSWER = 200  # Telegram's limit for the text of a callback answer


def deployment_of(context: Context) -> Deployment:
    return cast(Deployment, context.bot_data[SERVICES_KEY])


def services_of(context: Context) -> Services:
    """The network this update is for (handlers.routing placed it; SPEC §1)."""
    return deployment_of(context).current()


def lang_of(update: Update, context: Context) -> str:
    """The language to answer in: a group speaks its network's; a private chat the person's
    (before a network is placed, the deployment's first network's is the fallback)."""
    chat = update.effective_chat
    user = update.effective_user
    deployment = deployment_of(context)
    return (deployment.placed() or deployment.first()).language_for(
        chat.type if chat else "private", user.language_code if user else None
    )


async def reply(
    update: Update,
    context: Context,
    key: str,
    /,
    *,
    about: Sequence[int] = (),
    **params: object,
) -> Delivery:
    """Answer the message that triggered this update with the text `key`, through the outbox.
    `about`: the people (internal ids) the text names, kept with it while it waits in the
    outbox, so that /forgetme re-renders it (SPEC §8)."""
    text = t(lang_of(update, context), key, **params)
    return await reply_html(update, context, text, about=about)


async def reply_html(
    update: Update, context: Context, text: str, *, about: Sequence[int] = ()
) -> Delivery:
    """Answer with this HTML (a reply in a group, a message in a private chat); `about` as
    for `reply`."""
    message = update.effective_message
    chat = update.effective_chat
    assert chat is not None
    reply_to = message.message_id if message and chat.type != "private" else None
    return (
        await deployment_of(context)
        .first()
        .outbox.send(  # the deployment's one outbox
            chat.id,
            Html(text),
            priority=Priority.REPLY,
            reply_to=reply_to,
            about=sorted(set(about)),
        )
    )


def in_private_chat(query: CallbackQuery) -> bool:
    """A question asked privately is answered there: its button's data pressed on a message
    in a group is forged (SPEC §10), and changes nothing there."""
    return query.message is not None and query.message.chat.type == ChatType.PRIVATE


async def answer_query(
    query: CallbackQuery, text: str, alert: bool = False, url: str | None = None
) -> None:
    """Answer a press once what it did is committed (SPEC §9): the answer goes out after the
    update's unit of work, before what its commit flushes from the outbox; if Telegram says
    the query is too old, the committed response stays. The answer is plain text (no parse
    mode), at most 200 characters."""
    plain = html.unescape(re.sub(r"<[^>]+>", "", text))
    if len(plain) > MAX_ANSWER:
        plain = plain[: MAX_ANSWER - 1] + "…"

    async def answer() -> None:
        try:
            await query.answer(text=plain, show_alert=alert, url=url)
        except TelegramError as exc:
            log.info("event=answer_failed error=%s", exc)

    await after_commit(answer, first=True)


async def refuse(update: Update, context: Context, refusal: Refusal, /, **params: object) -> None:
    """Tell the person why not: an alert on a button they pressed, else a reply to their
    message. `params` add to the refusal's own (a proposal's id, the team …); a team is named
    as every text names one (`naming.team`)."""
    lang = lang_of(update, context)
    values = {
        name: naming.team(value, lang) if isinstance(value, Team) else value
        for name, value in {**refusal.params, **params}.items()
    }
    query = update.callback_query
    text = t(lang, refusal.key, **values)
    if query is not None:
        await answer_query(query, text, alert=True)
        return
    await reply_html(update, context, text)


async def current_person(update: Update, context: Context) -> Person | None:
    """The person behind this update (the tracker has already stored them)."""
    user = update.effective_user
    if user is None or user.is_bot:
        return None
    return await remember_user(context, user)


async def remember_user(context: Context, user: User) -> Person:
    services = services_of(context)
    return await services.storage.people.seen(
        user.id,
        user.first_name,
        user.last_name,
        user.username,
        user.language_code,
        services.clock.now(),
    )


async def bound_team(update: Update, context: Context) -> Team | None:
    """This chat's team, or None after telling the chat it is not bound (or is private)."""
    chat = update.effective_chat
    assert chat is not None
    if chat.type == "private":
        await reply(update, context, "error.group_only")
        return None
    team = await services_of(context).storage.teams.by_chat(chat.id)
    if team is None:
        await reply(update, context, "error.unbound_chat")
    return team


@dataclass(frozen=True, slots=True)
class Named:
    """The outcome of naming a person in a command: the person, or the text key why not."""

    person: Person | None
    rest: list[str]
    problem: str | None = None
    username: str | None = None


async def named_person(update: Update, context: Context, args: list[str]) -> Named:
    """SPEC §1: by reply, by text mention, or by an @username the bot has seen."""
    message = update.effective_message
    assert message is not None
    replied = _replied_user(message)
    if replied is not None:
        if replied.is_bot:
            return Named(None, args, "error.person_is_bot")
        return Named(await remember_user(context, replied), args)
    mentioned = _text_mention_first(message, args)
    if mentioned is not None:
        user, consumed = mentioned
        if user.is_bot:
            return Named(None, args, "error.person_is_bot")
        return Named(await remember_user(context, user), args[consumed:])
    if not args:
        return Named(None, args, "error.name_a_person")
    first = args[0]
    if first.startswith("@") and len(first) > 1:
        username = first[1:]
        person, problem = await _by_username(context, username)
        if person is None:
            return Named(None, args, problem, username=username)
        return Named(person, args[1:])
    return Named(None, args, "error.name_a_person")


async def _by_username(context: Context, username: str) -> tuple[Person | None, str | None]:
    """The person the bot has seen with this @username, or the text key why not."""
    if username.lower() == services_of(context).bot_username.lower():
        return None, "error.person_is_bot"
    person = await services_of(context).storage.people.by_username(username)
    if person is None:
        return None, "error.unknown_username"
    return person, None


@dataclass(frozen=True, slots=True)
class NamedOne:
    """One of the people a command names: the person, or the word as typed and why not."""

    word: str
    person: Person | None = None
    problem: str | None = None  # the text key, as in Named


@dataclass(frozen=True, slots=True)
class NamedMany:
    """The people a command names, in the order typed and each once, and the words after."""

    named: list[NamedOne]
    rest: list[str]


# Invisible characters a copied @username may carry; a comma or semicolon may follow a name.
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_USERNAME = re.compile(r"[A-Za-z0-9_]{1,32}")


async def named_people(
    update: Update, context: Context, *, until: Collection[str] = ()
) -> NamedMany:
    """SPEC §1 for a command that names several people (/admit): each word up to the first
    one in `until` (lower case: a seat, say) names a person — an @username the bot has seen,
    or a text mention (which may take several words); the words from there on are `rest`. A
    reply names the person replied to when no word is a name. Whoever is named twice counts
    once. A word that names nobody is in `named` too, with why (a bot, an @username the bot
    has not seen, no name at all)."""
    message = update.effective_message
    assert message is not None
    text = message.text or ""
    mentions = _text_mention_spans(message, text)
    words = [(m.start(), m.group()) for m in re.finditer(r"\S+", text)][1:]  # the command first
    named: list[NamedOne] = []
    rest: list[str] = []
    seen: set[object] = set()
    index = 0
    while index < len(words):
        start, word = words[index]
        span = next((s for s in mentions if s[0] <= start < s[1]), None)
        if span is not None:  # a text mention: all the words it covers
            while index + 1 < len(words) and words[index + 1][0] < span[1]:
                index += 1
            index += 1
            one = await _named_user(context, span[2], span[3])
        else:
            cleaned = _INVISIBLE.sub("", word).rstrip(",;")
            if cleaned.lower() in until:
                rest = [w for _, w in words[index:]]
                break
            index += 1
            if not cleaned:
                continue  # a lone comma between names
            one = await _named_word(context, cleaned)
        key: object = one.person.id if one.person else (one.word.lower(), one.problem)
        if key not in seen:
            seen.add(key)
            named.append(one)
    if all(one.problem == "error.name_a_person" for one in named):
        replied = _replied_user(message)
        if replied is not None:
            named.insert(0, await _named_user(context, replied, replied.full_name))
    return NamedMany(named, rest)


async def _named_user(context: Context, user: User, word: str) -> NamedOne:
    if user.is_bot:
        return NamedOne(word, problem="error.person_is_bot")
    return NamedOne(word, person=await remember_user(context, user))


async def _named_word(context: Context, word: str) -> NamedOne:
    if not word.startswith("@") or len(word) == 1:
        return NamedOne(word, problem="error.name_a_person")
    username = word[1:]
    if not _USERNAME.fullmatch(username):
        return NamedOne(word, problem="error.unknown_username")  # no username looks like it
    person, problem = await _by_username(context, username)
    return NamedOne(word, person=person, problem=problem)


def _text_mention_spans(message: Message, text: str) -> list[tuple[int, int, User, str]]:
    """The text mentions as (start, end) in `text` (Telegram counts in UTF-16 units), the user
    and the words they cover."""
    encoded = text.encode("utf-16-le")
    spans = []
    for entity in message.entities:
        if entity.type != MessageEntity.TEXT_MENTION or entity.user is None:
            continue
        before = encoded[: entity.offset * 2].decode("utf-16-le", errors="ignore")
        covered = encoded[entity.offset * 2 : (entity.offset + entity.length) * 2]
        shown = covered.decode("utf-16-le", errors="ignore")
        spans.append((len(before), len(before) + len(shown), entity.user, shown))
    return spans


def _replied_user(message: Message) -> User | None:
    replied = message.reply_to_message
    if replied is None or replied.from_user is None:
        return None
    # In forum topics every message "replies" to the topic's first message; that is no naming.
    if replied.forum_topic_created is not None:
        return None
    return replied.from_user


def _text_mention_first(message: Message, args: list[str]) -> tuple[User, int] | None:
    """A text mention where the arguments start; returns the user and how many words it took."""
    if not args:
        return None
    first_args = " ".join(args)
    mentions = message.parse_entities([MessageEntity.TEXT_MENTION])
    for entity, mention_text in sorted(mentions.items(), key=lambda item: item[0].offset):
        if entity.user is not None and first_args.startswith(" ".join(mention_text.split())):
            return entity.user, len(mention_text.split())
    return None


async def reply_naming_problem(
    update: Update, context: Context, named: Named, usage_key: str
) -> None:
    """Tell the person why nobody was named, and how to name someone for this command."""
    await reply(
        update,
        context,
        named.problem or "error.name_a_person",
        username=named.username or "",
        usage=t(lang_of(update, context), usage_key),
    )
