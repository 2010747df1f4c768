"""The durable inbox (SPEC §9): nothing Telegram handed over is lost with the process.

python-telegram-bot confirms a batch of updates to Telegram with its next getUpdates, whether
or not they were handled, and handles them concurrently; a process that dies in between takes
them along. So:

- `InboxRequest` wraps the request that getUpdates goes through and stores each answer's
  updates in the inbox (storage/inbox.py) before python-telegram-bot sees them, and so before
  their offset can be confirmed. If storing fails, the answer fails: the offset stays where it
  was and Telegram delivers the batch again.
- `InboxProcessor` wraps the update processor: each update is handled in one unit of work
  (storage.db: one transaction, opened when the update's turn has come), and marked handled
  in that same unit, so its state changes, what it has the bot say (outbox rows) and the mark
  commit together or not at all; it does not handle an update again that was in the inbox
  when it came (Telegram delivers a batch again when its confirmation never arrived, for
  instance after a kill).
- Each update is read once. python-telegram-bot would read a whole answer at once, and an
  update it cannot read (a field missing that it requires, a malformed one) would make it
  drop the answer and fetch the same batch again, forever: the bot would handle nothing any
  more. So the answer handed on to it has every update replaced by its bare update_id (which
  it reads at no cost, so the offset moves past it), and the processor reads the update
  itself when it comes to it (`InboxProcessor`; reading an update is most of what
  python-telegram-bot spends on it, and reading it twice, to find out first whether it can,
  cost a press a tenth of its time). One it cannot read is marked handled, logged once (its
  update_id only), and skipped; every other update of the batch is handled as usual. So is
  an update no Telegram could send (a number beyond 64 bits, which SQLite cannot store):
  checked on the JSON as it came, marked handled and skipped, before any handler sees it.
- `UpdateInbox.replay`, at start and before polling begins, handles what a stop left
  unhandled, once, in update_id order.

So every update is handled exactly once: a kill before its unit committed leaves nothing of
it but its row in the inbox, and it is handled at the next start; after the commit it is
marked handled (SPEC §9)."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.ext import Application, BaseUpdateProcessor, ExtBot
from telegram.request import BaseRequest

from bot.clock import Clock
from bot.ops import metrics
from bot.telegram_side.request_around import RequestAround
from storage.db import Transaction
from storage.inbox import Inbox, Unhandled

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
        self._application: Application[Any, Any, Any, Any, Any, Any] | None = None
        # update_ids that were in the inbox already when a getUpdates answer brought them
        # again: the processor skips each once.
        self._again: set[int] = set()
        # The updates of getUpdates answers as they came (JSON), handed on bare, by update_id:
        # the processor reads each when it comes to it (`take`). With each, whether a number
        # in its answer may be beyond 64 bits (its digits alone say it may).
        self._waiting: dict[int, tuple[dict[str, Any], bool]] = {}

    def bind(self, store: Inbox) -> None:
        self._store = store

    def hand_on_to(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        """The Application whose processor reads the updates handed on bare (build_application
        binds it right after building it)."""
        self._application = application

    @property
    def application(self) -> Application[Any, Any, Any, Any, Any, Any]:
        if self._application is None:
            raise RuntimeError("the inbox hands updates on to no application")
        return self._application

    @property
    def store(self) -> Inbox:
        if self._store is None:
            raise RuntimeError("the inbox is not open yet")
        return self._store

    async def receive(self, answer: bytes) -> bytes:
        """Store one getUpdates answer (as Telegram sent it) before anyone acts on it; returns
        the answer to hand on to python-telegram-bot: each update replaced by its bare
        update_id, the update itself kept for the processor to read (`take`)."""
        known = await self._store_answer(answer.decode("utf-8"))
        try:
            parsed = json.loads(answer)
            updates = parsed["result"]
        except (ValueError, TypeError, KeyError):
            return answer  # not an answer with updates: python-telegram-bot says what it is
        if not isinstance(updates, list):
            return answer
        if self._application is None:  # nobody would read what is handed on bare
            raise RuntimeError("the inbox hands updates on to no application")
        long_digits = has_long_digits(answer)
        bare: list[object] = []
        ids: list[int] = []
        for raw in updates:
            update_id = raw.get("update_id") if isinstance(raw, dict) else None
            if not isinstance(update_id, int) or isinstance(update_id, bool):
                bare.append(raw)  # without an update_id it is no update; not ours to judge
                continue
            if update_id not in known:  # one delivered again is skipped: nothing to read
                self._waiting[update_id] = (raw, long_digits)
            bare.append({"update_id": update_id})
            ids.append(update_id)
        if len(ids) == len(updates) and parsed.keys() == {"ok", "result"} and parsed["ok"] is True:
            # The usual answer, written out directly: what json.dumps would make of it.
            return b'{"ok":true,"result":[%s]}' % b",".join(b'{"update_id":%d}' % i for i in ids)
        parsed["result"] = bare
        return json.dumps(parsed, separators=(",", ":")).encode("utf-8")

    async def receive_one(self, update: str) -> None:
        """Store one update (its JSON text, as a webhook request brings it: one object with
        its update_id, which the webhook has read already) before anyone acts on it; the
        same row as a getUpdates answer's."""
        await self._store_answer('{"ok": true, "result": [' + update + "]}")

    async def _store_answer(self, answer: str) -> frozenset[int]:
        """Store the answer's updates; returns the update_ids that were stored already."""
        received = await self.store.receive(answer, self.clock.now())
        if received.known:
            self._again.update(received.known)
            log.info("event=updates_delivered_again count=%d", len(received.known))
        return received.known

    def take(self, update: object) -> tuple[object, Awaitable[Any] | None, str | None]:
        """The update the processor was handed, read: (the update, None, None) if it came
        whole (a webhook's, one replayed at start); (the update read from its JSON, its
        handling by the Application, None) if it came bare; (the bare one, None, why) if it
        is to be skipped unhandled — python-telegram-bot cannot read it (why: the error's
        kind), or a number in it is beyond 64 bits ("beyond_64_bits")."""
        update_id = update.update_id if isinstance(update, Update) else None
        waiting = self._waiting.pop(update_id, None) if update_id is not None else None
        if waiting is None:
            if isinstance(update, Update) and not _fits(update.to_dict()):
                return update, None, BEYOND_64_BITS
            return update, None, None
        raw, long_digits = waiting
        if long_digits and not _fits(raw):
            return update, None, BEYOND_64_BITS
        bot = update.get_bot() if isinstance(update, Update) else None
        try:
            read = read_update(raw, bot)
        except Exception as exc:  # whatever it raises, it would raise in getUpdates for all
            return update, None, type(exc).__name__
        if isinstance(bot, ExtBot):
            bot.insert_callback_data(read)  # what python-telegram-bot's getUpdates does
        return read, self.application.process_update(read), None

    def delivered_again(self, update_id: int) -> bool:
        """Whether this update came again while it was in the inbox already (handled, or
        being handled): then it is not handled now."""
        if update_id in self._again:
            self._again.discard(update_id)
            return True
        return False

    async def handled(self, update_id: int) -> None:
        """Mark the update handled (one statement: in the update's unit of work, committed
        with what its handling did)."""
        await self.store.mark_handled([update_id], self.clock.now())

    def unit(self) -> contextlib.AbstractAsyncContextManager[Transaction]:
        """One update's unit of work (storage.db: ambient for the task handling it)."""
        return self.store.db.transaction()

    async def replay(self, application: Application[Any, Any, Any, Any, Any, Any]) -> int:
        """Handle what a stop left unhandled, one after the other in update_id order, through
        the update processor (which marks each handled); returns how many."""
        left = await self.store.unhandled()
        await handle_stored(application, left, self.handled)
        if left:
            log.info("event=inbox_replayed count=%d", len(left))
        return len(left)


