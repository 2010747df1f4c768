"""The model's shared state: stores, Telegram-shaped serialisation, update queue and waiting."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable
from typing import Any, TypeVar

from localapi.errors import too_many_requests
from localapi.records import (
    ADMIN_RIGHTS,
    ANONYMOUS_ADMIN_ID,
    RESTRICTED_PERMISSIONS,
    SERVICE_USERS,
    CallbackRec,
    CallRecord,
    ChatRec,
    Delivery,
    DocumentRec,
    LogEntry,
    MessageRec,
    PollRec,
    UpdateRec,
    UserRec,
)

T = TypeVar("T")

ALL_UPDATE_KINDS = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "message_reaction",
    "message_reaction_count",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "purchased_paid_media",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
)
# What getUpdates delivers unless allowed_updates asks for more.
DEFAULT_ALLOWED_UPDATES = frozenset(ALL_UPDATE_KINDS) - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
    "chat_boost",
    "removed_chat_boost",
}
SERVICE_FIELDS = (
    "new_chat_members",
    "left_chat_member",
    "migrate_to_chat_id",
    "migrate_from_chat_id",
    "group_chat_created",
    "supergroup_chat_created",
    "pinned_message",
)


def member_dict(
    user: dict[str, Any], status: str, rights: dict[str, bool] | None = None
) -> dict[str, Any]:
    """A ChatMember object with every field PTB 22.8 requires for that status."""
    rights = rights or {}
    if status == "creator":
        return {"status": "creator", "user": user, "is_anonymous": False}
    if status == "administrator":
        return {
            "status": "administrator",
            "user": user,
            "can_be_edited": False,
            "is_anonymous": False,
            **{right: rights.get(right, True) for right in ADMIN_RIGHTS},
        }
    if status == "restricted":
        return {
            "status": "restricted",
            "user": user,
            "is_member": True,
            "until_date": 0,
            **{permission: rights.get(permission, False) for permission in RESTRICTED_PERMISSIONS},
        }
    if status == "kicked":
        return {"status": "kicked", "user": user, "until_date": 0}
    return {"status": status, "user": user}


class _Signal:
    """Wakes everyone waiting on it, once per set()."""

    def __init__(self) -> None:
        self._waiters: list[asyncio.Future[None]] = []

    def set(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait(self, seconds: float) -> None:
        """Until the next set(), or `seconds` at most. A bare future and one timer: a long
        poll waits here once for nearly every update."""
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        self._waiters.append(waiter)
        timer = loop.call_later(max(seconds, 0.0), _time_up, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            with contextlib.suppress(ValueError):  # still listed if the time ran out
                self._waiters.remove(waiter)


def _time_up(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class ModelState:
    """Stores and helpers shared by the Bot API methods and the test-side injection API."""

    def __init__(
        self,
        *,
        token: str = "123456789:TEST-wiq-local",
        bot_username: str = "wiq_test_bot",
        bot_name: str = "WiQ",
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.clock = clock
        self.wall_clock = wall_clock

        # Telegram's rules, each switchable by a test.
        self.privacy_mode = True
        self.enforce_private_403 = True
        self.group_limit_per_minute: int | None = 20
        self.callback_query_ttl: float | None = None  # seconds; None = queries never expire
        self.emit_poll_updates = True

        self.users: dict[int, UserRec] = {}
        self.chats: dict[int, ChatRec] = {}
        self.polls: dict[str, PollRec] = {}
        self.callback_queries: dict[str, CallbackRec] = {}
        self.documents: list[DocumentRec] = []
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.calls: list[CallRecord] = []
        # Called with every call record as it is made (a benchmark counting answers).
        self.call_listeners: list[Callable[[CallRecord], None]] = []
        self.log: list[LogEntry] = []
        self.allowed_updates: frozenset[str] = DEFAULT_ALLOWED_UPDATES
        # The webhook (localapi.webhook): where updates are posted while one is set.
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.webhook_max_connections = 40
        self.webhook_last_error_date: int | None = None
        self.webhook_last_error_message: str | None = None
        self.webhook_deliveries: list[Delivery] = []
        self._webhook_task: asyncio.Task[None] | None = None

        self._updates: list[UpdateRec] = []
        self._next_update_id = 1
        self._seq = 0
        self._counter = 0
        self._poll_generation = 0
        self._change = _Signal()  # anything changed
        self._new_updates = _Signal()  # an update was queued, or a newer getUpdates came

    # ------------------------------------------------------------ identity and time

    def bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_name,
            "username": self.bot_username,
        }

    def now_date(self) -> int:
        return int(self.wall_clock())

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _next_id(self) -> int:
        self._counter += 1
        return self._counter

    # ------------------------------------------------------------ change notification

    def _notify(self) -> None:
        """Wake everything waiting for the model to change (test waits)."""
        self._change.set()

    def _notify_updates(self) -> None:
        """Wake the long polls too: they wait only for this, not for every change."""
        self._new_updates.set()
        self._change.set()

    async def _wait_change(self, seconds: float) -> None:
        await self._change.wait(seconds)

    async def wait_until(
        self,
        check: Callable[[], T | None],
        timeout: float = 5.0,  # noqa: ASYNC109 - a plain timeout reads best in tests
        what: str = "condition",
    ) -> T:
        """Return check()'s first truthy value, re-checking on every change, or TimeoutError."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = check()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                recent = ", ".join(f"{c.method}={c.status}" for c in self.calls[-8:])
                raise TimeoutError(f"{what} not reached within {timeout}s (last calls: {recent})")
            await self._wait_change(remaining)

    # ------------------------------------------------------------ lookups

    def user(self, user_id: int) -> UserRec:
        try:
            return self.users[user_id]
        except KeyError:
            raise ValueError(f"unknown user {user_id}; add_user() first") from None

    def chat(self, chat_id: int) -> ChatRec:
        try:
            return self.chats[chat_id]
        except KeyError:
            raise ValueError(f"unknown chat {chat_id}; add_group()/add_user() first") from None

    def user_dict(self, user_id: int) -> dict[str, Any]:
        if user_id == self.bot_id:
            return self.bot_user()
        if user_id in SERVICE_USERS and user_id not in self.users:
            return dict(SERVICE_USERS[user_id])
        return self.user(user_id).to_dict()

    def mention_lookup(self, user_id: int) -> dict[str, Any] | None:
        """The user a tg://user?id= link points to, if the bot can know them."""
        if user_id == self.bot_id or user_id in self.users:
            return self.user_dict(user_id)
        return None

    def display_name(self, user_id: int | None) -> str:
        if user_id is None:
            return "?"
        if user_id == self.bot_id:
            return "bot"
        if user_id == ANONYMOUS_ADMIN_ID:
            return "anonymous admin"
        if user_id in SERVICE_USERS and user_id not in self.users:
            return str(SERVICE_USERS[user_id]["first_name"])
        user = self.users.get(user_id)
        return user.first_name if user else str(user_id)

    def chat_dict(self, chat: ChatRec) -> dict[str, Any]:
        if chat.type == "private":
            user = self.users[chat.id].to_dict()
            data = {"id": chat.id, "type": "private", "first_name": user["first_name"]}
            for key in ("last_name", "username"):
                if key in user:
                    data[key] = user[key]
            return data
        data = {"id": chat.id, "type": chat.type, "title": chat.title}
        if chat.username:
            data["username"] = chat.username
        return data

    def member_of(self, chat: ChatRec, user_id: int, status: str | None = None) -> dict[str, Any]:
        """ChatMember of a user (or the bot) in a chat, current status unless one is given."""
        if user_id == self.bot_id:
            return member_dict(self.bot_user(), status or chat.bot_status, chat.bot_rights)
        if chat.type == "private":
            default = "member" if user_id == chat.id else "left"
        else:
            default = chat.members.get(user_id, "left")
        return member_dict(self.user_dict(user_id), status or default)

    def message_dict(self, msg: MessageRec, with_reply: bool = True) -> dict[str, Any]:
        chat = self.chats[msg.chat_id]
        data: dict[str, Any] = {
            "message_id": msg.message_id,
            "date": msg.date,
            "chat": self.chat_dict(chat),
        }
        if msg.from_id is not None:
            data["from"] = self.user_dict(msg.from_id)
        if msg.sender_chat_id is not None:
            data["sender_chat"] = self.chat_dict(self.chats[msg.sender_chat_id])
        if with_reply and msg.reply_to is not None:
            target = chat.messages.get(msg.reply_to)
            if target is not None and not target.deleted:
                # Telegram nests only one level of replies.
                data["reply_to_message"] = self.message_dict(target, with_reply=False)
        if msg.edit_date is not None:
            data["edit_date"] = msg.edit_date
        if msg.text is not None:
            data["text"] = msg.text
            if msg.entities:
                data["entities"] = [dict(e) for e in msg.entities]
        if msg.poll is not None:
            data["poll"] = msg.poll.to_dict()
        if msg.document is not None:
            data["document"] = msg.document.to_dict()
        if msg.caption is not None:
            data["caption"] = msg.caption
            if msg.caption_entities:
                data["caption_entities"] = [dict(e) for e in msg.caption_entities]
        if msg.reply_markup:
            data["reply_markup"] = msg.reply_markup
        for key, value in msg.service.items():
            data[key] = value
        data.update(msg.shown)
        return data

    def find_message(self, chat_id: int, message_id: int) -> MessageRec:
        message = self.chat(chat_id).messages.get(message_id)
        if message is None:
            raise ValueError(f"no message {message_id} in chat {chat_id}")
        return message

    # ------------------------------------------------------------ messages and updates

    def _new_message(self, chat: ChatRec, from_id: int | None, **fields: Any) -> MessageRec:
        msg = MessageRec(
            chat_id=chat.id,
            message_id=chat.next_message_id,
            date=self.now_date(),
            seq=self._next_seq(),
            from_id=from_id,
            **fields,
        )
        chat.next_message_id += 1
        chat.messages[msg.message_id] = msg
        self._notify()
        return msg

    def _enqueue(self, kind: str, payload: dict[str, Any], *, unasked: bool = False) -> UpdateRec:
        update = UpdateRec(self._next_update_id, kind, payload, unasked=unasked)
        self._next_update_id += 1
        self._updates.append(update)
        self._notify_updates()
        return update

    def _deliverable(self, limit: int) -> list[UpdateRec]:
        """The next updates to hand over (getUpdates, the webhook). Updates of kinds the bot
        did not ask for are dropped, as Telegram never stores them (but those created before
        it asked: Telegram may still send them)."""
        self._updates = [u for u in self._updates if u.kind in self.allowed_updates or u.unasked]
        return self._updates[:limit]

    def _addressed_command(self, msg: MessageRec) -> bool | None:
        """True/False if the text starts with a command for this/another bot, None if none."""
        if not msg.text:
            return None
        for entity in msg.entities:
            if entity["type"] == "bot_command" and entity["offset"] == 0:
                command = msg.text[: entity["length"]]
                target = command.partition("@")[2]
                return not target or target.lower() == self.bot_username.lower()
        return None

    def _mentions_bot(self, msg: MessageRec) -> bool:
        for entity in msg.entities:
            if entity["type"] == "text_mention" and entity["user"]["id"] == self.bot_id:
                return True
            if entity["type"] == "mention" and msg.text:
                # Entities count UTF-16 units; the username itself is ASCII.
                raw = msg.text.encode("utf-16-le")
                start, end = entity["offset"] * 2, (entity["offset"] + entity["length"]) * 2
                mention = raw[start:end].decode("utf-16-le", errors="replace")
                if mention[1:].lower() == self.bot_username.lower():
                    return True
        return False

    def _bot_sees(self, chat: ChatRec, msg: MessageRec) -> bool:
        """Whether Telegram would hand this message to the bot (privacy mode and friends)."""
        if chat.type == "private":
            return True
        if not chat.bot_is_member or msg.from_id == self.bot_id:
            return False
        sender = self.users.get(msg.from_id) if msg.from_id is not None else None
        if sender is not None and sender.is_bot:
            return False  # bots never see other bots' messages
        if msg.service or not self.privacy_mode or chat.bot_is_admin:
            return True
        if self._addressed_command(msg):
            return True
        if msg.reply_to is not None:
            target = chat.messages.get(msg.reply_to)
            if target is not None and target.by_bot:
                return True
        return self._mentions_bot(msg)

    def _deliver(self, chat: ChatRec, msg: MessageRec, kind: str = "message") -> bool:
        if not self._bot_sees(chat, msg):
            return False
        self._enqueue(kind, self.message_dict(msg))
        return True

    def _log(self, chat_id: int | None, line: str) -> None:
        self.log.append(LogEntry(self._next_seq(), chat_id, line))

    def _log_message(self, msg: MessageRec, author: str, line: str) -> None:
        """Log "author...: body" so the transcript can show message ids on request."""
        entry = LogEntry(self._next_seq(), msg.chat_id, author + line, msg.message_id, len(author))
        self.log.append(entry)

    # ------------------------------------------------------------ flood control

    def _flood_check(self, chat: ChatRec) -> None:
        """Telegram's ~20 messages per minute per group, as a rolling 60 s window."""
        limit = self.group_limit_per_minute
        if limit is None or not chat.is_group:
            return
        now = self.clock()
        window = chat.send_times
        while window and window[0] <= now - 60:
            window.popleft()
        if len(window) >= limit:
            raise too_many_requests(max(1, math.ceil(window[0] + 60 - now)))

    def _flood_record(self, chat: ChatRec) -> None:
        if not chat.is_group:
            return
        now = self.clock()
        chat.send_times.append(now)
        while chat.send_times and chat.send_times[0] <= now - 60:
            chat.send_times.popleft()
