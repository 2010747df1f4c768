"""What people do in the fake Telegram: write, tap buttons, vote, join; each becomes an Update."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from localapi.membership import MembershipMixin
from localapi.records import (
    ADMIN_RIGHTS,
    ANONYMOUS_ADMIN_ID,
    MEMBER_STATUSES,
    CallbackRec,
    ChatRec,
    JoinRequestRec,
    UserRec,
)
from localapi.textparse import detect_entities, sort_entities, utf16_len
from localapi.transcript import option_names

GROUP_TYPES = ("group", "supergroup")
BOT_STATUSES = ("member", "administrator", "left", "kicked")


class UserActions(MembershipMixin):
    """The injection API tests and the demo use to play the humans' side."""

    # ------------------------------------------------------------ setting the scene

    def add_user(
        self,
        user_id: int,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "de",
        is_bot: bool = False,
    ) -> dict[str, Any]:
        """A Telegram account (and its private chat with the bot, unused until /start)."""
        if user_id <= 0 or user_id == self.bot_id:
            raise ValueError(f"user ids are positive and not the bot's: {user_id}")
        user = UserRec(user_id, first_name, last_name, username, language_code, is_bot)
        self.users[user_id] = user
        self.chats[user_id] = ChatRec(
            id=user_id,
            type="private",
            title=None,
            label=f"DM {first_name}",
            members={user_id: "member"},
            bot_was_member=True,
        )
        return user.to_dict()

    def add_group(
        self,
        chat_id: int,
        title: str,
        type: str = "supergroup",  # Telegram's field name, as in the brief's signature
        members: Iterable[int] = (),
        admins: Iterable[int] = (),
        creator: int | None = None,
        bot_status: str = "member",
        bot_can_invite: bool = True,
        *,
        username: str | None = None,
        label: str | None = None,
    ) -> dict[str, Any]:
        """A group as it already exists; no updates (use set_bot_rights to add the bot live)."""
        if type not in GROUP_TYPES:
            raise ValueError(f"type must be one of {GROUP_TYPES}")
        looks_super = str(chat_id).startswith("-100")
        if chat_id >= 0 or (type == "supergroup" and not looks_super):
            raise ValueError("group ids are negative; supergroup ids start with -100")
        if type == "group" and looks_super and chat_id <= -(10**12):
            raise ValueError(f"{chat_id} is a supergroup id; basic groups have short ids")
        if bot_status not in BOT_STATUSES:
            raise ValueError(f"bot_status must be one of {BOT_STATUSES}")
        chat = ChatRec(
            id=chat_id,
            type=type,
            title=title,
            label=label or title,
            username=username,
            bot_status=bot_status,
            bot_was_member=bot_status in ("member", "administrator", "kicked"),
        )
        if bot_status == "administrator":
            chat.bot_rights = {
                **dict.fromkeys(ADMIN_RIGHTS, True),
                "can_invite_users": bot_can_invite,
            }
        for user_id in members:
            chat.members[self.user(user_id).id] = "member"
        for user_id in admins:
            chat.members[self.user(user_id).id] = "administrator"
        if creator is not None:
            chat.members[self.user(creator).id] = "creator"
        self.chats[chat_id] = chat
        return self.chat_dict(chat)

    def set_bot_rights(
        self,
        chat_id: int,
        status: str,
        can_invite_users: bool = True,
        *,
        by: int | None = None,
    ) -> dict[str, Any]:
        """Add, promote, demote or remove the bot; emits my_chat_member (ChatMemberUpdated)."""
        if status not in BOT_STATUSES:
            raise ValueError(f"status must be one of {BOT_STATUSES}")
        chat = self._live_group(chat_id)
        actor = by if by is not None else self.default_actor(chat)
        return self._set_bot_status(chat, status, actor, can_invite_users)

    # ------------------------------------------------------------ private chats

    def start_bot(self, user_id: int, payload: str | None = None) -> dict[str, Any]:
        """The user opens the bot and taps Start (a deep link adds the payload)."""
        text = f"/start {payload}" if payload else "/start"
        return self.send_message(user_id, user_id, text)

    def block_bot(self, user_id: int) -> dict[str, Any]:
        """The user blocks the bot: my_chat_member, then 403 on every send."""
        user = self.user(user_id)
        chat = self.chats[user_id]
        old = self.member_of(chat, self.bot_id)
        user.blocked = True
        update = self._member_update(
            chat, old, self.member_of(chat, self.bot_id, "kicked"), user_id
        )
        self._enqueue("my_chat_member", update)
        self._log(chat.id, f"* {user.first_name} blocked the bot")
        return update

    def _unblock(self, user: UserRec) -> None:
        chat = self.chats[user.id]
        old = self.member_of(chat, self.bot_id, "kicked")
        user.blocked = False
        update = self._member_update(chat, old, self.member_of(chat, self.bot_id), user.id)
        self._enqueue("my_chat_member", update)

    # ------------------------------------------------------------ messages

    def send_message(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        reply_to: int | None = None,
        text_mentions: Sequence[tuple[int, int, int]] = (),
        entities: Sequence[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """A user writes; Telegram finds /commands and @mentions. Private chat id = user id."""
        chat = self.chat(chat_id)
        user = self.user(user_id)
        if chat.migrated_to is not None:
            raise ValueError(f"{chat_id} was upgraded to {chat.migrated_to}")
        if chat.type == "private":
            if chat_id != user_id:
                raise ValueError("in a private chat only its user writes (chat id = user id)")
            if user.blocked:
                self._unblock(user)
            user.started = True
        elif not chat.is_member(user_id):
            raise ValueError(f"{user.first_name} is not a member of {chat.label}")
        explicit = [
            {"type": "text_mention", "offset": o, "length": n, "user": self.user_dict(uid)}
            for uid, o, n in text_mentions
        ] + [dict(e) for e in entities or ()]
        if any(e["offset"] + e["length"] > utf16_len(text) for e in explicit):
            raise ValueError("an entity reaches past the end of the text")
        all_entities = sort_entities(explicit + detect_entities(text, explicit))
        if reply_to is not None and reply_to not in chat.messages:
            raise ValueError(f"no message {reply_to} in chat {chat_id} to reply to")
        msg = self._new_message(chat, user_id, text=text, entities=all_entities, reply_to=reply_to)
        reply = f" (↩ #{reply_to})" if reply_to is not None else ""
        self._log_message(msg, user.first_name, f"{reply}: {text}")
        self._deliver(chat, msg)
        return self.message_dict(msg)

    def send_anonymous_admin_message(self, chat_id: int, text: str) -> dict[str, Any]:
        """An admin posting as the group: from GroupAnonymousBot, sender_chat = the group."""
        chat = self._live_group(chat_id)
        msg = self._new_message(
            chat,
            ANONYMOUS_ADMIN_ID,
            sender_chat_id=chat.id,
            text=text,
            entities=sort_entities(detect_entities(text, [])),
        )
        self._log_message(msg, f"{chat.title}", f" (anonymous admin): {text}")
        self._deliver(chat, msg)
        return self.message_dict(msg)

    def edit_user_message(self, chat_id: int, message_id: int, text: str) -> dict[str, Any]:
        """A user edits their message; the bot gets edited_message if it saw the original."""
        chat = self.chat(chat_id)
        msg = self.find_message(chat_id, message_id)
        if msg.by_bot or msg.from_id not in self.users:
            raise ValueError("only a user's own message can be edited this way")
        msg.text, msg.entities = text, sort_entities(detect_entities(text, []))
        msg.edit_date = self.now_date()
        msg.edit_count += 1
        self._log(chat.id, f"{self.display_name(msg.from_id)} ✎ edited #{message_id}: {text}")
        self._deliver(chat, msg, kind="edited_message")
        return self.message_dict(msg)

    # ------------------------------------------------------------ buttons

    def press_button(
        self,
        chat_id: int,
        message_id: int,
        user_id: int,
        callback_data: str | None = None,
        button_text: str | None = None,
        *,
        forge: bool = False,
    ) -> str:
        """Tap a button of the message's CURRENT keyboard; returns the callback query id."""
        chat = self.chat(chat_id)
        user = self.user(user_id)
        msg = self.find_message(chat_id, message_id)
        if msg.deleted:
            raise ValueError(f"message {message_id} was deleted")
        if chat.is_group and not chat.is_member(user_id):
            raise ValueError(f"{user.first_name} is not a member of {chat.label}")
        if forge:
            data, label = callback_data, button_text or callback_data or "?"
        else:
            if callback_data is None and button_text is None:
                raise ValueError("say which button: callback_data or button_text")
            button = msg.find_button(button_text, callback_data)
            if button is None or "callback_data" not in button:
                raise ValueError(
                    f"message {message_id} has no such callback button now; "
                    f"its buttons: {msg.button_texts}"
                )
            data, label = button["callback_data"], button["text"]
        query = CallbackRec(
            id=str(4_300_000_000_000_000 + self._next_id()),
            user_id=user_id,
            chat_id=chat_id,
            message_id=message_id,
            data=data,
            created_at=self.clock(),
        )
        self.callback_queries[query.id] = query
        payload: dict[str, Any] = {
            "id": query.id,
            "from": user.to_dict(),
            "message": self.message_dict(msg),
            "chat_instance": str(abs(chat_id) * 31 + 7),
        }
        if data is not None:
            payload["data"] = data
        self._log(chat.id, f"{user.first_name} ▸ [{label}]")
        self._enqueue("callback_query", payload)
        return query.id

    async def wait_callback_answer(
        self,
        query_id: str,
        timeout: float = 5.0,  # noqa: ASYNC109 - a plain timeout reads best in tests
    ) -> dict[str, Any]:
        """The bot's answerCallbackQuery for this tap: text, show_alert, url, cache_time."""
        query = self.callback_queries[query_id]
        return await self.wait_until(
            lambda: query.answer, timeout, f"answer to callback query {query_id}"
        )

    # ------------------------------------------------------------ polls

    def answer_poll(self, poll_id: str, user_id: int, option_ids: Sequence[int]) -> dict[str, Any]:
        """Vote (or retract with []); non-anonymous polls send poll_answer to the bot."""
        poll = self.polls.get(poll_id)
        if poll is None:
            raise ValueError(f"unknown poll {poll_id}")
        if poll.is_closed:
            raise ValueError(f"poll {poll_id} is closed")
        chat = self.chats[poll.chat_id]
        user = self.user(user_id)
        if chat.is_group and not chat.is_member(user_id):
            raise ValueError(f"{user.first_name} is not a member of {chat.label}")
        chosen = sorted(set(option_ids))
        if any(not 0 <= index < len(poll.options) for index in chosen):
            raise ValueError(f"option ids must be in 0..{len(poll.options) - 1}")
        if len(chosen) > 1 and not poll.allows_multiple_answers:
            raise ValueError("this poll allows only one answer")
        previous = poll.answers.get(user_id)
        if previous is not None and not poll.allows_revoting:
            raise ValueError("this poll does not allow changing a vote")
        if not chosen:
            if previous is None:
                raise ValueError(f"{user.first_name} has no vote to retract")
            del poll.answers[user_id]
            self._log(chat.id, f"{user.first_name} retracted the vote in poll #{poll.message_id}")
        else:
            poll.answers[user_id] = chosen
            shown = option_names(poll, chosen)
            self._log(chat.id, f"{user.first_name} ☑ poll #{poll.message_id}: {shown}")
        answer = {
            "poll_id": poll.id,
            "user": user.to_dict(),
            "option_ids": chosen,
            "option_persistent_ids": [poll.options[index].persistent_id for index in chosen],
        }
        if not poll.is_anonymous:
            self._enqueue("poll_answer", answer)
        if self.emit_poll_updates:
            self._enqueue("poll", poll.to_dict())
        return answer

    # ------------------------------------------------------------ membership

    def member_joins(
        self, chat_id: int, user_id: int, invited_by: int | None = None
    ) -> dict[str, Any]:
        """Join (or be added): new_chat_members message + chat_member (bot admins only)."""
        chat = self._live_group(chat_id)
        self.user(user_id)
        if chat.is_member(user_id):
            raise ValueError(f"{self.display_name(user_id)} is already a member")
        actor = invited_by if invited_by is not None else user_id
        return self._join(chat, user_id, actor)

    def member_leaves(
        self, chat_id: int, user_id: int, removed_by: int | None = None
    ) -> dict[str, Any]:
        """Leave (or be removed, which bans in supergroups): left_chat_member + chat_member."""
        chat = self._live_group(chat_id)
        if not chat.is_member(user_id):
            raise ValueError(f"{self.display_name(user_id)} is not a member")
        status = "kicked" if removed_by is not None and chat.type == "supergroup" else "left"
        actor = removed_by if removed_by is not None else user_id
        return self._leave(chat, user_id, actor, status)

    def promote(self, chat_id: int, user_id: int, by: int | None = None) -> dict[str, Any]:
        """Make a member an administrator (chat_member update where the bot is admin)."""
        return self.set_member_status(chat_id, user_id, "administrator", by=by)

    def set_member_status(
        self, chat_id: int, user_id: int, status: str, by: int | None = None
    ) -> dict[str, Any]:
        """Any status change (creator/administrator/member/restricted/left/kicked), no message."""
        if status not in (*MEMBER_STATUSES, "left", "kicked"):
            raise ValueError(f"unknown status {status}")
        chat = self._live_group(chat_id)
        self.user(user_id)
        actor = by if by is not None else self.default_actor(chat)
        return self._change_member(chat, user_id, status, actor)

    def request_join(
        self,
        chat_id: int,
        user_id: int,
        invite_link: str | None = None,
        bio: str | None = None,
    ) -> dict[str, Any]:
        """Ask to join; the bot hears of it (chat_join_request) if it may approve."""
        chat = self._live_group(chat_id)
        user = self.user(user_id)
        if chat.is_member(user_id):
            raise ValueError(f"{user.first_name} is already a member")
        if invite_link is not None:
            link = chat.invite_links.get(invite_link)
            if link is None or link.is_revoked or not link.creates_join_request:
                raise ValueError(f"{invite_link} is not a live join-request link of {chat.label}")
        request = JoinRequestRec(chat.id, user_id, self.now_date(), self.clock(), invite_link, bio)
        chat.join_requests[user_id] = request
        payload: dict[str, Any] = {
            "chat": self.chat_dict(chat),
            "from": user.to_dict(),
            "user_chat_id": user_id,
            "date": request.date,
        }
        if bio:
            payload["bio"] = bio
        link_payload = self._link_payload(chat, invite_link)
        if link_payload is not None:
            payload["invite_link"] = link_payload
        if chat.bot_is_admin and chat.bot_rights.get("can_invite_users", True):
            self._enqueue("chat_join_request", payload)
        self._log(chat.id, f"* {user.first_name} asks to join")
        return payload

    def migrate_to_supergroup(self, chat_id: int) -> int:
        """Upgrade a basic group; members, admins and the bot move to the new id."""
        old = self._live_group(chat_id)
        if old.type != "group":
            raise ValueError(f"{chat_id} is already a supergroup")
        new_id = -(10**12 + abs(chat_id))
        while new_id in self.chats:
            new_id -= 1
        new = ChatRec(
            id=new_id,
            type="supergroup",
            title=old.title,
            label=old.label,
            members=dict(old.members),
            bot_status=old.bot_status,
            bot_rights=dict(old.bot_rights),
            bot_was_member=old.bot_was_member,
        )
        self.chats[new_id] = new
        actor = self.default_actor(old)
        to_msg = self._new_message(old, actor, service={"migrate_to_chat_id": new_id})
        self._deliver(old, to_msg)
        old.migrated_to = new_id
        from_msg = self._new_message(new, actor, service={"migrate_from_chat_id": old.id})
        self._deliver(new, from_msg)
        self._log(old.id, f"* group upgraded to supergroup {new_id}")
        return new_id