async def handle_stored(
    application: Application[Any, Any, Any, Any, Any, Any],
    rows: list[Unhandled],
    unreadable: Callable[[int], Awaitable[None]],
) -> None:
    """Handle stored updates one after the other, in the order given, through the update
    processor (which marks each handled); one python-telegram-bot cannot read (it never will)
    is logged once and handed to `unreadable` (marked handled)."""
    for row in rows:
        try:
            update = read_update(json.loads(row.payload), application.bot)
        except Exception as exc:
            log.warning(
                "event=update_unreadable update_id=%d error=%s", row.update_id, type(exc).__name__
            )
            await unreadable(row.update_id)
            continue
        await application.update_processor.process_update(
            update, application.process_update(update)
        )


class InboxRequest(RequestAround):
    """The request getUpdates goes through (`ApplicationBuilder.get_updates_request`),
    around the one that talks to Telegram: each answer's updates are in the inbox before
    python-telegram-bot reads them."""

    def __init__(self, inner: BaseRequest, inbox: UpdateInbox) -> None:
        super().__init__(inner)
        self.inbox = inbox

    async def answered(self, url: str, status: int, payload: bytes) -> tuple[int, bytes]:
        # An answer without updates (a long poll that timed out) has nothing to store.
        if status == 200 and url.endswith("/getUpdates") and b'"update_id"' in payload:
            payload = await self.inbox.receive(payload)
        return status, payload


