"""The Bot API methods the fake speaks; each validates like Telegram before touching state."""

from __future__ import annotations

import asyncio
import hashlib
import json
import mimetypes
import re
from collections.abc import Callable
from typing import Any

from localapi import errors as err
from localapi.errors import ApiError, bad_request
from localapi.membership import MembershipMixin
from localapi.params import Params, UploadedFile
from localapi.records import (
    ADMIN_STATUSES,
    MEMBER_STATUSES,
    ChatRec,
    DocumentRec,
    MessageRec,
    PollOptionRec,
    PollRec,
)
from localapi.state import ALL_UPDATE_KINDS, DEFAULT_ALLOWED_UPDATES
from localapi.textparse import EntityParseError, format_text, utf16_len
from localapi.transcript import buttons_text, message_body
from localapi.webhook import WebhookSender

Files = dict[str, UploadedFile]

# lower-case method name -> (name as documented, attribute implementing it)
API_METHODS: dict[str, tuple[str, str]] = {}

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_TEXT = 200
MAX_QUESTION = 300
MAX_OPTION = 100
# Bot API 10.0 (PTB 22.8 PollLimit): 1..12 options.
MIN_OPTIONS, MAX_OPTIONS = 1, 12
JOIN_REQUEST_WINDOW = 300.0  # seconds the bot may write to someone asking to join
_INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def api(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a handler under its Bot API name (Telegram matches names case-insensitively)."""

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        API_METHODS[name.lower()] = (name, func.__name__)
        return func

    return register


class BotApiMethods(MembershipMixin, WebhookSender):
    """Handlers take (Params, files) and return the "result" or raise ApiError."""

    # ------------------------------------------------------------ shared checks

    def _resolve_chat(self, p: Params, name: str = "chat_id") -> ChatRec:
        ref = p.chat_id(name)
        chat: ChatRec | None
        if isinstance(ref, str):
            wanted = ref[1:].lower()
            chat = next(
                (c for c in self.chats.values() if c.username and c.username.lower() == wanted),
                None,
            )
        else:
            chat = self.chats.get(ref)
        if chat is None or (chat.is_group and not chat.bot_is_member and not chat.bot_was_member):
            raise ApiError(400, err.CHAT_NOT_FOUND)
        if chat.migrated_to is not None:
            raise ApiError(400, err.GROUP_UPGRADED, {"migrate_to_chat_id": chat.migrated_to})
        return chat

    def _require_presence(self, chat: ChatRec) -> None:
        """403 where Telegram refuses: removed from a group, blocked, or never started."""
        if chat.type == "private":
            user = self.users[chat.id]
            if user.is_bot:
                raise ApiError(403, "Forbidden: bot can't send messages to bots")
            if user.blocked:
                raise ApiError(403, err.BLOCKED)
            if self.enforce_private_403 and not user.started and not self._may_write(user.id):
                raise ApiError(403, err.CANT_INITIATE)
            return
        if not chat.bot_is_member:
            kind = "supergroup" if chat.type == "supergroup" else "group"
            if chat.bot_status == "kicked":
                raise ApiError(403, f"Forbidden: bot was kicked from the {kind} chat")
            raise ApiError(403, f"Forbidden: bot is not a member of the {kind} chat")

    def _may_write(self, user_id: int) -> bool:
        """A pending join request lets the bot write to that user for five minutes."""
        now = self.clock()
        return any(
            request.status == "pending" and now - request.created_at <= JOIN_REQUEST_WINDOW
            for chat in self.chats.values()
            if (request := chat.join_requests.get(user_id)) is not None
        )

    def _target_chat(self, p: Params) -> ChatRec:
        chat = self._resolve_chat(p)
        self._require_presence(chat)
        return chat

    def _require_rights(self, chat: ChatRec, right: str, description: str) -> None:
        if not chat.bot_is_admin or not chat.bot_rights.get(right, True):
            raise bad_request(description)

    def _format(
        self,
        p: Params,
        keys: tuple[str, str, str],
        limit: int,
        empty_error: str | None,
        long_error: str,
    ) -> tuple[str | None, list[dict[str, Any]]]:
        """Parse markup like Telegram, then check emptiness and length (UTF-16 units)."""
        text_key, mode_key, entities_key = keys
        source = p.text(text_key)
        if source is None and empty_error is None:
            return None, []
        try:
            explicit = p.obj(entities_key) if p.has(entities_key) else None
            text, entities = format_text(
                source or "", p.text(mode_key), explicit, self.mention_lookup
            )
        except EntityParseError as exc:
            raise bad_request(f"can't parse entities: {exc}") from None
        except ValueError:
            raise bad_request("unsupported parse_mode") from None
        if not text and empty_error is not None:
            raise ApiError(400, empty_error)
        if utf16_len(text) > limit:
            raise ApiError(400, long_error)
        return text, entities

    def _markup(self, p: Params) -> tuple[dict[str, Any] | None, bool]:
        """(inline keyboard or None, whether any reply_markup was sent at all)."""
        if not p.has("reply_markup"):
            return None, False
        markup = p.obj("reply_markup")
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            return None, True  # reply keyboards are not part of the message object
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request("can't parse inline keyboard markup JSON object")
        clean_rows = []
        for row in rows:
            clean_row = []
            for button in row:
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise bad_request("can't parse inline keyboard button: Text must be a String")
                if not any(button.get(action) is not None for action in _INLINE_ACTIONS):
                    raise bad_request(
                        "can't parse inline keyboard button: "
                        "Text buttons are unallowed in the inline keyboard"
                    )
                if "callback_data" in button:
                    data = button["callback_data"]
                    if not isinstance(data, str) or not 1 <= len(data.encode()) <= 64:
                        raise ApiError(400, err.BUTTON_DATA_INVALID)
                clean_row.append({k: v for k, v in button.items() if v is not None})
            if clean_row:
                clean_rows.append(clean_row)
        return ({"inline_keyboard": clean_rows} if clean_rows else None), True

    def _reply_target(self, chat: ChatRec, p: Params) -> int | None:
        reply = p.obj("reply_parameters") if p.has("reply_parameters") else None
        if reply is None and p.has("reply_to_message_id"):
            reply = {
                "message_id": p.integer("reply_to_message_id"),
                "allow_sending_without_reply": p.flag("allow_sending_without_reply"),
            }
        if reply is None:
            return None
        if not isinstance(reply, dict) or "message_id" not in reply:
            raise bad_request("can't parse reply parameters JSON object")
        target = chat.messages.get(int(reply["message_id"]))
        if target is None or target.deleted:
            if reply.get("allow_sending_without_reply"):
                return None
            raise bad_request("message to be replied not found")
        return target.message_id

    def _own_message(self, chat: ChatRec, p: Params, not_found: str) -> MessageRec:
        message_id = p.integer("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        msg = chat.messages.get(message_id)
        if msg is None or msg.deleted:
            raise ApiError(400, not_found)
        if not msg.by_bot:
            raise bad_request("message can't be edited")
        return msg

    def _send(self, chat: ChatRec, p: Params, **fields: Any) -> dict[str, Any]:
        """Store a bot message, count it against the flood limit and log it."""
        markup, _ = self._markup(p)
        reply_to = self._reply_target(chat, p)
        msg = self._new_message(
            chat,
            self.bot_id,
            by_bot=True,
            reply_to=reply_to,
            reply_markup=markup,
            params=dict(p.raw),
            **fields,
        )
        self._flood_record(chat)
        self._log_message(msg, "bot", f": {message_body(msg)}")
        return self.message_dict(msg)

    # ------------------------------------------------------------ bot and updates

    @api("getMe")
    def api_get_me(self, p: Params, files: Files) -> dict[str, Any]:
        return {
            **self.bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    @api("logOut")
    def api_log_out(self, p: Params, files: Files) -> bool:
        return True

    @api("close")
    def api_close(self, p: Params, files: Files) -> bool:
        return True

    @api("setWebhook")
    def api_set_webhook(self, p: Params, files: Files) -> bool:
        url = p.text("url") or ""
        if not url:  # Telegram: an empty url removes the webhook
            return bool(self.api_delete_webhook(p, files))
        if not url.startswith(("https://", "http://")):
            # A local Bot API server (this one) accepts http:// too; Telegram only https://.
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = p.text("secret_token")
        if secret is not None and not _SECRET_RE.match(secret):
            raise bad_request("secret token contains unallowed characters")
        connections = p.integer("max_connections", 40) or 40
        if not 1 <= connections <= 100:
            raise bad_request("bad webhook: max_connections must be between 1 and 100")
        if p.has("allowed_updates"):
            self._allow(p.obj("allowed_updates") or [])
        if p.flag("drop_pending_updates"):
            self._updates.clear()
        if url != self.webhook_url:
            self.webhook_last_error_date = self.webhook_last_error_message = None
        self.webhook_url = url
        self.webhook_secret = secret or None
        self.webhook_max_connections = connections
        self._start_delivery()
        return True

    @api("deleteWebhook")
    def api_delete_webhook(self, p: Params, files: Files) -> bool:
        self.webhook_url = None
        self.webhook_secret = None
        self.webhook_last_error_date = self.webhook_last_error_message = None
        if p.flag("drop_pending_updates"):
            self._updates.clear()
        self._notify_updates()
        return True

    @api("getWebhookInfo")
    def api_get_webhook_info(self, p: Params, files: Files) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.webhook_url or "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook_url:
            info["max_connections"] = self.webhook_max_connections
            info["allowed_updates"] = sorted(self.allowed_updates)
            if self.webhook_last_error_date is not None:
                info["last_error_date"] = self.webhook_last_error_date
                info["last_error_message"] = self.webhook_last_error_message or ""
        return info

    def _allow(self, wanted: list[str]) -> None:
        """allowed_updates, sticky like Telegram: omitting it keeps the previous choice."""
        known = [kind for kind in wanted if kind in ALL_UPDATE_KINDS]
        self.allowed_updates = frozenset(known) if known else DEFAULT_ALLOWED_UPDATES

    @api("getUpdates")
    async def api_get_updates(self, p: Params, files: Files) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        if p.has("allowed_updates"):
            self._allow(p.obj("allowed_updates") or [])
        offset = p.integer("offset", 0) or 0
        limit = min(max(p.integer("limit", 100) or 100, 1), 100)
        timeout = max(p.number("timeout", 0.0), 0.0)
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify_updates()  # an older long poll still waiting must end with 409 now
        self._confirm(offset)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            batch = self._deliverable(limit)
            remaining = deadline - loop.time()
            if batch or remaining <= 0:
                return [update.to_dict() for update in batch]
            await self._new_updates.wait(remaining)
            if self._poll_generation != generation:
                raise ApiError(409, err.GETUPDATES_CONFLICT)

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._updates = [u for u in self._updates if u.update_id >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]

    # ------------------------------------------------------------ messages

    @api("sendMessage")
    def api_send_message(self, p: Params, files: Files) -> dict[str, Any]:
        chat = self._target_chat(p)
        self._flood_check(chat)
        text, entities = self._format(
            p, ("text", "parse_mode", "entities"), MAX_TEXT, err.TEXT_EMPTY, err.MESSAGE_TOO_LONG
        )
        return self._send(chat, p, text=text, entities=entities)

    @api("editMessageText")
    def api_edit_message_text(self, p: Params, files: Files) -> dict[str, Any]:
        if p.has("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat = self._target_chat(p)
        msg = self._own_message(chat, p, err.MESSAGE_TO_EDIT_NOT_FOUND)
        self._flood_check(chat)
        if msg.text is None:
            raise bad_request("there is no text in the message to edit")
        text, entities = self._format(
            p, ("text", "parse_mode", "entities"), MAX_TEXT, err.TEXT_EMPTY, err.MESSAGE_TOO_LONG
        )
        # Omitting reply_markup removes the keyboard, as on Telegram.
        markup, _ = self._markup(p)
        if (text, entities, markup) == (msg.text, msg.entities, msg.reply_markup):
            raise ApiError(400, err.MESSAGE_NOT_MODIFIED)
        msg.text, msg.entities, msg.reply_markup = text, entities, markup
        return self._edited(chat, msg, "edited")

    @api("editMessageCaption")
    def api_edit_message_caption(self, p: Params, files: Files) -> dict[str, Any]:
        chat = self._target_chat(p)
        msg = self._own_message(chat, p, err.MESSAGE_TO_EDIT_NOT_FOUND)
        self._flood_check(chat)
        if msg.document is None:
            raise bad_request("there is no caption in the message to edit")
        caption, entities = self._format(
            p,
            ("caption", "parse_mode", "caption_entities"),
            MAX_CAPTION,
            None,
            err.CAPTION_TOO_LONG,
        )
        markup, _ = self._markup(p)
        current = (msg.caption, msg.caption_entities, msg.reply_markup)
        if (caption, entities, markup) == current:
            raise ApiError(400, err.MESSAGE_NOT_MODIFIED)
        msg.caption, msg.caption_entities, msg.reply_markup = caption, entities, markup
        return self._edited(chat, msg, "edited")

    @api("editMessageReplyMarkup")
    def api_edit_message_reply_markup(self, p: Params, files: Files) -> dict[str, Any]:
        if p.has("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat = self._target_chat(p)
        msg = self._own_message(chat, p, err.MESSAGE_TO_EDIT_NOT_FOUND)
        self._flood_check(chat)
        markup, given = self._markup(p)
        if given and markup is None and "inline_keyboard" not in (p.obj("reply_markup") or {}):
            raise bad_request("REPLY_MARKUP_INVALID")
        if markup == msg.reply_markup:
            raise ApiError(400, err.MESSAGE_NOT_MODIFIED)
        msg.reply_markup = markup
        return self._edited(chat, msg, "buttons")

    def _edited(self, chat: ChatRec, msg: MessageRec, what: str) -> dict[str, Any]:
        msg.edit_date = self.now_date()
        msg.edit_count += 1
        self._flood_record(chat)
        self._notify()
        if what == "buttons":
            shown = buttons_text(msg.reply_markup) or "(buttons removed)"
        else:
            shown = message_body(msg)
        self._log(chat.id, f"bot ✎ {what} #{msg.message_id}: {shown}")
        return self.message_dict(msg)

    @api("deleteMessage")
    def api_delete_message(self, p: Params, files: Files) -> bool:
        chat = self._resolve_chat(p)
        msg = chat.messages.get(p.integer("message_id") or 0)
        if msg is None or msg.deleted:
            raise ApiError(400, err.MESSAGE_TO_DELETE_NOT_FOUND)
        may_delete_others = chat.bot_is_admin and chat.bot_rights.get("can_delete_messages", True)
        if chat.is_group and not msg.by_bot and not may_delete_others:
            raise bad_request("message can't be deleted")
        msg.deleted = True
        self._notify()
        whose = "" if msg.by_bot else f"{self.display_name(msg.from_id)}'s message "
        self._log(chat.id, f"bot ✕ deleted {whose}#{msg.message_id}")
        return True

    @api("sendChatAction")
    def api_send_chat_action(self, p: Params, files: Files) -> bool:
        self._target_chat(p)
        p.required_text("action")
        return True

    @api("setMessageReaction")
    def api_set_message_reaction(self, p: Params, files: Files) -> bool:
        chat = self._target_chat(p)
        msg = chat.messages.get(p.integer("message_id") or 0)
        if msg is None or msg.deleted:
            raise bad_request("message to react not found")
        msg.reactions = list(p.obj("reaction") or [])
        emojis = " ".join(r.get("emoji", "?") for r in msg.reactions if isinstance(r, dict))
        self._log(chat.id, f"bot reacted to #{msg.message_id}: {emojis or '(none)'}")
        return True

    @api("pinChatMessage")
    def api_pin_chat_message(self, p: Params, files: Files) -> bool:
        chat = self._target_chat(p)
        if chat.is_group:
            self._require_rights(
                chat, "can_pin_messages", "not enough rights to manage pinned messages in the chat"
            )
        msg = chat.messages.get(p.integer("message_id") or 0)
        if msg is None or msg.deleted:
            raise bad_request("message to pin not found")
        msg.pinned = True
        self._log(chat.id, f"bot 📌 pinned #{msg.message_id}")
        return True

    @api("unpinChatMessage")
    def api_unpin_chat_message(self, p: Params, files: Files) -> bool:
        chat = self._target_chat(p)
        for msg in chat.messages.values():
            if p.integer("message_id") in (None, msg.message_id):
                msg.pinned = False
        return True

    # ------------------------------------------------------------ callbacks

    @api("answerCallbackQuery")
    def api_answer_callback_query(self, p: Params, files: Files) -> bool:
        query = self.callback_queries.get(p.required_text("callback_query_id"))
        too_old = (
            query is not None
            and self.callback_query_ttl is not None
            and self.clock() - query.created_at > self.callback_query_ttl
        )
        if query is None or query.answered or too_old:
            raise ApiError(400, err.QUERY_TOO_OLD)
        text = p.text("text")
        if text is not None and len(text) > MAX_CALLBACK_TEXT:
            raise bad_request("MESSAGE_TOO_LONG")
        query.answered = True
        query.answer = {
            "text": text,
            "show_alert": p.flag("show_alert"),
            "url": p.text("url"),
            "cache_time": p.integer("cache_time", 0),
        }
        self._notify()
        name = self.display_name(query.user_id)
        if text:
            kind = "alert" if query.answer["show_alert"] else "toast"
            self._log(query.chat_id, f"({kind} to {name}: {text})")
        if query.answer["url"]:
            self._log(query.chat_id, f"(link to {name}: {query.answer['url']})")
        return True

    # ------------------------------------------------------------ polls

    @api("sendPoll")
    def api_send_poll(self, p: Params, files: Files) -> dict[str, Any]:
        chat = self._target_chat(p)
        self._flood_check(chat)
        question, question_entities = self._format(
            p,
            ("question", "question_parse_mode", "question_entities"),
            MAX_QUESTION,
            "Bad Request: poll question must be non-empty",
            f"Bad Request: poll question length must not exceed {MAX_QUESTION}",
        )
        options = self._poll_options(p)
        poll_type = p.text("type") or "regular"
        if poll_type not in ("regular", "quiz"):
            raise bad_request("poll type is invalid")
        multiple = p.flag("allows_multiple_answers")
        if poll_type == "quiz" and not (p.has("correct_option_ids") or p.has("correct_option_id")):
            raise bad_request("quiz poll must have correct option ids")
        number = self._next_id()
        poll = PollRec(
            id=str(5_100_000_000_000_000_000 + number),
            chat_id=chat.id,
            message_id=chat.next_message_id,
            question=question or "",
            question_entities=question_entities,
            options=options,
            is_anonymous=p.flag("is_anonymous", default=True),
            type=poll_type,
            allows_multiple_answers=multiple,
            allows_revoting=p.flag("allows_revoting", default=poll_type == "regular"),
            members_only=p.flag("members_only"),
            is_closed=p.flag("is_closed"),
            params=dict(p.raw),
        )
        for index, option in enumerate(options):
            # Deliberately unlike the index, so code mixing them up fails in tests.
            digest = hashlib.sha1(f"{poll.id}:{index}".encode()).hexdigest()[:10]
            option.persistent_id = digest
        if p.has("correct_option_id") and not p.has("correct_option_ids"):
            poll.params["correct_option_ids"] = [p.integer("correct_option_id")]
        result = self._send(chat, p, poll=poll)
        self.polls[poll.id] = poll  # only once the message really exists
        return result

    def _poll_options(self, p: Params) -> list[PollOptionRec]:
        raw = p.obj("options")
        if not isinstance(raw, list):
            raise bad_request("can't parse options JSON object")
        if len(raw) < MIN_OPTIONS:
            raise bad_request(f"poll must have at least {max(MIN_OPTIONS, 1)} option")
        if len(raw) > MAX_OPTIONS:
            raise bad_request(f"poll can't have more than {MAX_OPTIONS} options")
        options: list[PollOptionRec] = []
        for item in raw:
            option = {"text": item} if isinstance(item, str) else item
            if not isinstance(option, dict) or not isinstance(option.get("text"), str):
                raise bad_request("can't parse InputPollOption JSON object")
            text, entities = self._format(
                Params(option),
                ("text", "text_parse_mode", "text_entities"),
                MAX_OPTION,
                "Bad Request: poll options must be non-empty",
                f"Bad Request: poll options length must not exceed {MAX_OPTION}",
            )
            options.append(PollOptionRec(text or "", "", entities))
        if len({option.text for option in options}) != len(options):
            raise bad_request("POLL_OPTION_DUPLICATE")
        return options

    @api("stopPoll")
    def api_stop_poll(self, p: Params, files: Files) -> dict[str, Any]:
        chat = self._target_chat(p)
        msg = chat.messages.get(p.integer("message_id") or 0)
        if msg is None or msg.deleted or msg.poll is None:
            raise bad_request("message with poll to stop not found")
        if not msg.by_bot:
            raise bad_request("poll can't be stopped")
        if msg.poll.is_closed:
            raise bad_request("poll has already been closed")
        self._flood_check(chat)
        markup, given = self._markup(p)
        if given:
            msg.reply_markup = markup
        msg.poll.is_closed = True
        self._flood_record(chat)
        if self.emit_poll_updates:
            self._enqueue("poll", msg.poll.to_dict())
        counts = msg.poll.voter_counts()
        summary = " · ".join(f"{o.text} {n}" for o, n in zip(msg.poll.options, counts, strict=True))
        self._log(chat.id, f"bot ■ closed poll #{msg.message_id}: {summary}")
        return msg.poll.to_dict()

    # ------------------------------------------------------------ files

    @api("sendDocument")
    def api_send_document(self, p: Params, files: Files) -> dict[str, Any]:
        chat = self._target_chat(p)
        self._flood_check(chat)
        document = self._document_from(p, files)
        caption, entities = self._format(
            p,
            ("caption", "parse_mode", "caption_entities"),
            MAX_CAPTION,
            None,
            err.CAPTION_TOO_LONG,
        )
        document.chat_id, document.message_id = chat.id, chat.next_message_id
        result = self._send(
            chat, p, document=document, caption=caption or None, caption_entities=entities
        )
        self.documents.append(document)
        return result

    def _document_from(self, p: Params, files: Files) -> DocumentRec:
        ref = p.raw.get("document")
        upload = files.get("document")
        if upload is None and isinstance(ref, str) and ref.startswith("attach://"):
            upload = files.get(ref.removeprefix("attach://"))
        number = self._next_id()
        if upload is not None:
            if not upload.data:
                raise bad_request("file must be non-empty")
            mime = upload.mime_type or mimetypes.guess_type(upload.filename or "")[0]
            return DocumentRec(
                f"BQACAgIAAx{number:08d}", f"AgAD{number:06d}", upload.filename, mime, upload.data
            )
        if isinstance(ref, str) and ref:
            known = next((d for d in self.documents if d.file_id == ref), None)
            if known is not None:
                return DocumentRec(
                    known.file_id,
                    known.file_unique_id,
                    known.file_name,
                    known.mime_type,
                    known.data,
                )
            if ref.startswith(("http://", "https://")):
                name = ref.rstrip("/").rsplit("/", 1)[-1] or None
                return DocumentRec(f"BQACAgIAAx{number:08d}", f"AgAD{number:06d}", name, None, b"")
            raise bad_request("wrong file identifier/HTTP URL specified")
        raise bad_request("there is no document in the request")

    @api("getFile")
    def api_get_file(self, p: Params, files: Files) -> dict[str, Any]:
        file_id = p.required_text("file_id")
        document = next((d for d in self.documents if d.file_id == file_id), None)
        if document is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": document.file_id,
            "file_unique_id": document.file_unique_id,
            "file_size": document.file_size,
            "file_path": f"documents/{document.file_unique_id}",
        }

    def file_bytes(self, file_path: str) -> bytes | None:
        """Content behind a getFile path, for the download endpoint."""
        unique_id = file_path.rsplit("/", 1)[-1]
        document = next((d for d in self.documents if d.file_unique_id == unique_id), None)
        return document.data if document is not None else None

    # ------------------------------------------------------------ chats and members

    @api("getChat")
    def api_get_chat(self, p: Params, files: Files) -> dict[str, Any]:
        chat = self._resolve_chat(p)
        if chat.is_group:
            self._require_presence(chat)
        info: dict[str, Any] = {
            **self.chat_dict(chat),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        }
        primary = next((link for link in chat.invite_links.values() if link.is_primary), None)
        if primary is not None and chat.bot_is_admin:
            info["invite_link"] = primary.invite_link
        return info

    def _member_user_id(self, p: Params) -> int:
        user_id = p.integer("user_id")
        if user_id is None or (user_id not in self.users and user_id != self.bot_id):
            raise bad_request("user not found")
        return user_id

    @api("getChatMember")
    def api_get_chat_member(self, p: Params, files: Files) -> dict[str, Any]:
        chat = self._resolve_chat(p)
        if chat.is_group:
            self._require_presence(chat)
        return self.member_of(chat, self._member_user_id(p))

    @api("getChatMemberCount")
    def api_get_chat_member_count(self, p: Params, files: Files) -> int:
        chat = self._resolve_chat(p)
        if chat.type == "private":
            return 2
        self._require_presence(chat)
        users = sum(1 for status in chat.members.values() if status in MEMBER_STATUSES)
        return users + (1 if chat.bot_is_member else 0)

    @api("getChatAdministrators")
    def api_get_chat_administrators(self, p: Params, files: Files) -> list[dict[str, Any]]:
        chat = self._resolve_chat(p)
        if chat.type == "private":
            raise bad_request("there are no administrators in the private chat")
        self._require_presence(chat)
        ordered = sorted(
            (user_id for user_id, status in chat.members.items() if status in ADMIN_STATUSES),
            key=lambda user_id: chat.members[user_id] != "creator",
        )
        admins = [self.member_of(chat, user_id) for user_id in ordered]
        if chat.bot_is_admin:
            admins.append(self.member_of(chat, self.bot_id))
        return admins

    @api("leaveChat")
    def api_leave_chat(self, p: Params, files: Files) -> bool:
        chat = self._resolve_chat(p)
        if chat.type == "private":
            raise bad_request("chat member status can't be changed in private chats")
        self._require_presence(chat)
        self._set_bot_status(chat, "left", self.bot_id)
        return True

    @api("banChatMember")
    def api_ban_chat_member(self, p: Params, files: Files) -> bool:
        chat = self._target_chat(p)
        user_id = self._member_user_id(p)
        self._require_rights(
            chat, "can_restrict_members", "not enough rights to restrict/unrestrict chat member"
        )
        if chat.members.get(user_id) == "creator":
            raise bad_request("can't remove chat owner")
        if chat.is_member(user_id):
            self._leave(chat, user_id, self.bot_id, "kicked")
        else:
            self._change_member(chat, user_id, "kicked", self.bot_id)
        return True

    @api("unbanChatMember")
    def api_unban_chat_member(self, p: Params, files: Files) -> bool:
        chat = self._target_chat(p)
        user_id = self._member_user_id(p)
        self._require_rights(
            chat, "can_restrict_members", "not enough rights to restrict/unrestrict chat member"
        )
        if chat.members.get(user_id) == "kicked":
            self._change_member(chat, user_id, "left", self.bot_id)
        return True

    # ------------------------------------------------------------ invite links and requests

    @api("createChatInviteLink")
    def api_create_chat_invite_link(self, p: Params, files: Files) -> dict[str, Any]:
        chat = self._target_chat(p)
        if not chat.is_group:
            raise bad_request("chat_id is invalid")
        self._require_rights(
            chat, "can_invite_users", "not enough rights to manage chat invite links"
        )
        creates = p.flag("creates_join_request")
        member_limit = p.integer("member_limit")
        if creates and member_limit:
            raise bad_request(
                "member limit can't be specified for links requiring administrator approval"
            )
        name = p.text("name")
        if name is not None and len(name) > 32:
            raise bad_request("invite link name is too long")
        link = self._new_link(
            chat,
            self.bot_id,
            creates_join_request=creates,
            name=name,
            expire_date=p.integer("expire_date"),
            member_limit=member_limit,
            params=dict(p.raw),
        )
        self._log(chat.id, f"bot created invite link {link.invite_link}")
        return self.link_dict(link)

    @api("exportChatInviteLink")
    def api_export_chat_invite_link(self, p: Params, files: Files) -> str:
        chat = self._target_chat(p)
        self._require_rights(
            chat, "can_invite_users", "not enough rights to manage chat invite links"
        )
        for link in chat.invite_links.values():
            if link.is_primary:
                link.is_primary, link.is_revoked = False, True
        return self._new_link(chat, self.bot_id, is_primary=True).invite_link

    @api("revokeChatInviteLink")
    def api_revoke_chat_invite_link(self, p: Params, files: Files) -> dict[str, Any]:
        chat = self._target_chat(p)
        self._require_rights(
            chat, "can_invite_users", "not enough rights to manage chat invite links"
        )
        link = chat.invite_links.get(p.required_text("invite_link"))
        if link is None:
            raise bad_request("INVITE_HASH_EXPIRED")
        link.is_revoked = True
        return self.link_dict(link)

    def _pending_request(self, p: Params) -> tuple[ChatRec, int]:
        chat = self._target_chat(p)
        self._require_rights(chat, "can_invite_users", "CHAT_ADMIN_REQUIRED")
        user_id = p.required_integer("user_id")
        request = chat.join_requests.get(user_id)
        if request is None or request.status != "pending":
            raise bad_request("HIDE_REQUESTER_MISSING")
        return chat, user_id

    @api("approveChatJoinRequest")
    def api_approve_chat_join_request(self, p: Params, files: Files) -> bool:
        chat, user_id = self._pending_request(p)
        if chat.is_member(user_id):
            raise bad_request("USER_ALREADY_PARTICIPANT")
        request = chat.join_requests[user_id]
        request.status = "approved"
        self._log(chat.id, f"* bot approved {self.display_name(user_id)}'s join request")
        self._join(
            chat, user_id, self.bot_id, invite_link=request.invite_link, via_join_request=True
        )
        return True

    @api("declineChatJoinRequest")
    def api_decline_chat_join_request(self, p: Params, files: Files) -> bool:
        chat, user_id = self._pending_request(p)
        chat.join_requests[user_id].status = "declined"
        self._notify()
        self._log(chat.id, f"* bot declined {self.display_name(user_id)}'s join request")
        return True

    # ------------------------------------------------------------ commands

    def scope_key(self, scope: Any) -> str:
        """A canonical form of a BotCommandScope, so equal scopes share one command list."""
        if not scope:
            scope = {"type": "default"}
        if not isinstance(scope, dict) or "type" not in scope:
            raise bad_request("can't parse BotCommandScope JSON object")
        key: dict[str, Any] = {"type": scope["type"]}
        for field in ("chat_id", "user_id"):
            if scope.get(field) is not None:
                value = scope[field]
                key[field] = int(value) if str(value).lstrip("-").isdigit() else value
        return json.dumps(key, sort_keys=True)

    @api("setMyCommands")
    def api_set_my_commands(self, p: Params, files: Files) -> bool:
        commands = p.obj("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("can't parse commands JSON object")
        clean = []
        for command in commands:
            name = str(command.get("command", "")) if isinstance(command, dict) else ""
            description = str(command.get("description", "")) if isinstance(command, dict) else ""
            if not _COMMAND_RE.match(name.removeprefix("/").lower()):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise bad_request("command description must be non-empty")
            clean.append({"command": name.removeprefix("/").lower(), "description": description})
        key = (self.scope_key(p.obj("scope")), p.text("language_code") or "")
        if clean:
            self.commands[key] = clean
        else:
            self.commands.pop(key, None)
        return True

    @api("getMyCommands")
    def api_get_my_commands(self, p: Params, files: Files) -> list[dict[str, Any]]:
        key = (self.scope_key(p.obj("scope")), p.text("language_code") or "")
        return [dict(command) for command in self.commands.get(key, [])]

    @api("deleteMyCommands")
    def api_delete_my_commands(self, p: Params, files: Files) -> bool:
        key = (self.scope_key(p.obj("scope")), p.text("language_code") or "")
        self.commands.pop(key, None)
        return True
