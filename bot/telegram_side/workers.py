"""Several webhook workers on one database (SPEC §9 "Several workers"): what makes a worker
one of several, beside the outbox's claim of a chat's queue (bot.telegram_side.outbox).

Any worker may receive any update (the reverse proxy spreads Telegram's posts over them).
Each update is handled once, as with one process, by the worker that stored it (the inbox
row, `InboxProcessor`'s unit of work); what several workers need besides:

- **Who has it**: the webhook notes the update's person (its sender) and the worker on its
  inbox row, with a lease (`received`), before Telegram hears it arrived; the worker renews
  the leases of what it still has to handle (`tick`).
- **A person's updates in order** (presses, ballots and reasons — a reason may reach another
  worker before its press): `SharedOrder` lets a worker handle update U of person P only when
  no earlier unhandled update of P is in the inbox, whichever worker has it (it looks again
  shortly; after three leases it gives up waiting, and says so).
- **Early closes count every earlier update**: `handling_before` asks the inbox for an
  unhandled update older than the completing one, received by any worker.
- **A killed worker's updates**: once their lease ran out, another worker takes them over
  (`tick`: one statement claims them) and handles them, in update_id order.

Every worker's timer sweeps the due work; each due item is guarded in the database (a round
closes once: its claim and the guarded transition), so a second worker's run is a no-op and a
killed worker's due items are done by the others."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.ext import Application, BaseUpdateProcessor

from bot.clock import Clock
from bot.telegram_side.inbox import handle_stored
from storage.claims import Claims, Worker
from storage.inbox import Inbox, Unhandled

log = logging.getLogger(__name__)

WORKER_KEY = "wiq-worker"  # where the Application's bot_data holds the SharedWork

_FIRST_LOOK = 0.01  # seconds before looking again whether a person's earlier update is done
_LAST_LOOK = 0.2


class SharedWork:
    """This worker's part in sharing the database: its name (host:pid, the heartbeat's), its
    lease, and the inbox and claims it works with once the database is open (`bind`)."""

    def __init__(self, name: str, lease: float, clock: Clock) -> None:
        self.name = name
        self.lease = lease
        self.clock = clock
        self._inbox: Inbox | None = None
        self.worker: Worker | None = None
        self.started = clock.now()
        self._unleased_done = False

    def bind(self, inbox: Inbox, claims: Claims) -> None:
        self._inbox = inbox
        self.worker = Worker(claims, self.name, self.lease)

    @property
    def inbox(self) -> Inbox:
        if self._inbox is None:
            raise RuntimeError("the database is not open yet")
        return self._inbox

    def _now(self) -> float:
        return self.clock.now().timestamp()

    async def received(self, update: Update) -> None:
        """The webhook stored the update: note its person and this worker, with a lease."""
        user = update.effective_user
        await self.inbox.lease(
            update.update_id, user.id if user else None, self.name, self._now() + self.lease
        )

    async def in_turn(self, update: object) -> None:
        """Until no earlier update of the same person waits in the inbox (any worker's)."""
        if not isinstance(update, Update) or update.effective_user is None:
            return
        person, update_id = update.effective_user.id, update.update_id
        loop = asyncio.get_running_loop()
        give_up = loop.time() + 3 * self.lease
        pause = _FIRST_LOOK
        waited = False
        while await self.inbox.earlier_of(person, update_id):
            if loop.time() >= give_up:
                log.warning("event=update_order_waited_out update_id=%d", update_id)
                return
            waited = True
            await asyncio.sleep(pause)
            pause = min(pause * 2, _LAST_LOOK)
        if waited:
            log.debug("event=update_in_turn update_id=%d", update_id)

    async def handling_before(self, update_id: int | None) -> bool:
        """Whether an update older than `update_id`, received by any worker, is unhandled."""
        return update_id is not None and await self.inbox.unhandled_before(update_id)

    async def take_over(self, *, at_start: bool = False) -> list[Unhandled]:
        """Claim the updates a killed worker left (their lease ran out). At the start, and
        once more after a lease and a half, also the rows stored without a lease (by a
        process before the workers) longer than a lease ago."""
        now = self.clock.now()
        received_before = None
        if at_start or (
            not self._unleased_done and now >= self.started + timedelta(seconds=1.5 * self.lease)
        ):
            received_before = now - timedelta(seconds=self.lease)
            self._unleased_done = not at_start
        return await self.inbox.take_over(
            self.name, now.timestamp(), now.timestamp() + self.lease, received_before
        )

    async def tick(self, application: Application[Any, Any, Any, Any, Any, Any]) -> int:
        """A third of a lease apart: renew this worker's leases, take over what a killed
        worker left and handle it; returns how many updates were taken over."""
        now = self._now()
        if self.worker is not None:
            await self.worker.claims.renew(self.name, now, self.lease)
        await self.inbox.renew(self.name, now + self.lease)
        taken = await self.take_over()
        await self.handle(application, taken)
        return len(taken)

    async def handle(
        self, application: Application[Any, Any, Any, Any, Any, Any], rows: list[Unhandled]
    ) -> None:
        """Handle updates taken over, one after the other in update_id order, through the
        update processor (which marks each handled), as `UpdateInbox.replay` does."""

        async def unreadable(update_id: int) -> None:
            await self.inbox.mark_handled([update_id], self.clock.now())

        await handle_stored(application, rows, unreadable)
        if rows:
            log.info("event=updates_taken_over count=%d", len(rows))

    async def stopped(self) -> None:
        """A clean stop: this worker's claims go at once (its updates are all handled)."""
        if self.worker is not None:
            await self.worker.claims.release_all(self.name)


class SharedOrder(BaseUpdateProcessor):
    """Around the update processor inside the inbox's (`InboxProcessor(SharedOrder(…))`): an
    update waits for its turn across workers (`SharedWork.in_turn`) before it joins its
    person's or chat's queue in this process. Waiting never holds the database or a queue."""

    def __init__(self, inner: BaseUpdateProcessor, shared: SharedWork) -> None:
        super().__init__(inner.max_concurrent_updates)
        self.inner = inner
        self.shared = shared

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        await self.shared.in_turn(update)
        await self.inner.do_process_update(update, coroutine)

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()
