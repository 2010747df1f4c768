"""The unit of work (storage.db): one transaction per handled update and per due item, ambient
for the task that opened it, with savepoints inside and what runs only after the commit.

First the unit on a real SQLite file, then the bot: a press answered only once what it did is
committed, and a kill between a flow's state change and the end of its unit (a fault injected
there, which leaves the transaction uncommitted as a kill would) losing nothing and doing
nothing twice after the restart."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bot.app import CHARTER_TERMS
from bot.flows.port import RoundCard
from localapi.records import CallRecord
from storage import Storage
from storage.db import Database, Transaction
from tests.harness import (
    ADMIN,
    ANNA,
    BERT,
    CARL,
    DORA,
    ST,
    Harness,
    Teams,
    committed_elsewhere,
    database_at,
    place_new_database,
)

NOW = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
T = TypeVar("T")


class Boom(Exception):
    pass


class Killed(BaseException):
    """The process dies here: nothing after this point runs, nothing uncommitted stays."""


async def soon(awaitable: Awaitable[T]) -> T:
    """Within a second (a unit that is not ambient waits for its own lock for ever)."""
    return await asyncio.wait_for(awaitable, timeout=1)


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    await place_new_database(database_at(tmp_path))
    opened = await Storage.open(database_at(tmp_path), "WiQ", NOW, CHARTER_TERMS)
    try:
        yield opened
    finally:
        await opened.close()


def committed(path: Path | str | None, sql: str) -> list[tuple[Any, ...]]:
    """What another connection sees: only what is committed (WAL; on PostgreSQL, the
    test database's URL: read in a thread of its own, as another process would)."""
    if path is None:
        return committed_elsewhere(sql)
    with sqlite3.connect(path) as conn:
        return [tuple(row) for row in conn.execute(sql).fetchall()]


async def seen(storage: Storage, telegram_id: int, name: str) -> int:
    person = await storage.people.seen(telegram_id, name, None, None, None, NOW)
    return person.id


async def queue(storage: Storage, about: int) -> None:
    message = '{"text": "hi"}'
    await storage.outbox.add(-100, 0, "text", message, NOW, budget=True, person_ids=[about])


# -- the unit on SQLite ---------------------------------------------------------------------


async def test_a_state_change_and_its_outbox_row_commit_or_roll_back_together(
    storage: Storage,
) -> None:
    path = storage.db.path

    async def unit(fail: bool) -> None:
        async with storage.unit():
            person_id = await seen(storage, 10, "Anna")  # its own transaction: a savepoint
            await queue(storage, person_id)  # one statement: part of the unit
            assert committed(path, "SELECT COUNT(*) FROM outbox") == [(0,)]  # not yet
            if fail:
                raise Boom

    with pytest.raises(Boom):
        await soon(unit(fail=True))
    assert committed(path, "SELECT COUNT(*) FROM people") == [(0,)]
    assert committed(path, "SELECT COUNT(*) FROM outbox") == [(0,)]
    # Nor is the person remembered in memory: seen again, they are stored anew.
    person_id = await seen(storage, 10, "Anna")
    assert await storage.people.by_id(person_id) is not None

    await soon(unit(fail=False))
    assert committed(path, "SELECT COUNT(*) FROM outbox") == [(1,)]
    assert committed(path, "SELECT first_name FROM people") == [("Anna",)]


async def test_a_nested_transaction_is_a_savepoint_of_the_unit(storage: Storage) -> None:
    db, path = storage.db, storage.db.path

    async def unit() -> None:
        async with db.transaction() as outer:
            await seen(storage, 10, "Anna")
            with pytest.raises(Boom):
                async with db.transaction() as inner:
                    assert inner is outer  # the same unit, one level down
                    await seen(storage, 11, "Bert")
                    async with db.transaction():
                        await seen(storage, 12, "Carl")
                    raise Boom  # Bert and Carl go; Anna stays
            async with db.transaction():
                await seen(storage, 13, "Dora")  # released into the unit
            assert [r[0] for r in await db.fetchall("SELECT first_name FROM people")] == [
                "Anna",
                "Dora",
            ]

    await soon(unit())
    assert committed(path, "SELECT first_name FROM people ORDER BY id") == [("Anna",), ("Dora",)]
    assert await storage.people.by_telegram_id(11) is None


async def test_hooks_run_after_the_commit_and_never_for_what_was_rolled_back(
    storage: Storage,
) -> None:
    from storage.db import after_commit, current_unit

    db, path = storage.db, storage.db.path
    ran: list[str] = []

    def note(what: str) -> Any:
        def hook() -> None:
            assert current_unit() is None  # outside the unit
            ran.append(f"{what}:{committed(path, 'SELECT COUNT(*) FROM people')[0][0]}")

        return hook

    async def answer() -> None:
        ran.append("answer")

    async def unit(fail: bool) -> None:
        async with db.transaction() as tx:
            await seen(storage, 10, "Anna")
            tx.after_commit(note("kept"))
            await after_commit(answer, first=True)
            with pytest.raises(Boom):
                async with db.transaction():
                    await db.after_commit(note("undone"))
                    raise Boom
            assert ran == []
            if fail:
                raise Boom

    with pytest.raises(Boom):
        await soon(unit(fail=True))
    assert ran == []  # rolled back: nothing runs
    await soon(unit(fail=False))
    # The plain hook first (it saw the person committed), then the awaited answer.
    assert ran == ["kept:1", "answer"]
    # Outside a unit a hook runs at once.
    await after_commit(answer)
    assert ran[-1] == "answer"


async def test_a_task_started_inside_the_unit_does_not_join_it(storage: Storage) -> None:
    db = storage.db
    started: list[asyncio.Task[int]] = []

    async def later() -> int:
        return await seen(storage, 11, "Bert")

    async def unit() -> None:
        async with db.transaction():
            await seen(storage, 10, "Anna")
            started.append(asyncio.create_task(later()))  # inherits the unit's context
            await asyncio.sleep(0.05)
            assert not started[0].done()  # it waits for the lock, as anyone's statement
            raise Boom

    with pytest.raises(Boom):
        await soon(unit())
    bert = await soon(started[0])
    # It ran after the unit, on its own: kept, though the unit was rolled back.
    assert await storage.people.by_id(bert) is not None
    assert await storage.people.by_telegram_id(10) is None


async def test_a_unit_used_after_it_ended_or_discarded_says_so(storage: Storage) -> None:
    db = storage.db

    async def unit() -> Transaction:
        async with db.transaction() as tx:
            await seen(storage, 10, "Anna")
            tx.after_commit(lambda: None)
            await tx.discard()  # all of it undone; the unit goes on
            await seen(storage, 11, "Bert")
        return tx

    tx = await soon(unit())
    assert [r[0] for r in await db.fetchall("SELECT first_name FROM people")] == ["Bert"]
    with pytest.raises(RuntimeError, match="ended"):
        await tx.execute("SELECT 1")
    assert db.current() is None


async def test_two_databases_each_have_their_own_unit(storage: Storage, tmp_path: Path) -> None:
    other = Database(tmp_path / "other.sqlite")
    await other.open()

    async def unit() -> None:
        async with storage.unit():
            await seen(storage, 10, "Anna")
            assert other.current() is None
            assert await other.schema_version() > 0  # not waiting for the first's lock

    try:
        await soon(unit())
    finally:
        await other.close()


# -- the bot ----------------------------------------------------------------------------------


def inbox_unhandled(h: Harness) -> int:
    return committed(h.config.storage_path, "SELECT COUNT(*) FROM inbox WHERE handled_at IS NULL")[
        0
    ][0]


async def test_a_press_is_answered_only_after_what_it_did_is_committed(team: Teams) -> None:
    h, d = await team("ST")
    await h.say(ST, ANNA, "/propose 1d Neue Stühle")
    await d.press(ST, 1, ANNA, "agree")
    card = d.card(ST, 1)
    path, db = h.config.storage_path, h.services.storage.db
    at_answer: list[tuple[list[tuple[Any, ...]], int, int]] = []
    inside_unit: list[str] = []

    def card_edits() -> int:
        rows = committed(
            path, f"SELECT COUNT(*) FROM outbox WHERE coalesce_key = 'edit:{card.message_id}'"
        )
        return int(rows[0][0])

    edits_before = card_edits()

    def listen(call: CallRecord) -> None:
        if db._lock.locked() and call.method != "getUpdates":
            inside_unit.append(call.method)  # a Bot API call while a unit holds the database
        if call.method == "answerCallbackQuery":
            at_answer.append(
                (
                    committed(
                        path,
                        "SELECT r.choice FROM responses r JOIN people p ON p.id = r.person_id"
                        f" WHERE p.telegram_id = {BERT}",
                    ),
                    inbox_unhandled(h),
                    card_edits(),
                )
            )

    h.model.call_listeners.append(listen)
    try:
        answer = await d.press(ST, 1, BERT, "abstain")
    finally:
        h.model.call_listeners.remove(listen)
    assert answer["text"]
    # When Telegram got the answer, the response, the update's mark as handled and the
    # card's edit were all committed: a kill after it neither loses the press nor handles
    # it again.
    assert at_answer == [([("abstain",)], 0, edits_before + 1)]
    assert inside_unit == []  # nothing Telegram-facing awaited inside the press's unit


async def test_an_admission_killed_before_its_unit_committed_is_confirmed_once_after_restart(
    team: Teams,
) -> None:
    h, _ = await team("ST", members=(ANNA,))
    await h.say(ST, BERT, "Hallo")
    store = h.services.storage.inbox
    mark = store.mark_handled

    async def killed(update_ids: list[int], now: datetime) -> None:
        await mark(update_ids, now)
        raise Killed  # between the admission, its confirmation and the commit

    store.mark_handled = killed  # type: ignore[method-assign]
    before = h.last_id(ST)
    h.model.send_message(ST, ADMIN, "/admit @bert zivilgesellschaft")
    await h.settle()
    assert h.reply_after(ST, before) is None  # nothing was said: nothing was committed
    await h.stop()

    again = Harness(h.model, h.config, clock=h.clock)
    await again.start()  # the update left unhandled is handled now, once
    try:
        replies = [m.text or "" for m in again.model.bot_messages(ST) if m.message_id > before]
        assert len(replies) == 1 and "✅" in replies[0] and "Bert" in replies[0]
        assert await again.roster(ST) == ["Anna", "Bert"]
        assert inbox_unhandled(again) == 0
    finally:
        await again.stop()


async def test_a_press_closing_a_round_killed_before_its_unit_committed_is_handled_once(
    team: Teams,
) -> None:
    h, d = await team("ST")  # an early close at once: the last press closes the round
    await h.say(ST, ANNA, "/propose 1d Neue Stühle")
    for user in (ANNA, BERT, CARL):
        await d.press(ST, 1, user, "agree")
    store = h.services.storage.inbox
    mark = store.mark_handled

    async def killed(update_ids: list[int], now: datetime) -> None:
        await mark(update_ids, now)
        raise Killed

    store.mark_handled = killed  # type: ignore[method-assign]
    card = d.card(ST, 1)
    query = h.model.press_button(ST, card.message_id, DORA, button_text="Zustimmung")
    await h.settle()
    assert not [t for t in h.bot_texts(ST) if "Ergebnis Runde 1" in t]
    await h.stop()

    again = Harness(h.model, h.config, clock=h.clock)
    await again.start()
    try:
        await again.settle()
        results = [t for t in again.bot_texts(ST) if "Ergebnis Runde 1" in t]
        assert len(results) == 1 and "Konsens" in results[0]
        answers = [
            c
            for c in again.model.calls
            if c.method == "answerCallbackQuery" and c.params.get("callback_query_id") == query
        ]
        assert len(answers) == 1 and answers[0].ok  # the press handled (and answered) once
    finally:
        await again.stop()


async def test_a_deadline_killed_before_its_unit_committed_posts_its_result_once(
    team: Teams,
) -> None:
    h, d = await team("ST")
    await h.say(ST, ANNA, "/propose 1d Neue Stühle")
    await d.press(ST, 1, BERT, "agree")
    decisions = h.services.decisions
    after = decisions._after

    async def killed(*args: Any, **kwargs: Any) -> None:
        await after(*args, **kwargs)
        raise Killed  # the close, its result and what follows are in the unit, uncommitted

    decisions._after = killed  # type: ignore[method-assign]
    with pytest.raises(Killed):
        await h.due(86400 + 1)
    assert not [t for t in h.bot_texts(ST) if "Ergebnis Runde 1" in t]
    await h.stop()

    again = Harness(h.model, h.config, clock=h.clock)
    await again.start()  # the deadline is due still: closed now, once
    try:
        await again.due(61)
        results = [t for t in again.bot_texts(ST) if "Ergebnis Runde 1" in t]
        assert len(results) == 1
        events = committed(
            again.config.storage_path, "SELECT COUNT(*) FROM events WHERE kind = 'round.closed'"
        )
        assert events == [(1,)]
    finally:
        await again.stop()


async def test_a_card_edit_coalesced_into_a_row_being_taken_leaves_the_next_edit_to_go_out(
    team: Teams,
) -> None:
    """A unit coalesces its card edit into the queued row while the chat's flush is about to
    take that row (its claim waits for the unit): the row is not remembered as still waiting,
    so the card's next change is queued and goes out."""
    h, d = await team("ST")
    await h.say(ST, ANNA, "/propose 1d Neue Stühle")
    card = d.card(ST, 1).message_id
    outbox, rows = h.outbox, h.outbox.rows

    def edits() -> int:
        return sum(
            1
            for c in h.model.calls
            if c.method == "editMessageText" and c.params.get("message_id") == card
        )

    await outbox.edit_later(ST, card, RoundCard(1))  # goes out at once
    await outbox.edit_later(ST, card, RoundCard(1))  # waits for the edits' spacing
    assert await outbox.pending(ST) == 1
    claim, entered, gate = rows.claim, asyncio.Event(), asyncio.Event()

    async def slow_claim(item_id: int, at: float) -> bool:
        entered.set()
        await gate.wait()
        return await claim(item_id, at)

    rows.claim = slow_claim  # type: ignore[method-assign]
    h.clock.advance(outbox.edit_interval)
    flushing = asyncio.create_task(outbox.flush(ST))
    await entered.wait()  # the flush has the row and waits to claim it
    async with h.services.storage.unit() as unit:
        await outbox.edit_later(ST, card, RoundCard(1))
        unit.after_commit(gate.set)  # the claim goes on once this unit is committed
    await flushing
    rows.claim = claim  # type: ignore[method-assign]
    before = edits()
    await outbox.edit_later(ST, card, RoundCard(1))  # the card changed again
    await h.flush_edits()
    assert edits() == before + 1


async def test_a_handler_that_fails_leaves_nothing_half_done_and_says_so_once(
    team: Teams,
) -> None:
    h, d = await team("ST")
    decisions = h.services.decisions
    propose = decisions.propose

    async def failing(*args: Any, **kwargs: Any) -> int:
        await propose(*args, **kwargs)  # stored, its card queued …
        raise RuntimeError("a bug after the state change")  # … and then the handler fails

    decisions.propose = failing  # type: ignore[method-assign]
    before = h.last_id(ST)
    reply = await h.say(ST, ANNA, "/propose 1d Neue Stühle")
    decisions.propose = propose  # type: ignore[method-assign]
    texts = [m.text or "" for m in h.model.bot_messages(ST) if m.message_id > before]
    assert reply is not None and texts == [reply.text] and "schiefgegangen" in texts[0]
    path = h.config.storage_path
    assert committed(path, "SELECT COUNT(*) FROM proposals") == [(0,)]  # nothing half done
    assert inbox_unhandled(h) == 0  # handled, if badly: not tried again at the next start

    await h.say(ST, ANNA, "/propose 1d Neue Stühle")
    responses = decisions.responses
    press = responses.press

    async def failing_press(*args: Any, **kwargs: Any) -> Any:
        await press(*args, **kwargs)
        raise RuntimeError("a bug after the press was stored")

    responses.press = failing_press  # type: ignore[method-assign]
    answer = await d.press(ST, 1, BERT, "agree")
    assert answer["show_alert"] and "schiefgegangen" in answer["text"]
    assert committed(path, "SELECT COUNT(*) FROM responses") == [(0,)]