@dataclass(eq=False)
class _Handling:
    """An update from its arrival here until its unit of work ended."""

    update_id: int


class InboxProcessor(BaseUpdateProcessor):
    """Around the update processor (`OrderedUpdateProcessor`, or what a test or benchmark
    passes): an update delivered again is not handled twice; one that came bare is read
    (`UpdateInbox.take`), and skipped if it cannot be; each one is handled in its own
    unit of work and marked handled in it — before the Application counts it done, so a stop
    (SIGTERM), which waits for every update in flight, waits for the commits too.

    The unit is opened around the update's coroutine itself, which the inner processor awaits
    once the update's turn has come (after one person's earlier updates): waiting for that
    turn, or for the hold below, never holds the database. What the unit's commit sets off
    (the answer to a press, the outbox's flush) runs after it, still within the update's
    handling.

    `hold` (seconds; tests only, `WIQ_TEST_HOLD_UPDATES` in `wiq-bot run`) makes each update
    wait that long after it arrived before its handling begins, in arrival order: the window
    in which a test kills or stops the process with updates fetched and not yet handled."""

    def __init__(self, inner: BaseUpdateProcessor, inbox: UpdateInbox, hold: float = 0.0) -> None:
        super().__init__(inner.max_concurrent_updates)
        self.inner = inner
        self.inbox = inbox
        self.hold = hold
        self._last_release = 0.0
        self.in_flight = 0  # from arrival until its unit of work and what follows it ended
        self._handling: set[_Handling] = set()

    def handling_before(self, update_id: int | None) -> bool:
        """Whether an update older than `update_id` is still being handled here: held,
        waiting for its turn or inside its unit of work (once that is committed, what the
        update changed is stored; what its commit sets off, the answer and the outbox's
        flush, changes nothing an early close counts). PTB hands updates over in update_id
        order, so an older one that has not reached this processor yet cannot exist. An early
        close waits for these (bot.flows.early_close); None (no update known) waits for none."""
        if update_id is None:
            return False
        return any(handling.update_id < update_id for handling in self._handling)

    def _settled(self, handling: _Handling | None) -> None:
        if handling is not None:
            self._handling.discard(handling)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        update_id = update.update_id if isinstance(update, Update) else None
        if update_id is not None and self.inbox.delivered_again(update_id):
            _close(coroutine)
            log.debug("event=update_skipped update_id=%d reason=delivered_again", update_id)
            return
        update, handling_it, problem = self.inbox.take(update)
        if handling_it is not None:
            _close(coroutine)  # python-telegram-bot's, of the bare update: never started
            coroutine = handling_it
        if update_id is not None and problem is not None:
            _close(coroutine)
            await self._skip(update_id, problem)
            return
        self.in_flight += 1
        handling = _Handling(update_id) if update_id is not None and _acts(update) else None
        if handling is not None:
            self._handling.add(handling)
        try:
            if self.hold:
                await self._held()
            await self.inner.do_process_update(
                update, self._in_unit(update_id, coroutine, handling)
            )
            metrics.update(update)
        finally:
            self.in_flight -= 1
            self._settled(handling)

    async def _in_unit(
        self, update_id: int | None, coroutine: Awaitable[Any], handling: _Handling | None
    ) -> None:
        """Handle the update and mark it handled, in one unit of work. A handler's error is
        caught by python-telegram-bot, whose error handler (bot.app) discards what the unit
        did and says so: the update is then handled, if badly, and marked. An error that
        escapes anyway rolls the unit back; the update is marked on its own (not tried again
        at start)."""
        try:
            async with self.inbox.unit() as unit:
                await coroutine
                if update_id is not None:
                    await self.inbox.handled(update_id)
                unit.after_commit(lambda: self._settled(handling))
        except Exception:
            if update_id is not None:
                await self.inbox.handled(update_id)
            raise

    async def _skip(self, update_id: int, problem: str) -> None:
        """An update that is not handled: marked handled at once, and one that cannot be read
        logged once (its update_id and the error's kind: no personal data)."""
        if problem == BEYOND_64_BITS:
            log.debug("event=update_skipped update_id=%d reason=%s", update_id, problem)
        else:
            log.warning("event=update_unreadable update_id=%d error=%s", update_id, problem)
        await self.inbox.handled(update_id)

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


