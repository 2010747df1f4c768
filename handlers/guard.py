"""Who the bot answers (SPEC §1, "Who the bot answers"). Before any other handler, every
update that asks the bot for something without a person behind it is turned away, so that no
handler ever runs for one: a channel's post, a linked channel's post forwarded into its group,
a message with no sender or from a bot (or from one of Telegram's stand-ins:
GroupAnonymousBot, Channel_Bot, the service account 777000), a press, a poll answer or a join
request from anyone who is not a person, an edit (a command runs once), any kind of update the
bot did not ask for. Such an update changes nothing and gets no answer — but a person writing
one of this bot's commands as the group (an anonymous admin) or as a channel is told to write
under their own name, once in a while per chat. (An update no Telegram could send, with a
number beyond 64 bits, never gets this far: the inbox checks the JSON it came as and skips
it, bot.telegram_side.inbox.)

What is a fact about a chat, not a request, passes whoever caused it: membership changes
(chat_member, my_chat_member), a poll's state, a group's upgrade to a supergroup."""

from __future__ import annotations

from enum import Enum

from telegram import Chat, Message, Update, User
from telegram.ext import ApplicationHandlerStop, CommandHandler

from handlers.commands import COMMANDS
from handlers.common import Context, deployment_of, reply

# Telegram's stand-ins, none of them a person: the author shown for an anonymous admin's
# messages, for messages sent as a channel, and for a linked channel's posts in its group.
GROUP_ANONYMOUS_BOT = 1087968824
CHANNEL_BOT = 136817688
TELEGRAM_SERVICE = 777000
STAND_INS = frozenset({GROUP_ANONYMOUS_BOT, CHANNEL_BOT, TELEGRAM_SERVICE})

# How long after telling a chat "write under your own name" the bot stays quiet there, so
# that someone trying command after command does not spend the group's budget on it.
TELL_AGAIN_AFTER = 600.0  # seconds
_TOLD_KEY = "guard.told"  # bot_data: (chat id, sender chat id) -> when the chat was told


class Sender(Enum):
    """Who is behind an update that asks the bot for something."""

    PERSON = "person"
    AS_GROUP = "as_group"  # an anonymous admin: sender_chat is the group itself
    AS_CHANNEL = "as_channel"  # someone writing in a group as a channel of theirs
    NOBODY = "nobody"  # a channel, a bot, a stand-in, or no sender at all


async def guard(update: Update, context: Context) -> None:
    """The first handler of all: lets a person's update and a fact about a chat pass;
    turns every other one away (ApplicationHandlerStop: no later handler sees it)."""
    if is_fact(update):
        return
    who = sender_of(update)
    if who is Sender.PERSON:
        return
    if who is not Sender.NOBODY and _is_our_command(update):
        await _tell_once(update, context, who)
    raise ApplicationHandlerStop


def is_fact(update: Update) -> bool:
    """A membership change, a poll's new state, a group's upgrade: handled whoever made it."""
    if update.chat_member or update.my_chat_member or update.poll:
        return True
    message = update.message
    return message is not None and bool(message.migrate_to_chat_id or message.migrate_from_chat_id)


def sender_of(update: Update) -> Sender:
    """Who asks: a person, an anonymous admin, someone writing as a channel, or nobody. An
    edit of a message or of a channel post is nobody's request (a command runs once)."""
    if update.message is not None:
        return _sender_of_message(update.message)
    if update.callback_query is not None:
        return _person(update.callback_query.from_user)
    if update.poll_answer is not None:
        return _person(update.poll_answer.user)  # None: answered on behalf of a chat
    if update.chat_join_request is not None:
        return _person(update.chat_join_request.from_user)
    return Sender.NOBODY  # edits, channel posts, and every kind the bot did not ask for


def _sender_of_message(message: Message) -> Sender:
    if message.chat.type == Chat.CHANNEL:
        return Sender.NOBODY
    sender_chat = message.sender_chat
    if sender_chat is not None:
        if message.is_automatic_forward:
            return Sender.NOBODY  # a linked channel's post, not anyone writing here
        if sender_chat.id == message.chat.id:
            return Sender.AS_GROUP
        return Sender.AS_CHANNEL
    return _person(message.from_user)


def _person(user: User | None) -> Sender:
    if user is None or user.is_bot or user.id in STAND_INS:
        return Sender.NOBODY
    return Sender.PERSON


# The commands of the command table, matched as the command handlers match them: by any of
# their names, addressed to no bot or to this one (never another bot's command in the chat).
async def _never_called(update: Update, context: Context) -> None:
    """The matcher's callback: the guard only asks it whether an update is one of ours."""


_OUR_COMMANDS: CommandHandler[Context, None] = CommandHandler(
    [name for command in COMMANDS for name in command.names], _never_called
)


def _is_our_command(update: Update) -> bool:
    return bool(_OUR_COMMANDS.check_update(update))


async def _tell_once(update: Update, context: Context, who: Sender) -> None:
    """Ask the person behind the group or channel to write under their own name — unless
    this chat was told so a short while ago."""
    message = update.message
    assert message is not None and message.sender_chat is not None
    clock = deployment_of(context).first().clock
    told: dict[tuple[int, int], float] = context.bot_data.setdefault(_TOLD_KEY, {})
    key = (message.chat.id, message.sender_chat.id)
    now = clock.monotonic()
    last = told.get(key)
    if last is not None and now - last < TELL_AGAIN_AFTER:
        return
    told[key] = now
    if who is Sender.AS_GROUP:
        await reply(update, context, "error.anonymous_admin")
    else:
        title = message.sender_chat.title or message.sender_chat.username or ""
        await reply(update, context, "error.as_channel", channel=title)
