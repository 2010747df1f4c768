"""Several webhook workers on one database (SPEC §9 "Several workers"), in process: each claim
on its own — two claimers, one wins; a lease that ran out is taken over — with two
connections on one SQLite file, as two workers have. The real processes: tests/test_workers.py."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from telegram import Update

from bot.clock import ManualClock
from bot.config import ConfigError
from bot.ops.health import _judge_workers
from bot.ops.run import _check_database
from bot.telegram_side.outbox import TelegramOutbox
from bot.telegram_side.workers import SharedWork
from storage.claims import OUTBOX, Claims, Worker
from storage.db import Database
from storage.heartbeats import Beat
from storage.inbox import Inbox
from storage.lock import DatabaseInUse, DatabaseLock
from storage.outbox import Outbox as OutboxRows
from tests.harness import database_at_schema, make_config
from tests.test_ops_webhook import SECRET

GROUP = -100123
LEASE = 30.0


@pytest.fixture
async def two(tmp_path: Path) -> AsyncIterator[tuple[Database, Database]]:
    """Two workers' connections to one database file (migrated by the first)."""
    first, second = Database(tmp_path / "wiq.sqlite"), Database(tmp_path / "wiq.sqlite")
    await first.open()
    await second.open()
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


# -- the claim itself ------------------------------------------------------------------------


async def test_of_two_claimers_one_wins_until_its_lease_runs_out(
    two: tuple[Database, Database],
) -> None:
    a, b = Claims(two[0]), Claims(two[1])
    won = await asyncio.gather(
        a.take(OUTBOX, GROUP, "a", 100.0, LEASE), b.take(OUTBOX, GROUP, "b", 100.0, LEASE)
    )
    assert sorted(won) == [False, True]
    holder = "a" if won[0] else "b"
    other = b if holder == "a" else a
    other_name = "b" if holder == "a" else "a"
    assert await a.holder(OUTBOX, GROUP, 110.0) == holder
    # The holder keeps it (renewed), the other does not get it while the lease runs.
    assert await (a if holder == "a" else b).take(OUTBOX, GROUP, holder, 120.0, LEASE)
    assert not await other.take(OUTBOX, GROUP, other_name, 149.0, LEASE)
    # The holder was killed: nobody renews; once the lease ran out, the other takes it.
    assert await other.take(OUTBOX, GROUP, other_name, 150.5, LEASE)
    assert await a.holder(OUTBOX, GROUP, 151.0) == other_name
    # What a worker let go of is free at once; another chat's claim is another row.
    await other.release(OUTBOX, GROUP, other_name)
    assert await a.holder(OUTBOX, GROUP, 151.0) is None
    assert await a.take(OUTBOX, GROUP + 1, "a", 151.0, LEASE)
    assert await b.take(OUTBOX, GROUP, "b", 151.0, LEASE)


async def test_a_living_worker_renews_its_leases_and_a_clean_stop_lets_go_of_all(
    two: tuple[Database, Database],
) -> None:
    a, b = Claims(two[0]), Claims(two[1])
    assert await a.take(OUTBOX, GROUP, "a", 100.0, LEASE)
    assert await a.take(OUTBOX, GROUP + 1, "a", 100.0, LEASE)
    assert await a.renew("a", 125.0, LEASE) == 2
    assert not await b.take(OUTBOX, GROUP, "b", 140.0, LEASE), "renewed: 155 now"
    assert await a.release_all("a") == 2
    assert await b.take(OUTBOX, GROUP, "b", 140.0, LEASE)


# -- the outbox's sending ----------------------------------------------------------------------


class _Bot:
    """What the outbox calls: records each sendMessage (the text) and answers nothing."""

    def __init__(self, sent: list[str]) -> None:
        self.sent = sent
        self.username = "wiq_bot"

    async def send_message(self, **kwargs: Any) -> None:
        await asyncio.sleep(0.001)  # Telegram takes a moment to answer
        self.sent.append(kwargs["text"])


def _outbox(
    db: Database, name: str, clock: ManualClock, sent: list[str], planned: list[float]
) -> TelegramOutbox:
    def schedule(delay: float, chat_id: int, run: Callable[[], Awaitable[None]]) -> None:
        planned.append(delay)

    return TelegramOutbox(
        _Bot(sent),  # type: ignore[arg-type]
        clock,
        schedule,
        OutboxRows(db),
        group_per_minute=20,
        worker=Worker(Claims(db), name, LEASE),
    )


