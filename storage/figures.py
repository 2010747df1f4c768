"""What the metrics read at scrape time (bot/ops/metrics.py) and the stuck-queue check: counts
and ages, never who or what. Reads only; each query is one statement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import Database, Row, from_db_required


@dataclass(frozen=True, slots=True)
class Queued:
    """What waits in the outbox under one key (a priority, or a chat): how many, and since
    when the oldest."""

    key: int
    count: int
    oldest: datetime


class Figures:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def queued_by_priority(self) -> list[Queued]:
        rows = await self.db.fetchall(
            "SELECT priority AS key, COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox"
            " WHERE status IN ('queued', 'sending') GROUP BY priority ORDER BY priority"
        )
        return [_queued(row) for row in rows]

    async def queued_by_chat(self) -> list[Queued]:
        """Per chat, what is queued and not yet taken by the sender."""
        rows = await self.db.fetchall(
            "SELECT chat_id AS key, COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox"
            " WHERE status = 'queued' GROUP BY chat_id ORDER BY chat_id"
        )
        return [_queued(row) for row in rows]

    async def open_counts(self) -> dict[str, int]:
        """Open consensus rounds, majority votes and nominations."""
        row = await self.db.fetchone(
            "SELECT (SELECT COUNT(*) FROM rounds WHERE closed_at IS NULL) AS rounds,"
            " (SELECT COUNT(*) FROM votes WHERE closed_at IS NULL) AS votes,"
            " (SELECT COUNT(*) FROM nominations WHERE status = 'open') AS nominations"
        )
        assert row is not None
        return {
            "rounds": int(row["rounds"]),
            "votes": int(row["votes"]),
            "nominations": int(row["nominations"]),
        }

    async def latest_beat(self) -> datetime | None:
        row = await self.db.fetchone("SELECT MAX(beat_at) AS at FROM heartbeats")
        return None if row is None or row["at"] is None else from_db_required(row["at"])


def _queued(row: Row) -> Queued:
    return Queued(key=int(row["key"]), count=int(row["n"]), oldest=from_db_required(row["oldest"]))
