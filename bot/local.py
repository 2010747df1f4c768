"""The bot running against the local Bot API model, in this process: what the demo and the
end-to-end tests both drive. `settle()` waits until every injected update has been handled."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Hashable
from typing import Any, cast

from bot.app import ALLOWED_UPDATES, DUE_TIMER_KEY, App, DueTimer, build_application
from bot.clock import Clock
from bot.config import Config
from bot.services import SERVICES_KEY, Deployment, Services
from bot.telegram_side.inbox import InboxProcessor
from bot.telegram_side.outbox import TelegramOutbox
from bot.telegram_side.updates import OrderedUpdateProcessor, ordering_key
from localapi.model import BotApiModel
from localapi.request import ModelRequest


class CountingProcessor(OrderedUpdateProcessor):
    """The production processor, counting the updates still being handled. A test may hold
    the updates of one ordering key (one person's presses and votes) to stage a race: they are
    handed to the processor and wait their turn as usual, then wait for `release`."""

    def __init__(self) -> None:
        super().__init__()
        self.in_flight = 0
        self.held = 0  # of those in flight, the ones held
        self._gates: dict[Hashable, asyncio.Event] = {}

    def hold(self, key: Hashable) -> None:
        self._gates[key] = asyncio.Event()

    def release(self, key: Hashable) -> None:
        self._gates.pop(key).set()

    def release_all(self) -> None:
        for key in list(self._gates):
            self.release(key)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        self.in_flight += 1
        try:
            gate = self._gates.get(ordering_key(update))
            if gate is not None:
                self.held += 1
                coroutine = self._gated(gate, coroutine)
            await super().do_process_update(update, coroutine)
        finally:
            self.in_flight -= 1

    async def _gated(self, gate: asyncio.Event, coroutine: Awaitable[Any]) -> None:
        try:
            await gate.wait()
        finally:
            self.held -= 1
        await coroutine


class LocalBot:
    """The real Application (as `wiq-bot run` builds it) on an in-process BotApiModel."""

    def __init__(self, model: BotApiModel, config: Config, clock: Clock | None = None) -> None:
        self.model = model
        self.config = config
        self.clock = clock
        self.app: App | None = None
        self.processor = CountingProcessor()

    @property
    def deployment(self) -> Deployment:
        assert self.app is not None
        return cast(Deployment, self.app.bot_data[SERVICES_KEY])

    @property
    def services(self) -> Services:
        """The first network's (a deployment of one: its only one)."""
        return self.deployment.first()

    @property
    def due_timer(self) -> DueTimer:
        """The one timer of due work (its `run` is what it does when it fires)."""
        assert self.app is not None
        return cast(DueTimer, self.app.bot_data[DUE_TIMER_KEY])

    @property
    def outbox(self) -> TelegramOutbox:
        """The outbox behind the flows' port, whose queues a test or the demo flushes."""
        outbox = self.services.outbox
        assert isinstance(outbox, TelegramOutbox)
        return outbox

    @property
    def inbox_processor(self) -> InboxProcessor:
        """The processor around `processor` that marks each update handled in the inbox."""
        assert self.app is not None
        processor = self.app.update_processor
        assert isinstance(processor, InboxProcessor)
        return processor

    async def start(self) -> None:
        self.processor = CountingProcessor()
        self.app = build_application(
            self.config,
            self.clock,
            request=ModelRequest(self.model),
            get_updates_request=ModelRequest(self.model),
            update_processor=self.processor,
        )
        await self.app.initialize()
        # run_polling would call post_init; starting by hand, we do.
        if self.app.post_init:
            await self.app.post_init(self.app)
        await self.app.start()
        assert self.app.updater is not None
        await self.app.updater.start_polling(
            timeout=1, poll_interval=0, allowed_updates=ALLOWED_UPDATES
        )

    async def stop(self) -> None:
        if self.app is None:
            return
        app = self.app
        self.processor.release_all()  # a test that failed may still hold some
        try:
            await self.settle()
        finally:
            self.app = None
            assert app.updater is not None
            await app.updater.stop()
            await app.stop()
            if app.post_shutdown:
                await app.post_shutdown(app)
            await app.shutdown()

    async def settle(self, limit: float = 5.0) -> None:
        """Until the bot has fetched and finished handling every update injected so far (but
        those a test holds)."""
        assert self.app is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        quiet = 0
        while quiet < 3:
            idle = (
                not self.model.pending_updates
                and self.app.update_queue.empty()
                and self.processor.in_flight == self.processor.held
                # the marks in the inbox too; held updates are in flight there as well
                and self.inbox_processor.in_flight == self.processor.held
            )
            quiet = quiet + 1 if idle else 0
            if loop.time() > deadline:
                raise TimeoutError("the bot did not finish handling its updates")
            await asyncio.sleep(0.005)