async def test_only_the_holder_of_a_chats_claim_sends_its_queue(
    two: tuple[Database, Database],
) -> None:
    clock = ManualClock()
    sent_a: list[str] = []
    sent_b: list[str] = []
    planned_b: list[float] = []
    a = _outbox(two[0], "a", clock, sent_a, [])
    b = _outbox(two[1], "b", clock, sent_b, planned_b)
    now = clock.now().timestamp()
    assert await Claims(two[0]).take(OUTBOX, GROUP, "a", now, LEASE)  # a is sending the chat
    for n in range(3):
        await b.send(GROUP, f"Antwort {n}")
    assert sent_b == [], "b sends nothing of a chat a is sending"
    assert planned_b, "b looks again a moment later"
    await Claims(two[0]).release(OUTBOX, GROUP, "a")
    await a.flush(GROUP)
    assert sent_a == ["Antwort 0", "Antwort 1", "Antwort 2"]
    await b.flush(GROUP)
    assert sent_b == [], "each row went out once"
    assert await Claims(two[0]).holder(OUTBOX, GROUP, now) is None, "let go after the flush"


async def test_the_group_budget_holds_across_workers(two: tuple[Database, Database]) -> None:
    """Each worker takes the budget from the send times in the table: what another worker
    sent counts (a budget in one process's memory would send 30 here)."""
    clock = ManualClock()
    sent: list[str] = []
    a = _outbox(two[0], "a", clock, sent, [])
    b = _outbox(two[1], "b", clock, sent, [])
    for n in range(15):
        await a.send(GROUP, f"a{n}")
    assert len(sent) == 15
    for n in range(15):
        await b.send(GROUP, f"b{n}")
    assert len(sent) == 20, "20 in the window, whichever worker sent them"
    clock.advance(61)
    await a.flush_unclaimed()
    assert sorted(sent) == sorted([f"a{n}" for n in range(15)] + [f"b{n}" for n in range(15)])


async def test_what_a_killed_worker_was_sending_goes_again_once_its_lease_ran_out(
    two: tuple[Database, Database],
) -> None:
    clock = ManualClock()
    sent: list[str] = []
    rows_a = OutboxRows(two[0])
    b = _outbox(two[1], "b", clock, sent, [])
    now = clock.now().timestamp()
    item, _ = await rows_a.add(
        GROUP, 1, "text", json.dumps({"text": "Ergebnis"}), clock.now(), budget=True
    )
    # Worker a claimed the chat and the row, called Telegram, and was killed (SIGKILL).
    assert await Claims(two[0]).take(OUTBOX, GROUP, "a", now, LEASE)
    assert await rows_a.claim(item, now)
    await b.flush_unclaimed()
    await b.flush(GROUP)
    assert sent == [], "a's lease runs: nobody sends the chat"
    clock.advance(LEASE + 1)
    await b.flush_unclaimed()
    assert sent == ["Ergebnis"], "sent again (at most one duplicate: a may have sent it)"
    spent = await rows_a.sent_since(GROUP, now - 1)
    assert len(spent) == 2, "a's attempt still counts to the budget, beside b's"
    await b.flush_unclaimed()
    assert sent == ["Ergebnis"]


# -- the inbox: whose update, in order, early closes, a killed worker's updates ---------------


def _press(update_id: int, user: int) -> str:
    return json.dumps(
        {
            "update_id": update_id,
            "callback_query": {
                "id": str(update_id),
                "from": {"id": user, "is_bot": False, "first_name": "P"},
                "chat_instance": "c",
                "data": "x",
            },
        }
    )


async def _received(inbox: Inbox, shared: SharedWork, update_id: int, user: int) -> Update:
    text = _press(update_id, user)
    await inbox.receive('{"ok": true, "result": [' + text + "]}", shared.clock.now())
    update = Update.de_json(json.loads(text), None)
    await shared.received(update)
    return update


def _worker(db: Database, name: str, clock: ManualClock) -> SharedWork:
    shared = SharedWork(name, LEASE, clock)
    shared.bind(Inbox(db), Claims(db))
    return shared


async def test_a_persons_update_waits_for_their_earlier_one_on_another_worker(
    two: tuple[Database, Database],
) -> None:
    clock = ManualClock()
    a, b = _worker(two[0], "a", clock), _worker(two[1], "b", clock)
    await _received(a.inbox, a, 10, user=7)  # a press, on worker a
    reason = await _received(b.inbox, b, 11, user=7)  # then their next update, on worker b
    other = await _received(b.inbox, b, 12, user=8)  # someone else's
    await asyncio.wait_for(b.in_turn(other), 1)  # not held up by person 7
    waiting = asyncio.create_task(b.in_turn(reason))
    await asyncio.sleep(0.1)
    assert not waiting.done(), "11 waits while 10 is handled on the other worker"
    assert await b.handling_before(12) and await b.handling_before(11)
    assert not await b.handling_before(10)
    await a.inbox.mark_handled([10], clock.now())
    await asyncio.wait_for(waiting, 1)
    assert not await b.handling_before(11)


