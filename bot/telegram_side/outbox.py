"""Everything the bot sends or edits goes through here: the flows' port (bot.flows.port) on
the Bot API, as a transactional outbox. Every send and edit (all but answerCallbackQuery),
every invite link and every answer to a join request is first a row in the database
(storage/outbox.py), with the people it names, written in the unit of work of the update or
due item that says it (storage.db: one transaction with the state change that causes it), so
a kill loses both or neither; the sender takes it up only once that unit is committed
(`after_commit`), and outside a unit at once. The sender works from the table: per chat, in
priority order, card edits coalesced; each group's budget is taken from the send times stored
there (so a restart does not spend it twice); 429s and network errors are retried; an item is
marked done when Telegram confirmed it, and what it records once posted (a typed value) is
carried out then — after a restart too, when `resume` picks up what was left. Keyboards go out
in the one callback codec.

No caller ever waits for a budget: a queued item is flushed later by a scheduled job."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
)

from bot.clock import Clock
from bot.flows import posting
from bot.flows.payloads import StartPayload
from bot.flows.port import (
    Deferred,
    Delivery,
    Edited,
    Keyboard,
    OnFailed,
    OnPosted,
    Poll,
    Posted,
    Priority,
    Record,
    Refused,
    Reminder,
    Render,
    Status,
)
from bot.ops import metrics
from bot.telegram_side import deep_links
from bot.telegram_side.bot_calls import Kwargs, bot_call, keyboard_rows, posted
from bot.texts.i18n import Html
from bot.texts.render import split_message
from storage.claims import OUTBOX, Worker
from storage.outbox import Outbox as OutboxRows
from storage.outbox import OutboxItem

log = logging.getLogger(__name__)

WINDOW = 60.0  # Telegram's window of a group's budget (config: [limits] group_window)

Schedule = Callable[[float, int, Callable[[], Awaitable[None]]], None]
Message_ = dict[str, Any]
ON_FAILED = "on_failed"  # in an item's message: what its refusal does (bot.flows.port.OnFailed)
# Telegram's refusals of a join request's answer that say it was answered already: a retry
# after an attempt Telegram acted on (its answer lost), or the person is in. No refusal of what
# was asked: the item is done, and its `on_failed` is not carried out.
ANSWERED_ALREADY = ("hide_requester_missing", "user_already_participant")


@dataclass
class _ChatQueue:
    """What one process keeps of a chat besides the table: when to try again."""

    blocked_until: float = 0.0
    last_edit_at: float = float("-inf")
    flush_at: float | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    flushing: asyncio.Task[Any] | None = None  # the task whose flush holds the lock


class NetworkScope(Protocol):
    """Which network the work at hand is for (bot.services.Deployment): a row is written as
    the network whose update or due item says it, and what it records, renders and does when
    it goes out is that network's again."""

    def current_id(self) -> int | None: ...

    def serving(self, network_id: int | None) -> contextlib.AbstractContextManager[None]: ...


class _OneNetwork:
    """The scope of an outbox used on its own (tests of the outbox): no network named."""

    def current_id(self) -> int | None:
        return None

    def serving(self, network_id: int | None) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()


def is_group(chat_id: int) -> bool:
    # Private chats have positive ids (the user's); groups, supergroups, channels negative.
    return chat_id < 0


async def _nothing_recorded(what: OnPosted, post: Posted) -> None:
    raise RuntimeError("the outbox was not bound to the flows (TelegramOutbox.bind)")


async def _nothing_rendered(what: Deferred) -> None:
    raise RuntimeError("the outbox was not bound to the flows (TelegramOutbox.bind)")


async def _nothing_refused(what: OnFailed, error: str) -> None:
    raise RuntimeError("the outbox was not bound to the flows (TelegramOutbox.bind)")


