"""Which network an update is for (SPEC §1), decided once, before any other handler: in a
deployment of one network, that one; else what the update itself names, then the person.

- A group chat is its team's network (a chat belongs to one). In an unbound group: the network
  a `/setup` names (its key after the kind), the network of an LT code it carries (typed, or
  brought by a startgroup link's `/start`, `storage.lt_codes`), the one a button of `/setup`'s
  question names; else the one network its sender is an admin of. `/setup` asks an admin of
  several which one (`handlers.networks.ask_in_group`).
- A button names a round, a nomination, … and a poll answer its poll: their network.
- In a private chat a deep link names its request, a reply names the bot's message it answers,
  and text without a command goes where the bot asked the person something (a petition's
  text, a reason). Else the person's network: the one they chose last (if they still belong
  there), or the only one they are on a roster of (or an admin of).
- What is then still unplaced is asked with buttons (`handlers.networks`) where a command
  needs a network; /help, /start, /mydata and /forgetme need none."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.charter.policy import TeamKind
from bot.charter.teams import lt_code_of_link, read_setup
from bot.flows.payloads import (
    Acceptance,
    BindingNetwork,
    BindLt,
    CallbackPayload,
    Candidacy,
    Confirmation,
    ForgetPress,
    GiveReason,
    NetworkChoice,
    OpenCandidacy,
    OpenDelegation,
    OpenNomination,
    PetitionPress,
    Press,
    RaisePetition,
    SettingPress,
)
from bot.services import Deployment, Services
from bot.telegram_side import callbacks, deep_links
from bot.texts.i18n import t
from handlers import networks
from handlers.common import Context, answer_query, deployment_of, lang_of

# The private commands that need no network: they speak of the person, or of every network.
NEEDS_NO_NETWORK = frozenset(
    {
        "start",
        "help",
        "hilfe",
        "mydata",
        "meinedaten",
        "forgetme",
        "vergessen",
        "network",
        "netzwerk",
    }
)


async def place(update: Update, context: Context) -> None:
    """Place the update in its network for every handler after this one; an update that
    needs a network and names none is asked about (and goes no further)."""
    deployment = deployment_of(context)
    if deployment.single:
        return  # the only network serves everything
    services = await network_for(update, deployment)
    deployment.place(services)
    if services is not None:
        return
    if _needs_a_network(update):
        await networks.ask(update, context)
        raise ApplicationHandlerStop
    await _of_no_network(update, context, deployment)


async def _of_no_network(update: Update, context: Context, deployment: Deployment) -> None:
    """What names no network and needs none asked: what is about nothing the bot keeps stops
    here. The bot's own rights (someone blocked it; it was added to a group of no team yet)
    go on to their handler, which speaks for every network (handlers.setup)."""
    if update.callback_query is not None:
        # A button that names nothing of any network: gone, or forged (SPEC §10).
        await answer_query(update.callback_query, t(lang_of(update, context), "press.invalid"))
        raise ApplicationHandlerStop
    if update.poll_answer or update.chat_member or update.chat_join_request or update.poll:
        raise ApplicationHandlerStop  # a poll, a chat or a request of no network's


async def network_for(update: Update, deployment: Deployment) -> Services | None:
    lookup = deployment.first().storage.networks
    chat = update.effective_chat
    user = update.effective_user
    if chat is not None and chat.type != "private":
        owner = await lookup.of_chat(chat.id)
        if owner is None and update.effective_message is not None:
            old = update.effective_message.migrate_from_chat_id
            if old is not None:
                owner = await lookup.of_chat(old)
        if owner is not None:
            return deployment.by_id(owner)
        return await _of_unbound_group(update, chat.id, deployment)
    if update.poll_answer is not None:
        return deployment.by_id(await lookup.of_poll(update.poll_answer.poll_id))
    if update.callback_query is not None:
        payload = callbacks.decode(update.callback_query.data)
        named = await _of_payload(payload, deployment)
        if named is not None or payload is not None:
            return named
    message = update.effective_message
    if user is None or message is None:
        return None
    text = message.text or ""
    if text.startswith("/start"):
        words = text.split()
        named = await _of_start(deep_links.decode(words[1] if len(words) > 1 else None), deployment)
        if named is not None:
            return named
    replied = message.reply_to_message
    if replied is not None and chat is not None:
        owner = await lookup.of_message(chat.id, replied.message_id)
        if owner is not None:
            return deployment.by_id(owner)
    return await _of_person(user.id, deployment, asked=not text.startswith("/"))


def named_network(deployment: Deployment, word: str) -> Services | None:
    """The network whose key (or one-word name) this word is."""
    named = deployment.first().config.network_named(word)
    return next((s for s in deployment.networks if s.network == named), None)


async def _of_unbound_group(
    update: Update, chat_id: int, deployment: Deployment
) -> Services | None:
    """A group no team is bound to yet: what its /setup (or a button of its question, or a
    startgroup link's /start) names, else the one network its sender is an admin of."""
    from handlers.commands import COMMANDS  # the table names the handlers, which import this

    codes = deployment.first().storage.lt_codes
    now = deployment.first().clock.now()
    if update.callback_query is not None:
        payload = callbacks.decode(update.callback_query.data)
        if isinstance(payload, BindingNetwork):
            return deployment.by_id(payload.network_id)
    message = update.effective_message
    words = (message.text or "").split() if message is not None else []
    command = words[0][1:].partition("@")[0].lower() if words and words[0][:1] == "/" else ""
    if command == "start" and len(words) > 1:
        link = deep_links.decode(words[1])
        if isinstance(link, BindLt):
            code = lt_code_of_link(link.code)
            return deployment.by_id(await codes.owner(code, now)) if code else None
    setup = next(c for c in COMMANDS if c.name == "setup")
    if command in setup.names:
        read = read_setup(words[1:], lambda word: named_network(deployment, word) is not None)
        if read.network is not None:
            return named_network(deployment, read.network)
        if read.code is not None:  # a code of no network's: the handler says so
            return deployment.by_id(await codes.owner(read.code, now))
        if read.kind is TeamKind.LT:
            brought = await codes.attached_to(chat_id, now)
            if brought is not None:
                return deployment.by_id(brought)
    user = update.effective_user
    admin_of = deployment.of_admin(user.id if user else None)
    return admin_of[0] if len(admin_of) == 1 else None


async def _of_payload(payload: CallbackPayload | None, deployment: Deployment) -> Services | None:
    lookup = deployment.first().storage.networks
    kind_and_id: tuple[str, int] | None = None
    match payload:
        case Press(round_id, _):
            kind_and_id = ("round", round_id)
        case Acceptance(nomination_id, _):
            kind_and_id = ("nomination", nomination_id)
        case Confirmation(delegation_id, _):
            kind_and_id = ("delegation", delegation_id)
        case Candidacy(election_id, _, _):
            kind_and_id = ("election", election_id)
        case PetitionPress(petition_id, _):
            kind_and_id = ("petition", petition_id)
        case ForgetPress(person_id, _):
            kind_and_id = ("person", person_id)
        case SettingPress(team_id, _, _):
            kind_and_id = ("team", team_id)
        case NetworkChoice(network_id):
            return deployment.by_id(network_id)
    if kind_and_id is None:
        return None
    return deployment.by_id(await lookup.of_object(*kind_and_id))


async def _of_start(payload: object, deployment: Deployment) -> Services | None:
    lookup = deployment.first().storage.networks
    match payload:
        case GiveReason(round_id):
            return deployment.by_id(await lookup.of_object("round", round_id))
        case OpenNomination(token) | OpenDelegation(token) | OpenCandidacy(token):
            return deployment.by_id(await lookup.of_token(token))
        case RaisePetition(network_id) if network_id is not None:
            return deployment.by_id(network_id)
    return None


async def _of_person(telegram_id: int, deployment: Deployment, *, asked: bool) -> Services | None:
    """The network of a private message that names none: where the bot asked this person
    something (`asked`: text that is no command), the one they chose, or their only one."""
    lookup = deployment.first().storage.networks
    theirs = await belongs_to(telegram_id, deployment)
    if asked:
        waiting = [s for s in deployment.networks if await _asked(s, telegram_id)]
        if len(waiting) == 1:
            return waiting[0]
    chosen = deployment.by_id(await lookup.chosen(telegram_id))
    if chosen is not None and chosen in theirs:
        return chosen
    return theirs[0] if len(theirs) == 1 else None


async def belongs_to(telegram_id: int, deployment: Deployment) -> list[Services]:
    """The networks a person is on a roster of or an admin of, in the config's order."""
    members = set(await deployment.first().storage.networks.of_member(telegram_id))
    return [
        services
        for services in deployment.networks
        if services.storage.network_id in members or services.is_network_admin(telegram_id)
    ]


async def _asked(services: Services, telegram_id: int) -> bool:
    """Whether this network waits for text from the person: a petition's, or a reason."""
    person = await services.storage.people.by_telegram_id(telegram_id)
    if person is None:
        return False
    if await services.storage.petitions.awaiting_text(person.id, services.clock.now()) is not None:
        return True
    return await services.storage.reasons.pending_reason(person.id) is not None


def _needs_a_network(update: Update) -> bool:
    """A private message or a button that cannot be answered without knowing the network."""
    if update.callback_query is not None:
        return False  # a button of no network is stale: its handler says so
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None or chat.type != "private":
        return False
    text = message.text or ""
    if not text.startswith("/"):
        return bool(text)
    from handlers.commands import COMMANDS  # the table names the handlers, this among them

    command = text.split()[0][1:].partition("@")[0].lower()
    known = any(command in row.names for row in COMMANDS)
    return known and command not in NEEDS_NO_NETWORK
