"""Plain records of what the fake Telegram knows: users, chats, messages, polls, calls."""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

# The user Telegram shows as author of messages an admin posts anonymously in a group.
ANONYMOUS_ADMIN_ID = 1087968824
# The user Telegram shows as author of messages someone sends in a group as their channel.
CHANNEL_BOT_ID = 136817688
# Telegram's service account: the author of a linked channel's posts in its discussion group.
TELEGRAM_ID = 777000
# How Telegram shows these placeholders (none of them a person).
SERVICE_USERS: dict[int, dict[str, Any]] = {
    ANONYMOUS_ADMIN_ID: {
        "id": ANONYMOUS_ADMIN_ID,
        "is_bot": True,
        "first_name": "Group",
        "username": "GroupAnonymousBot",
    },
    CHANNEL_BOT_ID: {
        "id": CHANNEL_BOT_ID,
        "is_bot": True,
        "first_name": "Channel",
        "username": "Channel_Bot",
    },
    TELEGRAM_ID: {"id": TELEGRAM_ID, "is_bot": False, "first_name": "Telegram"},
}

MEMBER_STATUSES = ("creator", "administrator", "member", "restricted")
ADMIN_STATUSES = ("creator", "administrator")

# Every right an administrator can hold; all required by PTB except the last few.
ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_pin_messages",
    "can_manage_topics",
)

# ChatMemberRestricted needs each of these (PTB 22.8 raises TypeError without them).
RESTRICTED_PERMISSIONS = (
    "can_send_messages",
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
    "can_send_polls",
    "can_send_other_messages",
    "can_add_web_page_previews",
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
    "can_manage_topics",
    "can_edit_tag",
    "can_react_to_messages",
)


@dataclass
class UserRec:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "de"
    is_bot: bool = False
    started: bool = False  # has written to the bot privately, so the bot may write back
    blocked: bool = False

    @property
    def name(self) -> str:
        return self.first_name

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code and not self.is_bot:
            data["language_code"] = self.language_code
        return data


@dataclass
class InviteLinkRec:
    invite_link: str
    chat_id: int
    creator_id: int
    creates_join_request: bool = False
    is_primary: bool = False
    is_revoked: bool = False
    name: str | None = None
    expire_date: int | None = None
    member_limit: int | None = None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class JoinRequestRec:
    chat_id: int
    user_id: int
    date: int
    created_at: float  # model clock, for the five minutes the bot may write to the user
    invite_link: str | None = None
    bio: str | None = None
    status: str = "pending"  # pending, approved, declined


@dataclass
class DocumentRec:
    file_id: str
    file_unique_id: str
    file_name: str | None
    mime_type: str | None
    data: bytes
    chat_id: int | None = None
    message_id: int | None = None

    @property
    def file_size(self) -> int:
        return len(self.data)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
        }
        if self.file_name:
            data["file_name"] = self.file_name
        if self.mime_type:
            data["mime_type"] = self.mime_type
        return data


@dataclass
class PollOptionRec:
    text: str
    persistent_id: str
    text_entities: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class PollRec:
    id: str
    chat_id: int
    message_id: int
    question: str
    options: list[PollOptionRec]
    is_anonymous: bool = True
    type: str = "regular"
    allows_multiple_answers: bool = False
    allows_revoting: bool = True
    members_only: bool = False
    is_closed: bool = False
    question_entities: list[dict[str, Any]] = field(default_factory=list)
    answers: dict[int, list[int]] = field(default_factory=dict)  # user id -> chosen options
    params: dict[str, Any] = field(default_factory=dict)  # everything sendPoll got, extras too

    def voter_counts(self) -> list[int]:
        counts = [0] * len(self.options)
        for chosen in self.answers.values():
            for option in chosen:
                counts[option] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        counts = self.voter_counts()
        data: dict[str, Any] = {
            "id": self.id,
            "question": self.question,
            "options": [
                {
                    "text": option.text,
                    "voter_count": counts[index],
                    "persistent_id": option.persistent_id,
                    **({"text_entities": option.text_entities} if option.text_entities else {}),
                }
                for index, option in enumerate(self.options)
            ],
            "total_voter_count": len(self.answers),
            "is_closed": self.is_closed,
            "is_anonymous": self.is_anonymous,
            "type": self.type,
            "allows_multiple_answers": self.allows_multiple_answers,
            "allows_revoting": self.allows_revoting,
            "members_only": self.members_only,
        }
        if self.question_entities:
            data["question_entities"] = self.question_entities
        for key in ("correct_option_ids", "explanation", "open_period", "close_date"):
            if self.params.get(key) is not None:
                data[key] = self.params[key]
        if self.params.get("description"):
            data["description"] = self.params["description"]
        return data


