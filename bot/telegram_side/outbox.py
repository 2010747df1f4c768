"""Everything the bot sends or edits goes through here: the flows' port (bot.flows.port) on
the Bot API. A per-chat outbox that owns each group's budget (SPEC §9), sends at once while
the budget allows and otherwise queues by priority, coalesces card edits, and retries 429s
and network errors without losing anything; keyboards go out in the one callback codec.

No caller ever waits for a budget: a queued item is flushed later by a scheduled job."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot.clock import Clock
from bot.flows.payloads import StartPayload
from bot.flows.port import (
    BuildNotice,
    ChatActionFailed,
    Delivery,
    Keyboard,
    OnPosted,
    Poll,
    Posted,
    Priority,
    RenderCard,
    Status,
)
from bot.telegram_side import callbacks, deep_links
from bot.texts.i18n import Html
from bot.texts.render import shorten, split_message

log = logging.getLogger(__name__)

WINDOW = 60.0

Schedule = Callable[[float, int, Callable[[], Awaitable[None]]], None]
Kwargs = dict[str, Any]


@dataclass(order=True)
class _Item:
    priority: int
    seq: int
    chat_id: int = field(compare=False)
    method: str = field(compare=False)
    kwargs: Kwargs = field(compare=False)
    coalesce_key: str | None = field(compare=False, default=None)
    on_posted: OnPosted | None = field(compare=False, default=None)
    delivery: Delivery = field(compare=False, default_factory=Delivery)
    attempts: int = field(compare=False, default=0)
    build: Callable[[], Awaitable[Kwargs]] | None = field(compare=False, default=None)


@dataclass
class _ChatQueue:
    heap: list[_Item] = field(default_factory=list)
    by_key: dict[str, _Item] = field(default_factory=dict)
    sent_times: deque[float] = field(default_factory=deque)
    blocked_until: float = 0.0
    last_edit_at: float = float("-inf")
    flush_at: float | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    flushing: asyncio.Task[Any] | None = None  # the task whose flush holds the lock


def is_group(chat_id: int) -> bool:
    # Private chats have positive ids (the user's); groups, supergroups, channels negative.
    return chat_id < 0


def markup(keyboard: Keyboard | None) -> InlineKeyboardMarkup | None:
    """A keyboard as Telegram takes it, each payload in the one callback-data codec."""
    if keyboard is None:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(button.label, callback_data=callbacks.encode(button.payload))
                for button in row
            ]
            for row in keyboard.rows
        ]
    )


def posted(result: object) -> Posted | None:
    """Where a message went, from Telegram's answer (None if the answer is no message)."""
    if not isinstance(result, Message):
        return None
    poll_id = result.poll.id if result.poll is not None else None
    return Posted(result.chat_id, result.message_id, poll_id)


def _replying(kwargs: Kwargs, reply_to: int | None) -> Kwargs:
    if reply_to is not None:
        kwargs["reply_to_message_id"] = reply_to
        kwargs["allow_sending_without_reply"] = True
    return kwargs