async def test_a_killed_workers_updates_are_taken_over_once_its_lease_ran_out(
    two: tuple[Database, Database],
) -> None:
    clock = ManualClock()
    a, b, c = (
        _worker(two[0], "a", clock),
        _worker(two[1], "b", clock),
        _worker(two[1], "c", clock),
    )
    await _received(a.inbox, a, 20, user=7)
    await _received(a.inbox, a, 21, user=8)
    assert await b.take_over() == [], "a's lease runs"
    clock.advance(LEASE / 3)
    await a.inbox.renew("a", clock.now().timestamp() + LEASE)  # a lives: its tick renews
    clock.advance(LEASE - 1)
    assert await b.take_over() == []
    clock.advance(2)  # a was killed after its renewal: the lease has run out now
    taken_b, taken_c = await asyncio.gather(b.take_over(), c.take_over())
    assert sorted(row.update_id for row in [*taken_b, *taken_c]) == [20, 21]
    assert not (taken_b and taken_c), "one statement: one worker takes them"


# -- wiq-bot health with several workers -------------------------------------------------------


def test_health_reports_each_worker_and_is_unhealthy_only_when_none_is_fresh() -> None:
    now = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)

    def beat(pid: int, age: float) -> Beat:
        at = now - timedelta(seconds=age)
        return Beat(f"h:{pid}", "h", pid, now - timedelta(hours=1), at, at, None)

    ok, text = _judge_workers([beat(1, 5), beat(2, 600)], now, timedelta(minutes=2), 27)
    assert ok
    lines = text.splitlines()
    assert lines[0] == "ok: schema 027, 1 of 2 workers fresh"
    assert lines[1].startswith("  worker h:1: ok:")
    assert lines[2].startswith("  worker h:2: unhealthy: the last heartbeat is 10m old")
    ok, text = _judge_workers([beat(1, 600), beat(2, 600)], now, timedelta(minutes=2), 27)
    assert not ok
    assert text.splitlines()[0] == "none of 2 workers is fresh"


# -- the guard beside the database, and the config ---------------------------------------------


def test_workers_hold_the_guard_together_and_a_poller_or_migration_is_refused(
    tmp_path: Path,
) -> None:
    database = tmp_path / "wiq.sqlite"
    first, second = DatabaseLock(database, shared=True), DatabaseLock(database, shared=True)
    with first.hold("pid 1 on h"), second.hold("pid 2 on h"):
        with pytest.raises(DatabaseInUse) as refused:
            DatabaseLock(database).acquire("pid 3 on h")  # a poller, a restore, a migration
        assert "one of several workers" in refused.value.holder
    # All workers gone: the poller may run, and a worker may not beside it.
    with DatabaseLock(database).hold("pid 4 on h"), pytest.raises(DatabaseInUse):
        DatabaseLock(database, shared=True).acquire("pid 5 on h")


def test_the_webhook_table_says_whether_workers_share_the_database(tmp_path: Path) -> None:
    table = f'[webhook]\nurl = "https://bot.example.org/hook"\nsecret_token = "{SECRET}"\n'
    alone = make_config(tmp_path, extra=table).webhook
    assert alone is not None and not alone.workers_share_database
    shared = make_config(
        tmp_path, extra=table + 'workers_share_database = true\nworker_lease = "10s"\n'
    ).webhook
    assert shared is not None and shared.workers_share_database and shared.worker_lease == 10
    with pytest.raises(ConfigError, match="worker_lease"):
        make_config(tmp_path, extra=table + 'worker_lease = "0s"\n')


def test_a_worker_knows_whether_it_is_alone_on_the_database(tmp_path: Path) -> None:
    """A worker of a new version migrates only when no other worker runs (bot.ops.run)."""
    database = tmp_path / "wiq.sqlite"
    first, second = DatabaseLock(database, shared=True), DatabaseLock(database, shared=True)
    with first.hold("pid 1 on h"):
        assert first.alone()
        with second.hold("pid 2 on h"):
            assert not first.alone() and not second.alone()
        assert first.alone()
        with pytest.raises(DatabaseInUse):  # still held, shared, after looking
            DatabaseLock(database).acquire("pid 3 on h")


async def test_a_worker_does_not_migrate_beneath_the_others(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = make_config(tmp_path)
    database_at_schema(config.storage_path, 25)
    first = DatabaseLock(config.storage_path, shared=True)
    other = DatabaseLock(config.storage_path, shared=True)
    with first.hold("pid 1 on h"):
        assert first.alone()
        assert await _check_database(config, not first.alone()), "alone: it migrates"
        with other.hold("pid 2 on h"):
            assert not first.alone()
            assert not await _check_database(config, not first.alone())
    assert "reason=migrations_pending_while_workers_run" in caplog.text