@dataclass
class MessageRec:
    chat_id: int
    message_id: int
    date: int
    seq: int  # global order across chats
    from_id: int | None
    by_bot: bool = False
    sender_chat_id: int | None = None
    text: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[dict[str, Any]] = field(default_factory=list)
    reply_to: int | None = None
    reply_markup: dict[str, Any] | None = None  # inline keyboards only: others are not shown
    poll: PollRec | None = None
    document: DocumentRec | None = None
    service: dict[str, Any] = field(default_factory=dict)
    # Further fields as Telegram shows them (is_automatic_forward, forward_origin, ...).
    shown: dict[str, Any] = field(default_factory=dict)
    edit_date: int | None = None
    edit_count: int = 0
    deleted: bool = False
    pinned: bool = False
    reactions: list[dict[str, Any]] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def buttons(self) -> list[list[dict[str, Any]]]:
        """Rows of the current inline keyboard (empty without one)."""
        if not self.reply_markup:
            return []
        return [list(row) for row in self.reply_markup.get("inline_keyboard", [])]

    @property
    def button_texts(self) -> list[str]:
        return [button.get("text", "") for row in self.buttons for button in row]

    def find_button(
        self, text: str | None = None, callback_data: str | None = None
    ) -> dict[str, Any] | None:
        for row in self.buttons:
            for button in row:
                if text is not None and button.get("text") != text:
                    continue
                if callback_data is not None and button.get("callback_data") != callback_data:
                    continue
                return button
        return None


@dataclass
class ChatRec:
    id: int
    type: str  # private, group, supergroup
    title: str | None
    label: str  # short name used in transcripts, e.g. "ST"
    username: str | None = None
    members: dict[int, str] = field(default_factory=dict)  # user id -> status
    bot_status: str = "member"
    bot_rights: dict[str, bool] = field(default_factory=dict)
    bot_was_member: bool = False  # a bot never in the chat gets "chat not found" instead of 403
    migrated_to: int | None = None
    next_message_id: int = 1
    messages: dict[int, MessageRec] = field(default_factory=dict)
    send_times: deque[float] = field(default_factory=deque)
    invite_links: dict[str, InviteLinkRec] = field(default_factory=dict)
    join_requests: dict[int, JoinRequestRec] = field(default_factory=dict)

    @property
    def is_group(self) -> bool:
        return self.type in ("group", "supergroup")

    @property
    def bot_is_member(self) -> bool:
        return self.bot_status in ("member", "administrator", "creator")

    @property
    def bot_is_admin(self) -> bool:
        return self.bot_status in ADMIN_STATUSES

    def is_member(self, user_id: int) -> bool:
        return self.members.get(user_id) in MEMBER_STATUSES


@dataclass
class CallbackRec:
    id: str
    user_id: int
    chat_id: int | None  # None: a press on an inline message (no chat, no message)
    message_id: int | None
    data: str | None
    created_at: float
    answered: bool = False
    answer: dict[str, Any] | None = None  # text, show_alert, url, cache_time


@dataclass
class CallRecord:
    """One Bot API request as the model saw it, with what it answered."""

    method: str
    params: dict[str, Any]
    status: int
    error: str | None = None
    at: float = 0.0
    files: dict[str, str] = field(default_factory=dict)  # part name -> file name
    result_json: str | None = field(default=None, repr=False)  # the "result", as sent
    # The fault that hit the call ("timeout after acting" …): the status is what the client
    # got; after acting, `result_json` is what Telegram did all the same.
    fault: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def result(self) -> Any:
        """The answer's "result" (None for a failed call); decoded when asked for, as most
        records (every getUpdates) are never read."""
        return None if self.result_json is None else json.loads(self.result_json)


@dataclass
class UpdateRec:
    update_id: int
    kind: str
    payload: dict[str, Any]
    # Delivered although the bot's allowed_updates leave its kind out (created before them).
    unasked: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"update_id": self.update_id, self.kind: self.payload}


@dataclass(frozen=True)
class Delivery:
    """One attempt to post an update to the webhook."""

    update_id: int
    status: int  # 0: no answer (refused, dropped, timed out)
    url: str


@dataclass
class LogEntry:
    """One transcript event; message lines remember which message and where the name ends."""

    seq: int
    chat_id: int | None
    text: str
    message_id: int | None = None
    name_end: int = 0
