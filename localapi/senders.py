"""Updates no person sends as themselves: a channel's posts, messages sent on behalf of a chat,
automatic forwards from a linked channel — and, for tests of what the bot does with what it did
not expect, any update shape at all (`inject_update`, `send_odd_message`, `press_odd`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from localapi.membership import MembershipMixin
from localapi.records import (
    ADMIN_RIGHTS,
    CHANNEL_BOT_ID,
    TELEGRAM_ID,
    CallbackRec,
    ChatRec,
)
from localapi.textparse import detect_entities, sort_entities


class ChatSenders(MembershipMixin):
    """The injections for updates without a person behind them, or of an odd shape."""

    def add_channel(
        self,
        chat_id: int,
        title: str,
        admins: Sequence[int] = (),
        *,
        username: str | None = None,
        bot_status: str = "administrator",
    ) -> dict[str, Any]:
        """A channel (a bot is in one only as its admin). Its posts are `channel_post`
        updates, which a bot gets only if its allowed_updates ask for them."""
        if not str(chat_id).startswith("-100"):
            raise ValueError("channel ids start with -100")
        chat = ChatRec(
            id=chat_id,
            type="channel",
            title=title,
            label=title,
            username=username,
            bot_status=bot_status,
            bot_was_member=bot_status != "left",
        )
        if bot_status == "administrator":
            chat.bot_rights = dict.fromkeys(ADMIN_RIGHTS, True)
        for user_id in admins:
            chat.members[self.user(user_id).id] = "administrator"
        self.chats[chat_id] = chat
        return self.chat_dict(chat)

    def post_in_channel(
        self, channel_id: int, text: str, *, unasked: bool = False
    ) -> dict[str, Any]:
        """A post in a channel: no `from`, `sender_chat` the channel itself. `unasked`:
        delivered even if the bot's allowed_updates leave `channel_post` out — as Telegram
        does with updates created before the getUpdates call that set them."""
        chat = self.chat(channel_id)
        if chat.type != "channel":
            raise ValueError(f"{channel_id} is not a channel")
        msg = self._new_message(
            chat, None, sender_chat_id=chat.id, text=text, entities=self._entities(text)
        )
        self._log_message(msg, f"{chat.title}", f" (channel post): {text}")
        if chat.bot_is_member:
            self._enqueue("channel_post", self.message_dict(msg), unasked=unasked)
        return self.message_dict(msg)

    def send_on_behalf_of_channel(
        self, chat_id: int, channel_id: int, text: str, *, reply_to: int | None = None
    ) -> dict[str, Any]:
        """Someone writes in a group as a channel of theirs: `from` is Telegram's placeholder
        Channel_Bot, `sender_chat` the channel; the person is not named anywhere."""
        return self._as_chat(chat_id, CHANNEL_BOT_ID, channel_id, text, reply_to=reply_to)

    def forward_from_linked_channel(
        self, group_id: int, channel_id: int, text: str
    ) -> dict[str, Any]:
        """A linked channel's post arrives in its discussion group: `from` is Telegram's
        service account (777000, not a bot), `sender_chat` the channel."""
        channel = self.chat(channel_id)
        return self._as_chat(
            group_id,
            TELEGRAM_ID,
            channel_id,
            text,
            shown={
                "is_automatic_forward": True,
                "forward_origin": {
                    "type": "channel",
                    "chat": self.chat_dict(channel),
                    "message_id": channel.next_message_id,
                    "date": self.now_date(),
                },
            },
        )

    def _as_chat(
        self,
        chat_id: int,
        from_id: int,
        sender_chat_id: int,
        text: str,
        *,
        reply_to: int | None = None,
        shown: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        chat = self._live_group(chat_id)
        sender = self.chat(sender_chat_id)
        if reply_to is not None and reply_to not in chat.messages:
            raise ValueError(f"no message {reply_to} in chat {chat_id} to reply to")
        msg = self._new_message(
            chat,
            from_id,
            sender_chat_id=sender.id,
            text=text,
            entities=self._entities(text),
            reply_to=reply_to,
            shown=dict(shown or {}),
        )
        self._log_message(msg, f"{sender.title}", f" (as the chat): {text}")
        self._deliver(chat, msg)
        return self.message_dict(msg)

    # ------------------------------------------------------------ shapes, as given

    def inject_update(self, kind: str, payload: dict[str, Any], *, unasked: bool = False) -> int:
        """Queue an update exactly as given (its kind and its object); returns its update_id.
        `unasked` as in `post_in_channel`."""
        return self._enqueue(kind, payload, unasked=unasked).update_id

    def send_odd_message(
        self,
        chat_id: int,
        text: str | None,
        *,
        from_user: dict[str, Any] | None,
        sender_chat_id: int | None = None,
        kind: str = "message",
        reply_to: int | None = None,
        fields: dict[str, Any] | None = None,
        unasked: bool = False,
    ) -> dict[str, Any]:
        """A message whose `from` is as given (None: no `from` at all; another bot, whose
        messages Telegram would not show the bot), with the entities Telegram would find in
        `text` (None: no text) and further `fields` as given (they replace what the model
        made: forged entities, a caption, a reply to a message it never saw ...), delivered
        as is — and stored in the chat, so that the bot can reply to it."""
        chat = self.chat(chat_id)
        if chat.type == "private" and (from_user or {}).get("id") == chat.id:
            self.users[chat.id].started = True  # writing to the bot starts it
        msg = self._new_message(
            chat,
            None,
            sender_chat_id=sender_chat_id,
            text=text,
            entities=self._entities(text or ""),
            reply_to=reply_to,
        )
        payload = self.message_dict(msg)
        if from_user is not None:
            payload["from"] = dict(from_user)
        payload.update(fields or {})
        author = str((from_user or {}).get("first_name", "?"))
        self._log_message(msg, author, f" (odd): {(text or '')[:80]}")
        self._enqueue(kind, payload, unasked=unasked)
        return payload

    def press_odd(
        self,
        user: dict[str, Any],
        data: str | None,
        *,
        chat_id: int | None = None,
        message_id: int | None = None,
        inline_message_id: str | None = None,
        message: dict[str, Any] | None = None,
    ) -> str:
        """A callback query as given: `from` any user dict (a bot, an unknown person), on a
        message of the model (`chat_id`, `message_id`), on a `message` dict as given (an
        inaccessible one: date 0), or on an inline message (no `message` at all). Its answer
        is recorded as for `press_button`; returns the query id."""
        query = CallbackRec(
            id=str(4_400_000_000_000_000 + self._next_id()),
            user_id=int(user.get("id", 0)),
            chat_id=chat_id,
            message_id=message_id,
            data=data,
            created_at=self.clock(),
        )
        self.callback_queries[query.id] = query
        payload: dict[str, Any] = {
            "id": query.id,
            "from": dict(user),
            "chat_instance": str(abs(chat_id or 1) * 31 + 7),
        }
        if message is not None:
            payload["message"] = message
        elif chat_id is not None and message_id is not None:
            payload["message"] = self.message_dict(self.find_message(chat_id, message_id))
        if inline_message_id is not None:
            payload["inline_message_id"] = inline_message_id
        if data is not None:
            payload["data"] = data
        self._enqueue("callback_query", payload)
        return query.id

    @staticmethod
    def _entities(text: str) -> list[dict[str, Any]]:
        return sort_entities(detect_entities(text, []))
