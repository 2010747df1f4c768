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
        One statement, atomic by itself."""
        rows = await self.db.fetchall(
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