class TelegramOutbox:
    """The port (bot.flows.port.Outbox) on the Bot API, kept in the database: what is queued
    survives a restart and goes out after it (`resume`)."""

    def __init__(
        self,
        bot: Bot,
        clock: Clock,
        schedule: Schedule,
        rows: OutboxRows,
        *,
        group_per_minute: int = 20,
        edits_per_minute: int = 12,
        group_window: float = WINDOW,
        retry_base: float = 1.0,
        retry_max: float = 60.0,
        worker: Worker | None = None,
    ) -> None:
        self.bot = bot
        self.clock = clock
        self.schedule = schedule
        self.rows = rows
        self.group_per_minute = group_per_minute
        self.window = group_window
        # Card edits are spaced out so that a burst of presses costs a few edits and leaves
        # room in the group's budget for replies and results.
        self.edit_interval = group_window / edits_per_minute
        self.retry_base = retry_base
        self.retry_max = retry_max
        # One of several workers on the database (SPEC §9): a chat's queue is sent by the
        # worker holding its claim (storage/claims.py), one at a time; None: the only process.
        self.worker = worker
        self.record: Record = _nothing_recorded
        self.render: Render = _nothing_rendered
        self.refused: Refused = _nothing_refused
        self.scope: NetworkScope = _OneNetwork()
        self._queues: dict[int, _ChatQueue] = {}
        # What this process handed out for items still waiting; updated when they go out.
        self._deliveries: dict[int, Delivery] = {}
        # The card edits this process queued that are not taken yet: (chat, key) -> row, card.
        self._waiting_cards: dict[tuple[int, str], tuple[int, Edited]] = {}

    def bind(
        self,
        record: Record,
        render: Render,
        refused: Refused | None = None,
        *,
        scope: NetworkScope | None = None,
    ) -> None:
        """How the flows record what was posted, render what is built when it goes out, and
        carry out what a refusal does; `scope`: for which network (each row's, SPEC §1)."""
        self.record = record
        self.render = render
        if refused is not None:
            self.refused = refused
        if scope is not None:
            self.scope = scope

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
        on_failed: OnFailed | None = None,
        about: Sequence[int] = (),
        subject: int | None = None,
    ) -> Delivery:
        """Send HTML text; a text over Telegram's limit goes out as several messages, the
        keyboard, `on_posted` and `on_failed` with the first (cards are shortened, never
        split). Every part keeps the people it is about (/forgetme finds them by these ids)."""
        first: Delivery | None = None
        for index, part in enumerate(split_message(text)):
            message: Message_ = {"text": part, "silent": silent}
            if index == 0:
                message["keyboard"] = keyboard_rows(keyboard)
                message["reply_to"] = reply_to
                if on_failed is not None:
                    message[ON_FAILED] = posting.encode(on_failed)
            item_id, new = await self._add(
                chat_id,
                priority,
                "text",
                message,
                on_posted=on_posted if index == 0 else None,
                about=about,
                subject=subject,
            )
            delivery = await self._delivery(item_id)
            if first is None:
                first = delivery
                if not new:  # the same post waits already (with all its parts)
                    break
        assert first is not None
        await self._flush_after_commit(chat_id)
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
        message: Message_ = {"filename": filename, "caption": caption, "reply_to": reply_to}
        item_id, _ = await self._add(chat_id, priority, "document", message, document=data)
        return await self._flushed(chat_id, item_id)

    async def edit(
        self, chat_id: int, message_id: int, text: Html, *, keyboard: Keyboard | None = None
    ) -> Delivery:
        """Edit a message; a queued edit of the same message is replaced (newest state only)."""
        message: Message_ = {
            "message_id": message_id,
            "text": text,
            "keyboard": keyboard_rows(keyboard),
        }
        self._waiting_cards.pop((chat_id, f"edit:{message_id}"), None)  # replaced by this
        item_id, _ = await self._add(
            chat_id, Priority.EDIT, "edit", message, coalesce_key=f"edit:{message_id}"
        )
        return await self._flushed(chat_id, item_id, Priority.EDIT)

    async def edit_later(self, chat_id: int, message_id: int, card: Edited) -> Delivery:
        """Edit a card (or a round's result) to what it is when the edit actually goes out: a
        burst of changes costs one render per edit sent, not one per change."""
        key = (chat_id, f"edit:{message_id}")
        # Another worker may have sent a row this process remembers as waiting: with several,
        # every edit writes (coalesced in the table).
        waiting = self._waiting_cards.get(key) if self.worker is None else None
        if waiting is None or waiting[1] != card:
            message: Message_ = {"message_id": message_id, "deferred": posting.encode(card)}
            item_id, _ = await self._add(
                chat_id, Priority.EDIT, "deferred", message, coalesce_key=key[1]
            )
            queued = (item_id, card)
            # Remembered once the row is committed: a unit rolled back leaves no row to skip to.
            await self.rows.db.after_commit(lambda: self._waiting_cards.__setitem__(key, queued))
        else:
            # This process queued the same edit and nobody took it yet: the row already
            # says "the card as it is when it goes out" — a press costs no write here.
            item_id = waiting[0]
        return await self._flushed(chat_id, item_id, Priority.EDIT)

    async def send_poll(
        self,
        chat_id: int,
        poll: Poll,
        *,
        on_posted: OnPosted | None = None,
        about: Sequence[int] = (),
    ) -> Delivery:
        message: Message_ = {
            "question": poll.question,
            "options": list(poll.options),
            "multiple_answers": poll.multiple_answers,
            "reply_to": poll.reply_to,
        }
        if poll.reply_to_post is not None:
            message["reply_to_post"] = posting.encode(poll.reply_to_post)
        item_id, _ = await self._add(
            chat_id, Priority.REPLY, "poll", message, on_posted=on_posted, about=about
        )
        return await self._flushed(chat_id, item_id)

    async def stop_poll(self, chat_id: int, message_id: int) -> Delivery:
        message: Message_ = {"message_id": message_id}
        item_id, _ = await self._add(chat_id, Priority.REPLY, "stop_poll", message)
        return await self._flushed(chat_id, item_id)

    async def send_later(
        self,
        chat_id: int,
        notice: Deferred,
        *,
        priority: Priority = Priority.NOTICE,
        on_posted: OnPosted | None = None,
    ) -> Delivery:
        """Send the notice as it is when the item's turn comes; nothing, for free, if it is no
        longer needed then."""
        reply_to = notice.reply_to if isinstance(notice, Reminder) else None
        message: Message_ = {"deferred": posting.encode(notice), "reply_to": reply_to}
        item_id, _ = await self._add(chat_id, priority, "deferred", message, on_posted=on_posted)
        return await self._flushed(chat_id, item_id)

    # Invite links and the answers to join requests are no messages in the chat: they spend
    # no budget. Each is a row, first in its chat's queue, tried at once and retried while
    # Telegram cannot be reached (after a restart too). A link is recorded once Telegram made
    # it (`on_posted`, with `Posted.link`): what follows from it is the flow's.

    async def create_invite_link(
        self, chat_id: int, name: str, *, on_posted: OnPosted, subject: int | None = None
    ) -> Delivery:
        item_id, _ = await self._add(
            chat_id,
            Priority.ACTION,
            "invite_link",
            {"name": name},
            on_posted=on_posted,
            subject=subject,
            budget=False,
        )
        return await self._flushed(chat_id, item_id)

    async def approve_join_request(
        self, chat_id: int, telegram_id: int, *, on_failed: OnFailed | None = None
    ) -> None:
        await self._answer_join_request(chat_id, "approve", telegram_id, on_failed)

    async def decline_join_request(
        self, chat_id: int, telegram_id: int, *, on_failed: OnFailed | None = None
    ) -> None:
        await self._answer_join_request(chat_id, "decline", telegram_id, on_failed)

    async def _answer_join_request(
        self, chat_id: int, kind: str, telegram_id: int, on_failed: OnFailed | None
    ) -> None:
        message: Message_ = {"user_id": telegram_id}
        if on_failed is not None:
            message[ON_FAILED] = posting.encode(on_failed)
        item_id, _ = await self._add(chat_id, Priority.ACTION, kind, message, budget=False)
        await self._flushed(chat_id, item_id)

    def start_link(self, payload: StartPayload) -> str:
        return deep_links.url(self.bot.username, payload)

    # -- the queue, in the database -------------------------------------------------------

    async def _add(
        self,
        chat_id: int,
        priority: Priority,
        kind: str,
        message: Message_,
        *,
        document: bytes | None = None,
        coalesce_key: str | None = None,
        on_posted: OnPosted | None = None,
        about: Sequence[int] = (),
        subject: int | None = None,
        budget: bool = True,
    ) -> tuple[int, bool]:
        """One row, written in the current unit of work (committed with it; outside a unit,
        committed when this returns): its id, and whether it is new (False: the same post or
        an edit of the same message waits already)."""
        return await self.rows.add(
            chat_id,
            int(priority),
            kind,
            json.dumps(message, ensure_ascii=False),
            self.clock.now(),
            budget=budget and is_group(chat_id),
            document=document,
            coalesce_key=coalesce_key,
            on_posted=posting.encode(on_posted) if on_posted is not None else None,
            person_ids=about,
            subject_id=subject,
            network_id=self.scope.current_id(),
        )

    async def _delivery(self, item_id: int) -> Delivery:
        """What the caller is handed for the item; kept (to be updated when it goes out) once
        its row is committed."""
        delivery = self._deliveries.get(item_id)
        if delivery is None:
            delivery = Delivery()
            made = delivery
            await self.rows.db.after_commit(lambda: self._deliveries.setdefault(item_id, made))
        return delivery

    async def _flushed(
        self, chat_id: int, item_id: int, priority: Priority = Priority.REPLY
    ) -> Delivery:
        delivery = await self._delivery(item_id)
        await self._flush_after_commit(chat_id, priority)
        return delivery

    async def _flush_after_commit(self, chat_id: int, priority: Priority = Priority.REPLY) -> None:
        """Flush the chat once the unit that wrote its rows is committed (at once outside a
        unit): nothing is sent that a rollback takes back, and no Bot API call is made while
        the unit holds the database."""

        async def flush() -> None:
            queue = self._queue(chat_id)
            planned = queue.flush_at is not None and queue.flush_at > self.clock.monotonic()
            if not (priority == Priority.EDIT and planned):
                # A card edit in a chat whose flush is planned waits for it anyway (for the
                # edits' spacing, the budget or a back-off): a burst of presses costs no query.
                await self.flush(chat_id)

        await self.rows.db.after_commit(flush)

    async def pending(self, chat_id: int | None = None) -> int:
        """How many items wait (in the table: of every process, and from before a restart)."""
        return await self.rows.waiting(chat_id)

    async def resume(self) -> int:
        """At start: send what a stopped process left queued, or in flight (Telegram may have
        sent that already: at most one duplicate). Returns how many items wait. A worker of
        several leaves what the others are sending to them: it takes up a chat's rows left
        'sending' only once it holds the chat's claim (`flush`)."""
        if self.worker is None:
            await self.rows.resume(self._now(), self.clock.now())
        waiting = await self.rows.waiting()
        if waiting:
            log.info("event=outbox_resumed queued=%d", waiting)
        if self.worker is None:
            await self.flush_all()
        else:
            await self.flush_unclaimed()
        return waiting

    async def flush_unclaimed(self) -> None:
        """Several workers: send the chats with something waiting that no worker is sending
        (what a killed worker left, once its claim's lease ran out; a row whose flush the
        worker that queued it did not get to)."""
        for chat_id in await self.rows.chats_unclaimed(self._now()):
            await self.flush(chat_id)

    async def purge(self, keep: timedelta) -> int:
        """Forget what went out (or failed) longer than `keep` ago."""
        now = self.clock.now()
        return await self.rows.purge(now - keep, (now - keep).timestamp())

    # -- the flush ----------------------------------------------------------------------

    async def flush(self, chat_id: int) -> None:
        """Send what the budget allows, in priority order; schedule the rest."""
        queue = self._queue(chat_id)
        if queue.flushing is not None and queue.flushing is asyncio.current_task():
            # Called from what this chat's own flush records once something is posted (a
            # result brought up to date edits itself): that flush, which holds the lock,
            # takes the new row in its loop (waiting for the lock here would never end).
            return
        async with queue.lock:
            queue.flushing = asyncio.current_task()
            try:
                if self.worker is None:
                    await self._flush_locked(chat_id, queue)
                else:
                    await self._flush_claimed(chat_id, queue, self.worker)
            finally:
                queue.flushing = None

    async def _flush_claimed(self, chat_id: int, queue: _ChatQueue, worker: Worker) -> None:
        """One of several workers: only the holder of the chat's claim sends its queue, so no
        row goes out twice and the group's budget (from the send times in the table) holds
        across workers. Another holds it: it sends what waits; a flush here a moment later
        takes what it may have missed. What a killed holder left 'sending' goes again."""
        if not await worker.take(OUTBOX, chat_id, self._now()):
            self._schedule_flush(chat_id, queue, 1.0)
            return
        try:
            await self.rows.resume_chat(chat_id, self._now(), self.clock.now())
            await self._flush_locked(chat_id, queue)
        finally:
            await worker.release(OUTBOX, chat_id)

    async def _flush_locked(self, chat_id: int, queue: _ChatQueue) -> None:
        while (item := await self.rows.next(chat_id)) is not None:
            wait, why = await self._wait_needed(chat_id, queue, item)
            if wait > 0:
                if self._schedule_flush(chat_id, queue, wait):
                    # Routine spacing of card edits is not news; a full budget or a
                    # back-off is: the reader of the log learns why a reply is late.
                    level = logging.DEBUG if why == "edit_spacing" else logging.INFO
                    log.log(
                        level,
                        "event=outbox_held chat=%s reason=%s queued=%d wait_s=%.1f",
                        _chat(chat_id),
                        why,
                        await self.rows.waiting(chat_id),
                        wait,
                    )
                return
            if self.worker is not None and not await self.worker.take(OUTBOX, chat_id, self._now()):
                return  # the lease ran out while this worker stalled: another has the chat
            claimed = await self.rows.claim(item.id, self._now())
            if item.coalesce_key is not None:
                # Forgotten once it is taken, not before: a unit that coalesced its edit into
                # the row while the claim waited for it must not leave it remembered as waiting.
                self._waiting_cards.pop((chat_id, item.coalesce_key), None)
            if not claimed:
                continue  # taken by another sender, or replaced meanwhile
            retry_in = await self._perform(queue, item)
            if retry_in is not None:
                self._schedule_flush(chat_id, queue, retry_in)
                return

    async def flush_all(self) -> None:
        for chat_id in sorted(set(await self.rows.chats_waiting()) | set(self._queues)):
            await self.flush(chat_id)

    def _queue(self, chat_id: int) -> _ChatQueue:
        return self._queues.setdefault(chat_id, _ChatQueue())

    def _now(self) -> float:
        """Wall time in seconds: send times are stored, and a restart must still read them."""
        return self.clock.now().timestamp()

    async def _wait_needed(
        self, chat_id: int, queue: _ChatQueue, item: OutboxItem
    ) -> tuple[float, str]:
        """How long the next item must wait, and why: `backoff` (a 429 or a network error),
        `group_budget` (group_per_minute in the last window, as stored) or `edit_spacing`
        (card edits spread out)."""
        mono = self.clock.monotonic()
        if queue.blocked_until > mono:
            return queue.blocked_until - mono, "backoff"
        if not item.budget:
            return 0.0, ""
        now = self._now()
        spent = await self.rows.sent_since(chat_id, now - self.window)
        wait, why = 0.0, ""
        if len(spent) >= self.group_per_minute:
            oldest_counting = spent[len(spent) - self.group_per_minute]
            wait, why = oldest_counting + self.window - now, "group_budget"
        if item.priority == Priority.EDIT:
            spacing = queue.last_edit_at + self.edit_interval - mono
            if spacing > wait:
                wait, why = spacing, "edit_spacing"
        return wait, why

    def _schedule_flush(self, chat_id: int, queue: _ChatQueue, delay: float) -> bool:
        """Plan a flush in `delay` seconds; False (nothing planned) if the chat's one pending
        flush comes as early already. One pending flush per chat: the earliest wins, a request
        for a later or the same moment is a no-op, and a pending flush an earlier one replaced
        does nothing when its job runs. A pending flush whose moment has passed and whose job
        has not started yet still counts: it runs soon and plans what follows.

        `delay` was measured from a clock reading taken before this function reads the clock
        (in `_wait_needed`, across a query): two requests for the same moment differ here by
        the time that passed in between. So a pending flush serves a request it follows by
        less than `same_moment`; a flush is only ever later than asked, never earlier."""
        same_moment = 1.0  # seconds; far more than a query takes, far less than a budget's wait
        delay = max(delay, 0.05)
        due = self.clock.monotonic() + delay
        if queue.flush_at is not None and queue.flush_at <= due + same_moment:
            return False

        async def run() -> None:
            if queue.flush_at != due:
                return  # replaced by an earlier flush, which planned what follows
            queue.flush_at = None
            await self.flush(chat_id)

        self.schedule(delay, chat_id, run)
        queue.flush_at = due
        return True

    async def _call(self, item: OutboxItem) -> tuple[str, Kwargs] | None:
        """The Bot method and its arguments for an item; None when a deferred item is no
        longer needed."""
        message: Message_ = json.loads(item.message)
        chat_id = item.chat_id
        kind = item.kind
        if kind == "deferred":
            with self.scope.serving(item.network_id):
                rendered = await self.render(posting.decode(message["deferred"]))
            if rendered is None:
                return None
            text, keyboard = rendered
            message["text"], message["keyboard"] = text, keyboard_rows(keyboard)
            kind = "edit" if "message_id" in message else "text"
        if message.get("reply_to") is None and message.get("reply_to_post") is not None:
            message["reply_to"] = await self.rows.posted_message(chat_id, message["reply_to_post"])
        return bot_call(kind, message, chat_id, item.document)

    async def _perform(self, queue: _ChatQueue, item: OutboxItem) -> float | None:
        """Do one call. None when done (sent or failed for good), else seconds to wait."""
        try:
            call = await self._call(item)
        except Exception:
            # A row that cannot be rendered must not hold up the chat's queue behind it.
            log.exception("event=outbox_unrenderable chat=%s item=%s", _chat(item.chat_id), item.id)
            metrics.skipped("unrenderable")
            await self._failed(item, "could not be rendered")
            return None
        if call is None:  # no longer needed by the time its turn came: costs nothing
            metrics.skipped("dropped")
            await self.rows.done(item.id, Status.DROPPED, spent=False)
            self._finish(item.id, Status.DROPPED)
            return None
        method, kwargs = call
        try:
            result: object = await getattr(self.bot, method)(**kwargs)
        except RetryAfter as exc:
            wait = _seconds(exc.retry_after)
            queue.blocked_until = self.clock.monotonic() + wait
            await self.rows.requeue(item.id, spent_at=None, now=self.clock.now())
            log.warning(
                "event=outbox_retry_after chat=%s method=%s wait_s=%.0f",
                _chat(item.chat_id),
                method,
                wait,
            )
            return wait
        except ChatMigrated as exc:
            # Re-file the item under the supergroup's id; the migration handler moves the team.
            await self._refile(item, exc.new_chat_id)
            return None
        except BadRequest as exc:
            if "not modified" in exc.message.lower():
                await self._sent(queue, item, None)
                return None
            log.error(
                "event=outbox_refused chat=%s method=%s error=%r",
                _chat(item.chat_id),
                method,
                exc.message,
            )
            await self._failed(item, exc.message)
            return None
        except Forbidden as exc:
            log.info(
                "event=outbox_forbidden chat=%s method=%s error=%r",
                _chat(item.chat_id),
                method,
                exc.message,
            )
            await self._failed(item, exc.message)
            return None
        except NetworkError as exc:
            # Telegram may have acted (a timeout, a dropped connection): the attempt keeps
            # counting to the budget, and a retry may cause one duplicate.
            attempts = item.attempts + 1
            wait = min(self.retry_base * 2.0 ** (attempts - 1), self.retry_max)
            queue.blocked_until = self.clock.monotonic() + wait
            await self.rows.requeue(item.id, spent_at=self._now(), now=self.clock.now())
            log.warning(
                "event=outbox_network_error chat=%s method=%s attempt=%d wait_s=%.0f error=%r",
                _chat(item.chat_id),
                method,
                attempts,
                wait,
                str(exc),
            )
            return wait
        where = posted(result, item.chat_id)
        if where is not None and method == "send_message":
            # What went out, for what records it (a result compares it with what is stored).
            where = dataclasses.replace(where, text=kwargs["text"])
        await self._sent(queue, item, where)
        return None

    async def _sent(self, queue: _ChatQueue, item: OutboxItem, where: Posted | None) -> None:
        """Telegram confirmed it: what it records and the item done are one unit (a kill
        before its commit sends it once more, and records it then)."""
        confirmed_at = self._now()
        async with self.rows.db.transaction():
            if item.on_posted is not None and where is not None:
                try:
                    async with self.rows.db.transaction():  # a failed record undoes only itself
                        with self.scope.serving(item.network_id):
                            await self.record(posting.decode(item.on_posted), where)
                except Exception:
                    log.exception("event=outbox_on_posted_failed chat=%s", _chat(item.chat_id))
            await self.rows.done(
                item.id,
                Status.SENT,
                message_id=where.message_id if where else None,
                poll_id=where.poll_id if where else None,
                confirmed_at=confirmed_at,
            )
        if item.budget and item.priority == Priority.EDIT:
            queue.last_edit_at = self.clock.monotonic()
        self._finish(item.id, Status.SENT, where)

    async def _failed(self, item: OutboxItem, error: str) -> None:
        """Refused for good: the item done and what its refusal does (`on_failed`) are one
        unit, as for `_sent`."""
        on_failed = json.loads(item.message).get(ON_FAILED)
        if item.kind in ("approve", "decline") and any(
            reason in error.lower() for reason in ANSWERED_ALREADY
        ):
            on_failed = None
        async with self.rows.db.transaction():
            if on_failed is not None:
                try:
                    async with self.rows.db.transaction():  # a failed one undoes only itself
                        with self.scope.serving(item.network_id):
                            await self.refused(posting.decode(on_failed), error)
                except Exception:
                    log.exception("event=outbox_on_failed_failed chat=%s", item.chat_id)
            await self.rows.done(item.id, Status.FAILED, error=error, spent=False)
        self._finish(item.id, Status.FAILED, error=error)

    def _finish(
        self, item_id: int, status: Status, where: Posted | None = None, error: str | None = None
    ) -> None:
        delivery = self._deliveries.pop(item_id, None)
        if delivery is not None:
            delivery.status, delivery.posted, delivery.error = status, where, error

    async def _refile(self, item: OutboxItem, new_chat_id: int) -> None:
        if item.kind in ("edit", "stop_poll") or item.coalesce_key is not None:
            # An edit or stopPoll names a message of the old chat, which is gone; the
            # migration reposts what is still open.
            await self._failed(item, "chat migrated")
            return
        await self.rows.move(item.id, new_chat_id)
        self._schedule_flush(new_chat_id, self._queue(new_chat_id), 0)


def _chat(chat_id: int) -> int | str:
    """A chat as the log names it: a group by its id; a private chat's id is the person's
    Telegram id, so it is only `private`."""
    return chat_id if is_group(chat_id) else "private"


def _seconds(value: int | float | timedelta) -> float:
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)
