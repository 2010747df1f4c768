"""The heartbeats of the running bots (SPEC §9): one row per instance (each of several webhook
workers has its own), written while its event loop turns, with the end of its last round trip
to Telegram; `wiq-bot health` reads them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import Database, Row, from_db, from_db_required, to_db


@dataclass(frozen=True, slots=True)
class Beat:
    instance: str
    host: str
    pid: int
    started_at: datetime
    beat_at: datetime
    telegram_at: datetime | None  # None: no getUpdates round trip yet
    stopped_at: datetime | None


class Heartbeats:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def beat(self, beat: Beat) -> None:
        """Write the instance's heartbeat (one statement)."""
        await self.db.change(
            "INSERT INTO heartbeats"
            " (instance, host, pid, started_at, beat_at, telegram_at, stopped_at)"
            " VALUES (?, ?, ?, ?, ?, ?, NULL)"
            " ON CONFLICT (instance) DO UPDATE SET beat_at = excluded.beat_at,"
            " telegram_at = excluded.telegram_at, started_at = excluded.started_at,"
            " stopped_at = NULL",
            (
                beat.instance,
                beat.host,
                beat.pid,
                to_db(beat.started_at),
                to_db(beat.beat_at),
                None if beat.telegram_at is None else to_db(beat.telegram_at),
            ),
        )

    async def stopped(self, instance: str, now: datetime) -> None:
        await self.db.change(
            "UPDATE heartbeats SET stopped_at = ? WHERE instance = ?", (to_db(now), instance)
        )

    async def remove(self, instance: str) -> None:
        """One of several workers stopped cleanly: its row goes (the others' say the bot runs)."""
        await self.db.change("DELETE FROM heartbeats WHERE instance = ?", (instance,))

    async def every(self) -> list[Beat]:
        """Every instance's heartbeat, by instance."""
        rows = await self.db.fetchall(
            "SELECT instance, host, pid, started_at, beat_at, telegram_at, stopped_at"
            " FROM heartbeats ORDER BY instance"
        )
        return [_beat(row) for row in rows]

    async def latest(self) -> Beat | None:
        """The newest heartbeat of any instance."""
        row = await self.db.fetchone(
            "SELECT instance, host, pid, started_at, beat_at, telegram_at, stopped_at"
            " FROM heartbeats ORDER BY beat_at DESC LIMIT 1"
        )
        return None if row is None else _beat(row)

    async def forget_before(self, moment: datetime) -> int:
        """Remove the rows of instances whose last heartbeat is older than `moment`."""
        return await self.db.change("DELETE FROM heartbeats WHERE beat_at < ?", (to_db(moment),))

    async def clear(self) -> None:
        """No instance runs on this database (a restored one): its heartbeats are of another
        time, and would make a stopped bot look alive."""
        tables = await self.db.fetchall(self.db.dialect.has_table_sql(), ("heartbeats",))
        if tables:
            await self.db.change("DELETE FROM heartbeats")


def _beat(row: Row) -> Beat:
    return Beat(
        instance=row["instance"],
        host=row["host"],
        pid=int(row["pid"]),
        started_at=from_db_required(row["started_at"]),
        beat_at=from_db_required(row["beat_at"]),
        telegram_at=from_db(row["telegram_at"]),
        stopped_at=from_db(row["stopped_at"]),
    )