BEYOND_64_BITS = "beyond_64_bits"
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_DIGITS_AS_ZERO = bytes.maketrans(b"0123456789", b"0" * 10)
LONG_DIGITS = b"0" * 19


def has_long_digits(answer: bytes) -> bool:
    """Nineteen digits in a row: a number beyond 64 bits has at least that many (an answer
    without them has none; one with them is looked at number by number). Every digit made a
    0, then one search for nineteen of them: a few µs, where a regular expression, tried at
    each byte of the answer, took 60–100 µs for an answer with two presses."""
    return LONG_DIGITS in answer.translate(_DIGITS_AS_ZERO)


def _fits(value: object) -> bool:
    """Whether every number in the update fits in 64 bits, as it can only from Telegram (its
    ids have at most 52 significant bits; SQLite stores 64)."""
    if isinstance(value, int):
        return INT64_MIN <= value <= INT64_MAX
    if isinstance(value, dict):
        return all(_fits(item) for item in value.values())
    if isinstance(value, list | tuple):
        return all(_fits(item) for item in value)
    return True


def _close(coroutine: Awaitable[Any]) -> None:
    """Drop a handling that never started: nothing to undo."""
    if inspect.iscoroutine(coroutine):
        coroutine.close()


def _acts(update: object) -> bool:
    """Whether the update is someone's action in a chat: a poll's new state (Telegram's count
    of its answers, which comes with them) is neither, and changes nothing an early close
    counts, so the close does not wait for it."""
    return isinstance(update, Update) and (
        update.effective_user is not None or update.effective_chat is not None
    )


UNREAD_OF_A_BUTTONS_MESSAGE = ("reply_markup", "entities")
"""What is not read of the message a pressed button is on (callback_query.message): the
message is the bot's own (a card, a question), the handlers know it by its chat and id, and
what it shows they take from the database, never from Telegram's copy. Its keyboard and its
text's formatting are most of what python-telegram-bot spends reading a press (a card's four
buttons and three entities: half of it); the update is stored in the inbox as it came."""


def read_update(raw: dict[str, Any], bot: Any) -> Update:
    """The update python-telegram-bot reads from its JSON (`Update.de_json`), but for what
    is not read of a button's message (UNREAD_OF_A_BUTTONS_MESSAGE). Raises what de_json
    raises for an update it cannot read."""
    query = raw.get("callback_query")
    if isinstance(query, dict):
        message = query.get("message")
        if isinstance(message, dict) and any(k in message for k in UNREAD_OF_A_BUTTONS_MESSAGE):
            kept = {k: v for k, v in message.items() if k not in UNREAD_OF_A_BUTTONS_MESSAGE}
            raw = {**raw, "callback_query": {**query, "message": kept}}
    return Update.de_json(raw, bot)


def unreadable_because(raw: dict[str, Any]) -> str | None:
    """Why python-telegram-bot cannot read this update (the error's kind), or None if it can."""
    try:
        read_update(raw, None)
    except Exception as exc:  # whatever it raises, it raises in getUpdates for the whole batch
        return type(exc).__name__
    return None


def hold_from(value: str | None) -> float:
    """The test-only hold from the environment's text (empty or unset: none)."""
    if not value:
        return 0.0
    seconds = float(value)
    if seconds < 0:
        raise ValueError("the hold is a number of seconds, not negative")
    return seconds
