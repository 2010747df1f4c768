"""How updates are handled concurrently: in parallel across people and chats, in order within
one person's presses and votes and within one chat (SPEC §9). The database guards every
step as well (an older press never overwrites a newer one; nothing closes twice), so this is
about speed without surprises, not about correctness alone."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Hashable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


def ordering_key(update: object) -> Hashable:
    """Updates with the same key are handled one after the other, in update_id order."""
    if not isinstance(update, Update):
        return "other"
    if update.callback_query is not None:
        return ("person", update.callback_query.from_user.id)
    if update.poll_answer is not None:
        user = update.poll_answer.user
        return ("person", user.id) if user is not None else "poll"
    if update.effective_chat is not None:
        return ("chat", update.effective_chat.id)
    return "other"


class OrderedUpdateProcessor(BaseUpdateProcessor):
    """Concurrent handling with one FIFO lock per key. Tasks reach their lock in the order
    the Application created them (update order), and asyncio locks are fair."""

    def __init__(self, max_concurrent_updates: int = 64) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[Hashable, asyncio.Lock] = {}
        self._waiting: dict[Hashable, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Await `coroutine` once the updates with the same key handed over before it are
        done. The coroutine is the update's whole handling as the inbox wraps it (its unit
        of work included: bot.telegram_side.inbox), so the turn is waited for before the
        unit takes the database, never while holding it."""
        key = ordering_key(update)
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:
                # Nobody else holds or waits for it: drop it, so the table stays small.
                del self._waiting[key]
                del self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""