class TelegramOutbox:
    """The port (bot.flows.port.Outbox) on the Bot API, in memory: what is queued is lost
    when the bot stops (a flow marks in the database what it needs to see sent)."""

    def __init__(
        self,
        bot: Bot,
        clock: Clock,
        schedule: Schedule,
        *,
        group_per_minute: int = 20,
        edits_per_minute: int = 12,
        retry_base: float = 1.0,
        retry_max: float = 60.0,
    ) -> None:
        self.bot = bot
        self.clock = clock
        self.schedule = schedule
        self.group_per_minute = group_per_minute
        # Card edits are spaced out so that a burst of presses costs a few edits and leaves
        # room in the group's budget for replies and results.
        self.edit_interval = WINDOW / edits_per_minute
        self.retry_base = retry_base
        self.retry_max = retry_max
        self._queues: dict[int, _ChatQueue] = {}
        self._seq = itertools.count()

    # -- the port -------------------------------------------------------------------------

    async def send(
        self,
        chat_id: int,
        text: Html,
        *,
        priority: Priority = Priority.REPLY,
        reply_to: int | None = None,
        keyboard: Keyboard | None = None,
        silent: bool = False,
        on_posted: OnPosted | None = None,
    ) -> Delivery:
        """Send HTML text; a text over Telegram's limit goes out as several messages, the
        keyboard and `on_posted` with the first (cards are shortened, never split)."""
        parts = split_message(text)
        first: Delivery | None = None
        for index, part in enumerate(parts):
            kwargs: Kwargs = {
                "chat_id": chat_id,
                "text": part,
                "parse_mode": ParseMode.HTML,
                "link_preview_options": None,
            }
            if silent:
                kwargs["disable_notification"] = True
            if index == 0:
                if keyboard is not None:
                    kwargs["reply_markup"] = markup(keyboard)
                _replying(kwargs, reply_to)
            delivery = await self._submit(
                chat_id,
                "send_message",
                kwargs,
                priority,
                on_posted=on_posted if index == 0 else None,
            )
            first = first or delivery
        assert first is not None
        return first

    async def send_document(
        self,
        chat_id: int,
        data: bytes,
        filename: str,
        *,
        caption: Html | None = None,
        reply_to: int | None = None,
        priority: Priority = Priority.REPLY,
    ) -> Delivery:
        """Send a file (one message); the caption is HTML. The bytes stay with the item, so a
        retry uploads them again."""
        kwargs: Kwargs = {"chat_id": chat_id, "document": data, "filename": filename}
        if caption is not None:
            kwargs["caption"] = caption
            kwargs["parse_mode"] = ParseMode.HTML
        return await self._submit(chat_id, "send_document", _replying(kwargs, reply_to), priority)

    async def edit(
        self, chat_id: int, message_id: int, text: Html, *, keyboard: Keyboard | None = None
    ) -> Delivery:
        """Edit a message; a queued edit of the same message is replaced (newest state only)."""
        return await self._submit(
            chat_id,
            "edit_message_text",
            self._edit_kwargs(chat_id, message_id, text, keyboard),
            Priority.EDIT,
            coalesce_key=f"edit:{message_id}",
        )

    async def edit_later(self, chat_id: int, message_id: int, render: RenderCard) -> Delivery:
        """Edit a message to what `render` gives when the edit actually goes out: a burst of
        changes costs one render per edit sent, not one per change."""

        async def kwargs() -> Kwargs:
            text, keyboard = await render()
            return self._edit_kwargs(chat_id, message_id, text, keyboard)

        return await self._submit(
            chat_id,
            "edit_message_text",
            {},
            Priority.EDIT,
            coalesce_key=f"edit:{message_id}",
            build=kwargs,
        )

    @staticmethod
    def _edit_kwargs(
        chat_id: int, message_id: int, text: Html, keyboard: Keyboard | None
    ) -> Kwargs:
        return {
            "chat_id": chat_id,
            "message_id": message_id,
            "text": shorten(text),
            "parse_mode": ParseMode.HTML,
            "reply_markup": markup(keyboard),  # None removes the buttons
        }

    async def send_poll(
        self, chat_id: int, poll: Poll, *, on_posted: OnPosted | None = None
    ) -> Delivery:
        kwargs: Kwargs = {
            "chat_id": chat_id,
            "question": poll.question,
            "options": list(poll.options),
            "is_anonymous": False,
            "allows_multiple_answers": poll.multiple_answers,
            "api_kwargs": {"hide_results_until_closes": True},
        }
        return await self._submit(
            chat_id,
            "send_poll",
            _replying(kwargs, poll.reply_to),
            Priority.REPLY,
            on_posted=on_posted,
        )

    async def stop_poll(self, chat_id: int, message_id: int) -> Delivery:
        kwargs: Kwargs = {"chat_id": chat_id, "message_id": message_id}
        return await self._submit(chat_id, "stop_poll", kwargs, Priority.REPLY)

    async def send_later(
        self, chat_id: int, build: BuildNotice, *, priority: Priority = Priority.NOTICE
    ) -> Delivery:
        """Send what `build` gives when the item's turn comes; None drops it for free."""

        async def kwargs() -> Kwargs:
            notice = await build()
            if notice is None:
                return {}
            sending: Kwargs = {
                "chat_id": chat_id,
                "text": notice.text,
                "parse_mode": ParseMode.HTML,
            }
            return _replying(sending, notice.reply_to)

        return await self._submit(chat_id, "send_message", {}, priority, build=kwargs)

    # Invite links and join requests are answered at once, outside any group's budget: they
    # are no messages in the chat.

    async def create_invite_link(self, chat_id: int, name: str) -> str:
        try:
            link = await self.bot.create_chat_invite_link(
                chat_id, name=name, creates_join_request=True
            )
        except TelegramError as exc:
            raise ChatActionFailed(str(exc)) from exc
        return link.invite_link

    async def approve_join_request(self, chat_id: int, telegram_id: int) -> None:
        try:
            await self.bot.approve_chat_join_request(chat_id, telegram_id)
        except TelegramError as exc:
            raise ChatActionFailed(str(exc)) from exc

    async def decline_join_request(self, chat_id: int, telegram_id: int) -> None:
        try:
            await self.bot.decline_chat_join_request(chat_id, telegram_id)
        except TelegramError as exc:
            raise ChatActionFailed(str(exc)) from exc

    def start_link(self, payload: StartPayload) -> str:
        return deep_links.url(self.bot.username, payload)

    # -- the queue --------------------------------------------------------------------------

    async def _submit(
        self,
        chat_id: int,
        method: str,
        kwargs: Kwargs,
        priority: Priority = Priority.REPLY,
        *,
        coalesce_key: str | None = None,
        on_posted: OnPosted | None = None,
        build: Callable[[], Awaitable[Kwargs]] | None = None,
    ) -> Delivery:
        """A Bot method through the chat's budget. `build`, if given, makes the arguments
        when the call is made; empty arguments drop the call (what it would have said is no
        longer true)."""
        queue = self._queue(chat_id)
        if coalesce_key is not None and coalesce_key in queue.by_key:
            waiting = queue.by_key[coalesce_key]
            waiting.kwargs = kwargs  # still queued: it will simply carry the newest state
            waiting.build = build
            return waiting.delivery
        item = _Item(
            int(priority),
            next(self._seq),
            chat_id,
            method,
            kwargs,
            coalesce_key,
            on_posted,
            build=build,
        )
        heapq.heappush(queue.heap, item)
        if coalesce_key is not None:
            queue.by_key[coalesce_key] = item
        if queue.flushing is not None and queue.flushing is asyncio.current_task():
            # Submitted from an on_posted of this chat's own flush: that flush, which holds
            # the lock, takes it in its loop (waiting for the lock here would never end).
            return item.delivery
        await self.flush(chat_id)
        return item.delivery

    def pending(self, chat_id: int | None = None) -> int:
        queues = [self._queues.get(chat_id)] if chat_id is not None else self._queues.values()
        return sum(len(q.heap) for q in queues if q)

    # -- the flush ----------------------------------------------------------------------

    async def flush(self, chat_id: int) -> None:
        """Send what the budget allows, in priority order; schedule the rest."""
        queue = self._queue(chat_id)
        async with queue.lock:
            queue.flushing = asyncio.current_task()
            try:
                await self._flush_locked(chat_id, queue)
            finally:
                queue.flushing = None

    async def _flush_locked(self, chat_id: int, queue: _ChatQueue) -> None:
        while queue.heap:
            wait, why = self._wait_needed(chat_id, queue)
            if wait > 0:
                if self._schedule_flush(chat_id, queue, wait):
                    # Routine spacing of card edits is not news; a full budget or a
                    # back-off is: the reader of the log learns why a reply is late.
                    log.log(
                        logging.DEBUG if why == "edit_spacing" else logging.INFO,
                        "event=outbox_held chat=%s reason=%s queued=%d wait_s=%.1f",
                        chat_id,
                        why,
                        len(queue.heap),
                        wait,
                    )
                return
            item = heapq.heappop(queue.heap)
            if item.coalesce_key is not None:
                queue.by_key.pop(item.coalesce_key, None)
            retry_in = await self._perform(queue, item)
            if retry_in is not None:
                heapq.heappush(queue.heap, item)
                if item.coalesce_key is not None:
                    queue.by_key.setdefault(item.coalesce_key, item)
                self._schedule_flush(chat_id, queue, retry_in)
                return

    async def flush_all(self) -> None:
        for chat_id in list(self._queues):
            await self.flush(chat_id)

    def _queue(self, chat_id: int) -> _ChatQueue:
        return self._queues.setdefault(chat_id, _ChatQueue())

    def _wait_needed(self, chat_id: int, queue: _ChatQueue) -> tuple[float, str]:
        """How long the next item must wait, and why: `backoff` (a 429 or a network error),
        `group_budget` (20 in the last minute) or `edit_spacing` (card edits spread out)."""
        now = self.clock.monotonic()
        if queue.blocked_until > now:
            return queue.blocked_until - now, "backoff"
        if not is_group(chat_id):
            return 0.0, ""
        while queue.sent_times and queue.sent_times[0] <= now - WINDOW:
            queue.sent_times.popleft()
        wait, why = 0.0, ""
        if len(queue.sent_times) >= self.group_per_minute:
            wait, why = queue.sent_times[0] + WINDOW - now, "group_budget"
        if queue.heap[0].priority == Priority.EDIT:
            spacing = queue.last_edit_at + self.edit_interval - now
            if spacing > wait:
                wait, why = spacing, "edit_spacing"
        return wait, why

    def _schedule_flush(self, chat_id: int, queue: _ChatQueue, delay: float) -> bool:
        """Plan a flush in `delay` seconds; False if an earlier one is planned already."""
        now = self.clock.monotonic()
        due = now + delay
        if queue.flush_at is not None and now <= queue.flush_at <= due:
            return False  # an earlier flush is already planned; it will plan the next one
        queue.flush_at = due

        async def run() -> None:
            queue.flush_at = None
            await self.flush(chat_id)

        self.schedule(max(delay, 0.05), chat_id, run)
        return True

    async def _perform(self, queue: _ChatQueue, item: _Item) -> float | None:
        """Do one call. None when done (sent or failed for good), else seconds to wait."""
        if item.build is not None:
            item.kwargs = await item.build()
            item.build = None
            if not item.kwargs:  # no longer needed by the time its turn came: costs nothing
                item.delivery.status = Status.DROPPED
                return None
            if item.chat_id != item.kwargs.get("chat_id", item.chat_id):
                item.kwargs["chat_id"] = item.chat_id
        try:
            result: object = await getattr(self.bot, item.method)(**item.kwargs)
        except RetryAfter as exc:
            wait = _seconds(exc.retry_after)
            queue.blocked_until = self.clock.monotonic() + wait
            log.warning(
                "event=outbox_retry_after chat=%s method=%s wait_s=%.0f",
                item.chat_id,
                item.method,
                wait,
            )
            return wait
        except ChatMigrated as exc:
            # Re-file the item under the supergroup's id; the migration handler moves the team.
            self._refile(item, exc.new_chat_id)
            return None
        except BadRequest as exc:
            if "not modified" in exc.message.lower():
                self._done(queue, item, None)
                return None
            log.error(
                "event=outbox_refused chat=%s method=%s error=%r",
                item.chat_id,
                item.method,
                exc.message,
            )
            item.delivery.status, item.delivery.error = Status.FAILED, exc.message
            return None
        except Forbidden as exc:
            log.info(
                "event=outbox_forbidden chat=%s method=%s error=%r",
                item.chat_id,
                item.method,
                exc.message,
            )
            item.delivery.status, item.delivery.error = Status.FAILED, exc.message
            return None
        except NetworkError as exc:
            item.attempts += 1
            wait = min(self.retry_base * 2.0 ** (item.attempts - 1), self.retry_max)
            queue.blocked_until = self.clock.monotonic() + wait
            log.warning(
                "event=outbox_network_error chat=%s method=%s attempt=%d wait_s=%.0f error=%r",
                item.chat_id,
                item.method,
                item.attempts,
                wait,
                str(exc),
            )
            return wait
        where = posted(result)
        self._done(queue, item, where)
        if item.on_posted is not None and where is not None:
            try:
                await item.on_posted(where)
            except Exception:
                log.exception(
                    "event=outbox_on_posted_failed chat=%s method=%s", item.chat_id, item.method
                )
        return None

    def _done(self, queue: _ChatQueue, item: _Item, where: Posted | None) -> None:
        if is_group(item.chat_id):
            queue.sent_times.append(self.clock.monotonic())
            if item.priority == Priority.EDIT:
                queue.last_edit_at = self.clock.monotonic()
        item.delivery.status = Status.SENT
        item.delivery.posted = where

    def _refile(self, item: _Item, new_chat_id: int) -> None:
        if "message_id" in item.kwargs or item.build is not None:
            # An edit or stopPoll names a message of the old chat, which is gone; the
            # migration reposts what is still open.
            item.delivery.status, item.delivery.error = Status.FAILED, "chat migrated"
            return
        item.chat_id = new_chat_id
        item.kwargs["chat_id"] = new_chat_id
        queue = self._queue(new_chat_id)
        heapq.heappush(queue.heap, item)
        self._schedule_flush(new_chat_id, queue, 0)


def _seconds(value: int | float | timedelta) -> float:
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)
