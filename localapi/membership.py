"""Membership changes and the updates Telegram sends for them (chat_member, my_chat_member)."""

from __future__ import annotations

import hashlib
from typing import Any

from localapi.records import ADMIN_RIGHTS, ChatRec, InviteLinkRec
from localapi.state import ModelState

_STATUS_WORDS = {
    "creator": "is now the owner",
    "administrator": "is now admin",
    "member": "is now a member",
    "restricted": "is now restricted",
    "left": "left",
    "kicked": "was banned",
}


class MembershipMixin(ModelState):
    """Status changes of users and of the bot, shared by API methods and test injections."""

    def _live_group(self, chat_id: int) -> ChatRec:
        chat = self.chat(chat_id)
        if not chat.is_group:
            raise ValueError(f"{chat_id} is not a group")
        if chat.migrated_to is not None:
            raise ValueError(f"{chat_id} was upgraded to {chat.migrated_to}")
        return chat

    def default_actor(self, chat: ChatRec) -> int:
        """Who did it, when a test does not say: the owner, else an admin, else any member."""
        for wanted in ("creator", "administrator", "member"):
            for user_id, status in chat.members.items():
                if status == wanted:
                    return user_id
        return next(iter(self.users), self.bot_id)

    def link_dict(self, link: InviteLinkRec) -> dict[str, Any]:
        data: dict[str, Any] = {
            "invite_link": link.invite_link,
            "creator": self.user_dict(link.creator_id),
            "creates_join_request": link.creates_join_request,
            "is_primary": link.is_primary,
            "is_revoked": link.is_revoked,
        }
        for key in ("name", "expire_date", "member_limit"):
            value = getattr(link, key)
            if value is not None:
                data[key] = value
        if link.creates_join_request:
            chat = self.chats[link.chat_id]
            data["pending_join_request_count"] = sum(
                1
                for request in chat.join_requests.values()
                if request.status == "pending" and request.invite_link == link.invite_link
            )
        return data

    def _new_link(self, chat: ChatRec, creator_id: int, **fields: Any) -> InviteLinkRec:
        digest = hashlib.sha1(f"{chat.id}:{self._next_id()}".encode()).hexdigest()[:16]
        link = InviteLinkRec(f"https://t.me/+{digest}", chat.id, creator_id, **fields)
        chat.invite_links[link.invite_link] = link
        return link

    def _link_payload(self, chat: ChatRec, invite_link: str | None) -> dict[str, Any] | None:
        if invite_link is None:
            return None
        link = chat.invite_links.get(invite_link)
        if link is None:
            # A link made outside the bot (e.g. by an admin in the app).
            creator = self.default_actor(chat)
            link = InviteLinkRec(invite_link, chat.id, creator)
            chat.invite_links[invite_link] = link
        return self.link_dict(link)

    def _member_update(
        self, chat: ChatRec, old: dict[str, Any], new: dict[str, Any], actor_id: int
    ) -> dict[str, Any]:
        return {
            "chat": self.chat_dict(chat),
            "from": self.user_dict(actor_id),
            "date": self.now_date(),
            "old_chat_member": old,
            "new_chat_member": new,
        }

    def _change_member(
        self,
        chat: ChatRec,
        user_id: int,
        status: str,
        actor_id: int,
        *,
        invite_link: str | None = None,
        via_join_request: bool = False,
        log: bool = True,
    ) -> dict[str, Any]:
        """Set a user's status; chat_member goes out only where the bot is an admin."""
        old = self.member_of(chat, user_id)
        chat.members[user_id] = status
        update = self._member_update(chat, old, self.member_of(chat, user_id), actor_id)
        link = self._link_payload(chat, invite_link)
        if link is not None:
            update["invite_link"] = link
        if via_join_request:
            update["via_join_request"] = True
        if chat.bot_is_admin:
            self._enqueue("chat_member", update)
        if log:
            unbanned = old["status"] == "kicked" and status == "left"
            words = "was unbanned" if unbanned else _STATUS_WORDS[status]
            self._log(chat.id, f"* {self.display_name(user_id)} {words}")
        return update

    def _join(
        self,
        chat: ChatRec,
        user_id: int,
        actor_id: int,
        *,
        invite_link: str | None = None,
        via_join_request: bool = False,
    ) -> dict[str, Any]:
        update = self._change_member(
            chat,
            user_id,
            "member",
            actor_id,
            invite_link=invite_link,
            via_join_request=via_join_request,
            log=False,
        )
        service = {"new_chat_members": [self.user_dict(user_id)]}
        # An approved request shows up as the user joining by themselves.
        author = user_id if via_join_request else actor_id
        message = self._new_message(chat, author, service=service)
        self._deliver(chat, message)
        name = self.display_name(user_id)
        by = f" (added by {self.display_name(actor_id)})" if actor_id != user_id else ""
        self._log(chat.id, f"* {name} joined{by}")
        return update

    def _leave(self, chat: ChatRec, user_id: int, actor_id: int, status: str) -> dict[str, Any]:
        update = self._change_member(chat, user_id, status, actor_id, log=False)
        service = {"left_chat_member": self.user_dict(user_id)}
        message = self._new_message(chat, actor_id, service=service)
        self._deliver(chat, message)
        name = self.display_name(user_id)
        if actor_id == user_id:
            self._log(chat.id, f"* {name} left")
        else:
            self._log(chat.id, f"* {name} was removed by {self.display_name(actor_id)}")
        return update

    def _set_bot_status(
        self, chat: ChatRec, status: str, actor_id: int, can_invite_users: bool = True
    ) -> dict[str, Any]:
        """The bot's own status changes always reach it, as my_chat_member."""
        old = self.member_of(chat, self.bot_id)
        was_member = chat.bot_is_member
        chat.bot_status = status
        chat.bot_rights = (
            {**dict.fromkeys(ADMIN_RIGHTS, True), "can_invite_users": can_invite_users}
            if status == "administrator"
            else {}
        )
        if chat.bot_is_member:
            chat.bot_was_member = True
        update = self._member_update(chat, old, self.member_of(chat, self.bot_id), actor_id)
        self._enqueue("my_chat_member", update)
        if chat.is_group and not was_member and chat.bot_is_member:
            # Adding the bot also posts the usual "X added the bot" service message.
            service = {"new_chat_members": [self.bot_user()]}
            message = self._new_message(chat, actor_id, service=service)
            self._deliver(chat, message)
        self._log(chat.id, f"* bot {_STATUS_WORDS[status]}")
        return update
