"""How a queued outbox item becomes a Bot API call, and Telegram's answer where it went: the
one place that knows Telegram's kwargs (parse mode, reply markup, replies, polls)."""

from __future__ import annotations

from typing import Any

from telegram import ChatInviteLink, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode

from bot.flows.port import Keyboard, Posted
from bot.telegram_side import callbacks
from bot.texts.render import shorten

Kwargs = dict[str, Any]

# The Bot API methods of the outbox's items (`bot_call`'s, as Telegram names them): the outbox
# retries these itself, from its table; every other call is made at once (`limiter.py`).
QUEUED_ENDPOINTS = frozenset(
    {
        "sendMessage",
        "editMessageText",
        "sendDocument",
        "sendPoll",
        "stopPoll",
        "approveChatJoinRequest",
        "declineChatJoinRequest",
        "createChatInviteLink",
    }
)
# The calls made at once (`limiter.py`), python-telegram-bot's own at start among them.
AT_ONCE_ENDPOINTS = frozenset(
    {
        "answerCallbackQuery",
        "getChatMember",
        "getChatAdministrators",
        "deleteMessage",
        "setMyCommands",
        "getMe",
        "deleteWebhook",
        "setWebhook",
        "getWebhookInfo",
    }
)
# The Bot API methods the bot calls, by which the metrics count (any other is `other`).
ENDPOINTS = QUEUED_ENDPOINTS | AT_ONCE_ENDPOINTS


def markup(keyboard: Keyboard | None) -> InlineKeyboardMarkup | None:
    """A keyboard as Telegram takes it, each payload in the one callback-data codec."""
    return _markup(keyboard_rows(keyboard))


def keyboard_rows(keyboard: Keyboard | None) -> list[list[list[str]]] | None:
    """A keyboard as stored with a queued item: label and encoded payload per button."""
    if keyboard is None:
        return None
    return [[[b.label, callbacks.encode(b.payload)] for b in row] for row in keyboard.rows]


def _markup(rows: list[list[list[str]]] | None) -> InlineKeyboardMarkup | None:
    if rows is None:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


def posted(result: object, chat_id: int) -> Posted | None:
    """Where a message went, from Telegram's answer, or the invite link Telegram made in the
    chat (None if the answer is neither)."""
    if isinstance(result, ChatInviteLink):
        return Posted(chat_id, 0, link=result.invite_link)
    if not isinstance(result, Message):
        return None
    poll_id = result.poll.id if result.poll is not None else None
    return Posted(result.chat_id, result.message_id, poll_id)


def _replying(kwargs: Kwargs, reply_to: int | None) -> Kwargs:
    if reply_to is not None:
        kwargs["reply_to_message_id"] = reply_to
        kwargs["allow_sending_without_reply"] = True
    return kwargs


def bot_call(
    kind: str, message: dict[str, Any], chat_id: int, document: bytes | None
) -> tuple[str, Kwargs]:
    """The Bot method and its arguments for a stored item of this kind."""
    if kind == "text":
        kwargs: Kwargs = {
            "chat_id": chat_id,
            "text": message["text"],
            "parse_mode": ParseMode.HTML,
            "link_preview_options": None,
        }
        if message.get("silent"):
            kwargs["disable_notification"] = True
        if message.get("keyboard") is not None:
            kwargs["reply_markup"] = _markup(message["keyboard"])
        return "send_message", _replying(kwargs, message.get("reply_to"))
    if kind == "edit":
        return "edit_message_text", {
            "chat_id": chat_id,
            "message_id": message["message_id"],
            "text": shorten(message["text"]),
            "parse_mode": ParseMode.HTML,
            "reply_markup": _markup(message.get("keyboard")),  # None removes the buttons
        }
    if kind == "document":
        kwargs = {
            "chat_id": chat_id,
            "document": document,
            "filename": message["filename"],
        }
        if message.get("caption") is not None:
            kwargs["caption"] = message["caption"]
            kwargs["parse_mode"] = ParseMode.HTML
        return "send_document", _replying(kwargs, message.get("reply_to"))
    if kind == "poll":
        kwargs = {
            "chat_id": chat_id,
            "question": message["question"],
            "options": list(message["options"]),
            "is_anonymous": False,
            "allows_multiple_answers": message["multiple_answers"],
            "api_kwargs": {"hide_results_until_closes": True},
        }
        return "send_poll", _replying(kwargs, message.get("reply_to"))
    if kind == "stop_poll":
        return "stop_poll", {"chat_id": chat_id, "message_id": message["message_id"]}
    if kind == "invite_link":
        return "create_chat_invite_link", {
            "chat_id": chat_id,
            "name": message["name"],
            "creates_join_request": True,
        }
    if kind in ("approve", "decline"):
        method = f"{kind}_chat_join_request"
        return method, {"chat_id": chat_id, "user_id": message["user_id"]}
    raise ValueError(f"unknown outbox item kind {kind!r}")
