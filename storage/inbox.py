"""The inbox: the updates a getUpdates answer brought, stored before Telegram is told they
arrived, until they are handled (SPEC §9). A row is written when the answer comes, marked
handled (its payload dropped) when its handling finished, and purged a while later; the
update_ids of handled rows are what recognises an update delivered again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import Database, to_db


@dataclass(frozen=True, slots=True)
class Received:
    """What storing one getUpdates answer found: the update_ids in it that were in the inbox
    already (delivered again: handled, or being handled, before)."""

    known: frozenset[int]


@dataclass(frozen=True, slots=True)
class Unhandled:
    update_id: int
    payload: str  # the update as Telegram sent it (JSON)


class Inbox:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def receive(self, answer: str, now: datetime) -> Received:
        """Store the updates of one getUpdates answer (its JSON text, as Telegram sent it:
        `{"ok": true, "result": [...]}`); one already stored only counts one more delivery.
        One statement, in a unit of its own: a unit's statements run on the event loop's
        thread (storage.db), which for this one statement of every getUpdates answer costs
        less than a trip to aiosqlite's thread and back."""
        async with self.db.transaction() as unit:
            rows = await unit.fetchall(
                "INSERT INTO inbox (update_id, payload, received_at)"
                " SELECT CAST(value ->> 'update_id' AS BIGINT), value, ?"
                " FROM json_each(?, '$.result') WHERE true"
                " ON CONFLICT (update_id) DO UPDATE SET deliveries = inbox.deliveries + 1"
                " RETURNING update_id, deliveries",
                (to_db(now), answer),
            )
        return Received(frozenset(int(row[0]) for row in rows if row[1] > 1))

    async def mark_handled(self, update_ids: list[int], now: datetime) -> None:
        """Handling finished: keep the update_id (to recognise a delivery again), drop what
        the update said. One statement, atomic by itself."""
        if len(update_ids) == 1:  # every handled update: the simpler statement
            await self.db.change(
                "UPDATE inbox SET handled_at = ?, payload = NULL"
                " WHERE update_id = ? AND handled_at IS NULL",
                (to_db(now), int(update_ids[0])),
            )
            return
        await self.db.change(
            "UPDATE inbox SET handled_at = ?, payload = NULL"
            " WHERE update_id IN (SELECT CAST(value AS BIGINT) FROM json_each(?))"
            " AND handled_at IS NULL",
            (to_db(now), "[" + ",".join(str(int(u)) for u in update_ids) + "]"),
        )

    async def unhandled(self) -> list[Unhandled]:
        """What a stop left: stored and not handled, in update_id order."""
        rows = await self.db.fetchall(
            "SELECT update_id, payload FROM inbox WHERE handled_at IS NULL ORDER BY update_id"
        )
        return [Unhandled(int(row[0]), str(row[1])) for row in rows]

    async def purge(self, handled_before: datetime) -> int:
        """Forget the update_ids of updates handled before that moment; returns how many."""
        return await self.db.change(
            "DELETE FROM inbox WHERE handled_at IS NOT NULL AND handled_at < ?",
            (to_db(handled_before),),
        )

    # -- several workers on the database (SPEC §9 "Several workers"; migration 027) -------------

    async def lease(self, update_id: int, person: int | None, worker: str, until: float) -> None:
        """A worker received the update (stored it, `receive`): its person and the worker,
        with a lease the worker renews while the update waits (`renew`)."""
        await self.db.change(
            "UPDATE inbox SET person = ?, worker = ?, lease_until = ?"
            " WHERE update_id = ? AND handled_at IS NULL",
            (person, worker, until, update_id),
        )

    async def renew(self, worker: str, until: float) -> int:
        """Extend the leases of what the worker still has to handle (its heartbeat)."""
        return await self.db.change(
            "UPDATE inbox SET lease_until = ? WHERE worker = ? AND handled_at IS NULL"
            " AND lease_until IS NOT NULL",
            (until, worker),
        )

    async def earlier_of(self, person: int, update_id: int) -> bool:
        """Whether an earlier update of the person is in the inbox and not handled yet (by
        any worker): a worker handles theirs in order, after it."""
        row = await self.db.fetchone(
            "SELECT 1 FROM inbox WHERE person = ? AND update_id < ? AND handled_at IS NULL LIMIT 1",
            (person, update_id),
        )
        return row is not None

    async def unhandled_before(self, update_id: int) -> bool:
        """Whether any update older than this one, received by any worker, is not handled
        yet (an early close waits for it)."""
        row = await self.db.fetchone(
            "SELECT 1 FROM inbox WHERE update_id < ? AND handled_at IS NULL"
            " AND lease_until IS NOT NULL LIMIT 1",
            (update_id,),
        )
        return row is not None

    async def take_over(
        self, worker: str, now: float, until: float, received_before: datetime | None = None
    ) -> list[Unhandled]:
        """Take the unhandled updates whose worker's lease ran out (a killed worker's): the
        worker's to handle now, in update_id order. One statement, on the index of leased
        rows. With `received_before` (at a start) also those stored without a lease before
        that moment (left by a process that did not share the database)."""
        if received_before is None:
            rows = await self.db.fetchall(
                "UPDATE inbox SET worker = ?, lease_until = ?"
                " WHERE handled_at IS NULL AND lease_until IS NOT NULL AND lease_until < ?"
                " AND payload IS NOT NULL RETURNING update_id, payload",
                (worker, until, now),
            )
        else:
            rows = await self.db.fetchall(
                "UPDATE inbox SET worker = ?, lease_until = ?"
                " WHERE handled_at IS NULL AND payload IS NOT NULL"
                " AND (lease_until < ? OR (lease_until IS NULL AND received_at < ?))"
                " RETURNING update_id, payload",
                (worker, until, now, to_db(received_before)),
            )
        return sorted((Unhandled(int(row[0]), str(row[1])) for row in rows), key=_by_id)


def _by_id(row: Unhandled) -> int:
    return row.update_id
