"""The durable inbox (SPEC §9): nothing Telegram handed over is lost with the process.

python-telegram-bot confirms a batch of updates to Telegram with its next getUpdates, whether
or not they were handled, and handles them concurrently; a process that dies in between takes
them along. So:

- `InboxRequest` wraps the request that getUpdates goes through and stores each answer's
  updates in the inbox (storage/inbox.py) before python-telegram-bot sees them, and so before
  their offset can be confirmed. If storing fails, the answer fails: the offset stays where it
  was and Telegram delivers the batch again.
- `InboxProcessor` wraps the update processor: it marks each update handled when its handling
  finished, and does not handle an update again that was in the inbox when it came (Telegram
  delivers a batch again when its confirmation never arrived, for instance after a kill).
- `UpdateInbox.replay`, at start and before polling begins, handles what a stop left
  unhandled, once, in update_id order.

A kill between the end of an update's handling and its mark is the one window left: that
update is handled a second time at the next start (at most one duplicate; SPEC §9)."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from collections.abc import Awaitable
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram._utils.types import ODVInput
from telegram.ext import Application, BaseUpdateProcessor
from telegram.request import BaseRequest, RequestData

from bot.clock import Clock
from storage.inbox import Inbox

log = logging.getLogger(__name__)

# Telegram keeps an update it could not deliver for at most 24 hours, so it can deliver one
# again only within a day of its arrival: two days of handled update_ids recognise every
# delivery again. (After a week without updates Telegram may choose new update_ids at random;
# by then every handled row is long gone, so an id chosen anew is never taken for an old one.)
KEEP_HANDLED = timedelta(days=2)


class UpdateInbox:
    """The inbox as the Telegram side uses it: its storage is bound at start (post_init),
    before the first getUpdates."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._store: Inbox | None = None
        # update_ids that were in the inbox already when a getUpdates answer brought them
        # again: the processor skips each once.
        self._again: set[int] = set()

    def bind(self, store: Inbox) -> None:
        self._store = store

    @property
    def store(self) -> Inbox:
        if self._store is None:
            raise RuntimeError("the inbox is not open yet")
        return self._store

    async def receive(self, answer: bytes) -> None:
        """Store one getUpdates answer (as Telegram sent it) before anyone acts on it."""
        received = await self.store.receive(answer.decode("utf-8"), self.clock.now())
        if received.known:
            self._again.update(received.known)
            log.info("event=updates_delivered_again count=%d", len(received.known))

    def delivered_again(self, update_id: int) -> bool:
        """Whether this update came again while it was in the inbox already (handled, or
        being handled): then it is not handled now."""
        if update_id in self._again:
            self._again.discard(update_id)
            return True
        return False

    async def handled(self, update_id: int) -> None:
        """Mark the update handled (one statement; the update counts as done when it is
        written)."""
        await self.store.mark_handled([update_id], self.clock.now())

    async def replay(self, application: Application[Any, Any, Any, Any, Any, Any]) -> int:
        """Handle what a stop left unhandled, one after the other in update_id order, through
        the update processor (which marks each handled); returns how many."""
        left = await self.store.unhandled()
        for row in left:
            try:
                update = Update.de_json(json.loads(row.payload), application.bot)
            except (ValueError, TypeError, KeyError):
                log.exception("event=inbox_unreadable update_id=%d", row.update_id)
                await self.handled(row.update_id)
                continue
            await application.update_processor.process_update(
                update, application.process_update(update)
            )
        if left:
            log.info("event=inbox_replayed count=%d", len(left))
        return len(left)


class InboxRequest(BaseRequest):
    """The request getUpdates goes through (`ApplicationBuilder.get_updates_request`),
    around the one that talks to Telegram: each answer's updates are in the inbox before
    python-telegram-bot reads them."""

    def __init__(self, inner: BaseRequest, inbox: UpdateInbox) -> None:
        self.inner = inner
        self.inbox = inbox

    @property
    def read_timeout(self) -> float | None:
        return self.inner.read_timeout

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        status, payload = await self.inner.do_request(
            url,
            method,
            request_data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )
        # An answer without updates (a long poll that timed out) has nothing to store.
        if status == 200 and url.endswith("/getUpdates") and b'"update_id"' in payload:
            await self.inbox.receive(payload)
        return status, payload


class InboxProcessor(BaseUpdateProcessor):
    """Around the update processor (`OrderedUpdateProcessor`, or what a test or benchmark
    passes): an update delivered again is not handled twice; each one is marked handled in
    the inbox when its handling finished — before the Application counts it done, so a stop
    (SIGTERM), which waits for every update in flight, waits for the marks too.

    `hold` (seconds; tests only, `WIQ_TEST_HOLD_UPDATES` in `wiq-bot run`) makes each update
    wait that long after it arrived before its handling begins, in arrival order: the window
    in which a test kills or stops the process with updates fetched and not yet handled."""

    def __init__(self, inner: BaseUpdateProcessor, inbox: UpdateInbox, hold: float = 0.0) -> None:
        super().__init__(inner.max_concurrent_updates)
        self.inner = inner
        self.inbox = inbox
        self.hold = hold
        self._last_release = 0.0
        self.in_flight = 0  # from arrival until the mark is written

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        update_id = update.update_id if isinstance(update, Update) else None
        if update_id is not None and self.inbox.delivered_again(update_id):
            if inspect.iscoroutine(coroutine):
                coroutine.close()  # never started: nothing to undo
            log.debug("event=update_skipped update_id=%d reason=delivered_again", update_id)
            return
        self.in_flight += 1
        try:
            if self.hold:
                await self._held()
            try:
                await self.inner.do_process_update(update, coroutine)
            except Exception:
                # Handled, if badly (the error handler has run): not tried again at start.
                if update_id is not None:
                    await self.inbox.handled(update_id)
                raise
            if update_id is not None:
                await self.inbox.handled(update_id)
        finally:
            self.in_flight -= 1

    async def _held(self) -> None:
        loop = asyncio.get_running_loop()
        # Strictly later than the one before: held updates are let go in arrival order.
        release = max(loop.time() + self.hold, self._last_release + 1e-6)
        self._last_release = release
        await asyncio.sleep(release - loop.time())

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()


def hold_from(value: str | None) -> float:
    """The test-only hold from the environment's text (empty or unset: none)."""
    if not value:
        return 0.0
    seconds = float(value)
    if seconds < 0:
        raise ValueError("the hold is a number of seconds, not negative")
    return seconds
