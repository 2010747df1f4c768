"""Everything the bot sends or edits goes through here: a per-chat outbox that owns each
group's budget (SPEC §9), sends at once while the budget allows and otherwise queues by
priority, coalesces card edits, and retries 429s and network errors without losing anything.

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
from enum import IntEnum
from typing import Any

from telegram import Bot, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter

from bot.clock import Clock
from bot.texts.render import shorten, split_message

log = logging.getLogger(__name__)

WINDOW = 60.0


class Priority(IntEnum):
    """Lower goes first when the budget is short (SPEC §9)."""

    REPLY = 0  # command replies, new cards, results, polls
    NOTICE = 1  # reminders and digests
    EDIT = 2  # card edits: only the newest state of a card matters


Schedule = Callable[[float, int, Callable[[], Awaitable[None]]], None]
OnSent = Callable[[Any], Awaitable[None]]


@dataclass
class Delivery:
    """What became of one item: sent now (with Telegram's answer), queued, or failed."""

    status: str = "queued"
    result: Any = None
    error: str | None = None

    @property
    def sent(self) -> bool:
        return self.status == "sent"

    @property
    def message(self) -> Message | None:
        return self.result if isinstance(self.result, Message) else None


@dataclass(order=True)
class _Item:
    priority: int
    seq: int
    chat_id: int = field(compare=False)
    method: str = field(compare=False)
    kwargs: dict[str, Any] = field(compare=False)
    coalesce_key: str | None = field(compare=False, default=None)
    on_sent: OnSent | None = field(compare=False, default=None)
    delivery: Delivery = field(compare=False, default_factory=Delivery)
    attempts: int = field(compare=False, default=0)
    build: Callable[[], Awaitable[dict[str, Any]]] | None = field(compare=False, default=None)


@dataclass
class _ChatQueue:
    heap: list[_Item] = field(default_factory=list)
    by_key: dict[str, _Item] = field(default_factory=dict)
    sent_times: deque[float] = field(default_factory=deque)
    blocked_until: float = 0.0
    last_edit_at: float = float("-inf")
    flush_at: float | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def is_group(chat_id: int) -> bool:
    # Private chats have positive ids (the user's); groups, supergroups, channels negative.
    return chat_id < 0


class Outbox:
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

    # -- what handlers call -------------------------------------------------------------

    async def send(
        self,
        chat_id: int,
        text: str,
        *,
        priority: Priority = Priority.REPLY,
        reply_markup: Any = None,
        reply_to: int | None = None,
        on_sent: OnSent | None = None,
        **extra: Any,
    ) -> Delivery:
        """Send HTML text; a text over Telegram's limit goes out as several messages, the
        keyboard and `on_sent` with the first (cards are shortened, never split)."""
        parts = split_message(text)
        first: Delivery | None = None
        for index, part in enumerate(parts):
            kwargs: dict[str, Any] = {
                "chat_id": chat_id,
                "text": part,
                "parse_mode": ParseMode.HTML,
                "link_preview_options": None,
                **extra,
            }
            if index == 0:
                if reply_markup is not None:
                    kwargs["reply_markup"] = reply_markup
                if reply_to is not None:
                    kwargs["reply_to_message_id"] = reply_to
                    kwargs["allow_sending_without_reply"] = True
            delivery = await self.submit(
                chat_id, "send_message", kwargs, priority, on_sent=on_sent if index == 0 else None
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
        caption: str | None = None,
        reply_to: int | None = None,
        priority: Priority = Priority.REPLY,
    ) -> Delivery:
        """Send a file (one message); the caption is HTML. The bytes stay with the item, so a
        retry uploads them again."""
        kwargs: dict[str, Any] = {"chat_id": chat_id, "document": data, "filename": filename}
        if caption is not None:
            kwargs["caption"] = caption
            kwargs["parse_mode"] = ParseMode.HTML
        if reply_to is not None:
            kwargs["reply_to_message_id"] = reply_to
            kwargs["allow_sending_without_reply"] = True
        return await self.submit(chat_id, "send_document", kwargs, priority)

    async def edit(
        self,
        chat_id: int,
        message_id: int,
        text: str,
        *,
        reply_markup: Any = None,
        priority: Priority = Priority.EDIT,
    ) -> Delivery:
        """Edit a message; a queued edit of the same message is replaced (newest state only)."""
        kwargs = {
            "chat_id": chat_id,
            "message_id": message_id,
            "text": shorten(text),
            "parse_mode": ParseMode.HTML,
            "reply_markup": reply_markup,
        }
        return await self.submit(
            chat_id, "edit_message_text", kwargs, priority, coalesce_key=f"edit:{message_id}"
        )

    async def edit_later(
        self,
        chat_id: int,
        message_id: int,
        render: Callable[[], Awaitable[tuple[str, Any]]],
    ) -> Delivery:
        """Edit a message to what `render` gives when the edit actually goes out: a burst of
        changes costs one render per edit sent, not one per change."""

        async def kwargs() -> dict[str, Any]:
            text, markup = await render()
            return {
                "chat_id": chat_id,
                "message_id": message_id,
                "text": shorten(text),
                "parse_mode": ParseMode.HTML,
                "reply_markup": markup,
            }

        return await self.submit(
            chat_id,
            "edit_message_text",
            {},
            Priority.EDIT,
            coalesce_key=f"edit:{message_id}",
            build=kwargs,
        )

    async def submit(
        self,
        chat_id: int,
        method: str,
        kwargs: dict[str, Any],
        priority: Priority = Priority.REPLY,
        *,
        coalesce_key: str | None = None,
        on_sent: OnSent | None = None,
        build: Callable[[], Awaitable[dict[str, Any]]] | None = None,
    ) -> Delivery:
        """Any Bot method (send_poll, stop_poll, send_document, …) through the chat's budget.
        `build`, if given, makes the arguments when the call is made; empty arguments drop
        the call (what it would have said is no longer true)."""
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
            on_sent,
            build=build,
        )
        heapq.heappush(queue.heap, item)
        if coalesce_key is not None:
            queue.by_key[coalesce_key] = item
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
            while queue.heap:
                wait = self._wait_needed(chat_id, queue)
                if wait > 0:
                    self._schedule_flush(chat_id, queue, wait)
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

    def _wait_needed(self, chat_id: int, queue: _ChatQueue) -> float:
        now = self.clock.monotonic()
        if queue.blocked_until > now:
            return queue.blocked_until - now
        if not is_group(chat_id):
            return 0.0
        while queue.sent_times and queue.sent_times[0] <= now - WINDOW:
            queue.sent_times.popleft()
        wait = 0.0
        if len(queue.sent_times) >= self.group_per_minute:
            wait = queue.sent_times[0] + WINDOW - now
        if queue.heap[0].priority == Priority.EDIT:
            wait = max(wait, queue.last_edit_at + self.edit_interval - now)
        return wait

    def _schedule_flush(self, chat_id: int, queue: _ChatQueue, delay: float) -> None:
        now = self.clock.monotonic()
        due = now + delay
        if queue.flush_at is not None and now <= queue.flush_at <= due:
            return  # an earlier flush is already planned; it will plan the next one
        queue.flush_at = due

        async def run() -> None:
            queue.flush_at = None
            await self.flush(chat_id)

        self.schedule(max(delay, 0.05), chat_id, run)

    async def _perform(self, queue: _ChatQueue, item: _Item) -> float | None:
        """Do one call. None when done (sent or failed for good), else seconds to wait."""
        if item.build is not None:
            item.kwargs = await item.build()
            item.build = None
            if not item.kwargs:  # no longer needed by the time its turn came: costs nothing
                item.delivery.status = "dropped"
                return None
            if item.chat_id != item.kwargs.get("chat_id", item.chat_id):
                item.kwargs["chat_id"] = item.chat_id
        try:
            result = await getattr(self.bot, item.method)(**item.kwargs)
        except RetryAfter as exc:
            wait = _seconds(exc.retry_after)
            queue.blocked_until = self.clock.monotonic() + wait
            log.warning("outbox: 429 in chat %s, retry after %.0fs", item.chat_id, wait)
            return wait
        except ChatMigrated as exc:
            # Re-file the item under the supergroup's id; the migration handler moves the team.
            self._refile(item, exc.new_chat_id)
            return None
        except BadRequest as exc:
            if "not modified" in exc.message.lower():
                self._done(queue, item, "sent", None)
                return None
            log.error("outbox: %s refused in chat %s: %s", item.method, item.chat_id, exc.message)
            item.delivery.status, item.delivery.error = "failed", exc.message
            return None
        except Forbidden as exc:
            log.info("outbox: %s forbidden in chat %s: %s", item.method, item.chat_id, exc.message)
            item.delivery.status, item.delivery.error = "failed", exc.message
            return None
        except NetworkError as exc:
            item.attempts += 1
            wait = min(self.retry_base * 2 ** (item.attempts - 1), self.retry_max)
            queue.blocked_until = self.clock.monotonic() + wait
            log.warning("outbox: network error (%s), retry %d in %.0fs", exc, item.attempts, wait)
            return wait
        self._done(queue, item, "sent", result)
        if item.on_sent is not None:
            try:
                await item.on_sent(result)
            except Exception:
                log.exception("outbox: on_sent callback failed")
        return None

    def _done(self, queue: _ChatQueue, item: _Item, status: str, result: Any) -> None:
        if is_group(item.chat_id):
            queue.sent_times.append(self.clock.monotonic())
            if item.priority == Priority.EDIT:
                queue.last_edit_at = self.clock.monotonic()
        item.delivery.status = status
        item.delivery.result = result

    def _refile(self, item: _Item, new_chat_id: int) -> None:
        if "message_id" in item.kwargs or item.build is not None:
            # An edit or stopPoll names a message of the old chat, which is gone; the
            # migration reposts what is still open.
            item.delivery.status, item.delivery.error = "failed", "chat migrated"
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
