"""A unit of work's statements on the event loop's own thread (storage.db, "On the loop's
thread"): the same connection and the same transaction as before, without a trip to
aiosqlite's thread for each statement. What must hold: nothing handed to aiosqlite's thread
runs inside a unit (a write that was committed on its own stays committed whatever the unit
does), and the WAL is still checkpointed, by a connection of its own in a thread that no unit
waits for, so it does not grow."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage import db as storage_db
from storage.db import CHECKPOINT_EVERY, Database

# A statement that keeps aiosqlite's thread busy for a while (a few hundred ms here).
SLOW = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000000)"
    " SELECT COUNT(*) FROM n"
)


class Boom(Exception):
    pass


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(tmp_path / "unit.sqlite")
    await database.open()
    await database.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, what TEXT, blob BLOB)")
    try:
        yield database
    finally:
        await database.close()


async def test_a_units_statements_run_on_the_loops_thread_the_others_in_aiosqlites(
    db: Database,
) -> None:
    await db.conn.create_function("thread", 0, threading.get_ident)
    loop_thread = threading.get_ident()

    alone = await db.fetchone("SELECT thread()")
    async with db.transaction():
        inside = await db.fetchone("SELECT thread()")

    assert alone is not None and inside is not None
    assert inside[0] == loop_thread
    assert alone[0] != loop_thread


async def test_a_write_handed_to_aiosqlite_before_a_unit_began_stays_committed(
    db: Database,
) -> None:
    # aiosqlite's thread is busy; behind it waits a write on its own (autocommit). A unit
    # begins meanwhile on the loop's thread, writes, and is rolled back. The write on its own
    # must not have run inside the unit (it would be rolled back with it): the unit begins
    # only once what was handed to aiosqlite's thread has finished.
    busy = asyncio.ensure_future(db.fetchall(SLOW))
    alone = asyncio.ensure_future(db.change("INSERT INTO t (what) VALUES ('alone')"))
    await asyncio.sleep(0)  # both handed over: aiosqlite's thread runs the slow one

    with pytest.raises(Boom):
        async with db.transaction():
            await db.execute("INSERT INTO t (what) VALUES ('unit')")
            await asyncio.sleep(0.5)  # the unit stays open while aiosqlite's thread works
            raise Boom

    assert await alone == 1
    await busy
    rows = await db.fetchall("SELECT what FROM t ORDER BY id")
    assert [row[0] for row in rows] == ["alone"]


async def test_the_wal_is_checkpointed_off_the_loops_thread_and_stays_small(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkpoints: list[int] = []
    inside: list[str] = []

    def traced(sql: str) -> None:
        if "wal_checkpoint" in sql:
            checkpoints.append(threading.get_ident())

    # The checkpoints have a connection of their own: the bot's runs none.
    await db.conn.set_trace_callback(inside.append)
    checkpointer = db._checkpointer
    assert checkpointer is not None
    checkpointer.set_trace_callback(traced)
    monkeypatch.setattr(storage_db, "CHECKPOINT_EVERY", 50)
    wal = db.path.with_name(db.path.name + "-wal")
    blob = bytes(16 * 1024)  # four pages and more per commit

    for number in range(400):
        async with db.transaction():
            await db.execute("INSERT INTO t (what, blob) VALUES (?, ?)", (str(number), blob))

    assert len(checkpoints) >= 400 // 50 - 1
    assert threading.get_ident() not in checkpoints  # never on the loop's thread
    assert not [sql for sql in inside if "wal_checkpoint" in sql]
    # Without checkpoints the WAL would hold every commit: 400 × 16 KiB and more. With one
    # every 50 commits it is written from its start again after each: it holds some 50 to 100.
    assert wal.stat().st_size < 200 * len(blob)
    assert CHECKPOINT_EVERY >= 50  # the module's own figure was not changed by the test


async def test_a_unit_does_not_wait_for_a_checkpoint(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A checkpoint copies the WAL into the file and fsyncs, which on a busy disk takes a
    # while: the units go on meanwhile (on the bot's connection; the checkpoint has its own).
    loop = asyncio.get_running_loop()
    began, release = asyncio.Event(), threading.Event()
    checkpoint = storage_db.sqlite.checkpoint

    def slow(conn: sqlite3.Connection) -> None:
        loop.call_soon_threadsafe(began.set)
        release.wait(5)
        checkpoint(conn)

    monkeypatch.setattr(storage_db.sqlite, "checkpoint", slow)
    monkeypatch.setattr(storage_db, "CHECKPOINT_EVERY", 5)
    # Commits one after the other until one makes a checkpoint due: the task that committed
    # it waits for the checkpoint, nobody else.
    due: asyncio.Future[int] | None = None
    for number in range(10):
        commit = asyncio.ensure_future(
            db.execute("INSERT INTO t (what) VALUES (?)", (str(number),))
        )
        beginning = asyncio.ensure_future(began.wait())
        await asyncio.wait([commit, beginning], return_when=asyncio.FIRST_COMPLETED)
        beginning.cancel()
        if began.is_set():
            due = commit
            break
    assert due is not None, "no checkpoint in 10 commits of 5 each"
    try:
        async with asyncio.timeout(2):
            async with db.transaction():
                await db.execute("INSERT INTO t (what) VALUES ('meanwhile')")
        assert not due.done()  # the checkpoint still runs
    finally:
        release.set()
    await due
    rows = await db.fetchall("SELECT what FROM t ORDER BY id")
    assert [row[0] for row in rows][-2:] == [str(number), "meanwhile"]


async def test_a_failed_commit_leaves_nothing_and_the_next_unit_works(db: Database) -> None:
    await db.execute("CREATE TABLE child (parent INTEGER NOT NULL REFERENCES t(id))")
    await db.execute("PRAGMA defer_foreign_keys=OFF")
    with pytest.raises(Exception, match="FOREIGN KEY"):
        async with db.transaction():
            await db.execute("INSERT INTO t (what) VALUES ('kept?')")
            await db.execute("PRAGMA defer_foreign_keys=ON")
            await db.execute("INSERT INTO child (parent) VALUES (999)")  # fails at COMMIT

    async with db.transaction():
        await db.execute("INSERT INTO t (what) VALUES ('next')")
    rows = await db.fetchall("SELECT what FROM t ORDER BY id")
    assert [row[0] for row in rows] == ["next"]


async def test_a_unit_waiting_for_another_processs_write_lock_leaves_the_loop_free(
    db: Database, tmp_path: Path
) -> None:
    """Several webhook workers on one file: while another one writes, a unit's BEGIN waits
    for the write lock in a thread, and the loop goes on (answering the webhook, sending); a
    unit given up while it waits leaves no write lock held."""
    other = sqlite3.connect(tmp_path / "unit.sqlite", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another worker's unit
    ticks = 0

    async def ticking() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.ensure_future(ticking())
    try:
        threading.Timer(0.4, other.rollback).start()
        async with db.transaction():
            await db.execute("INSERT INTO t (what) VALUES ('after the other')")
        assert ticks >= 10, "the loop ran while the unit waited for the lock"
        other.execute("BEGIN IMMEDIATE")
        given_up = asyncio.ensure_future(_a_unit(db))
        await asyncio.sleep(0.1)  # it waits for the lock
        given_up.cancel()
        threading.Timer(0.1, other.rollback).start()
        with pytest.raises(asyncio.CancelledError):
            await given_up
        other.execute("BEGIN IMMEDIATE")  # nobody else holds the write lock now
        other.rollback()
        await _a_unit(db, "and on")
        rows = await db.fetchall("SELECT what FROM t ORDER BY id")
        assert [row[0] for row in rows] == ["after the other", "and on"]
    finally:
        ticker.cancel()
        other.close()


async def _a_unit(db: Database, what: str = "given up") -> None:
    async with db.transaction():
        await db.execute("INSERT INTO t (what) VALUES (?)", (what,))
