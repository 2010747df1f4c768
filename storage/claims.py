"""Claims with a lease (storage/migrations/027_workers.sql): what only one of several workers
on the database may do at a time — send one chat's outbox queue — is a row here. Taking it is
one statement that succeeds only when nobody holds it, the holder is the claimer itself, or
the holder's lease ran out; the holder renews its leases while it lives (`renew`) and removes
a claim when it lets go (`release`). A worker killed mid-claim leaves it to the others once
the lease has run out.

Plain SQL both backends run (`INSERT … ON CONFLICT … DO UPDATE … WHERE … RETURNING`); this
module is the one place that says how a claim is taken, so a backend with a better way (a
PostgreSQL advisory lock, `FOR UPDATE SKIP LOCKED`) changes it here. Times are epoch seconds
of the injected clock: workers on several hosts need their clocks in step (NTP), as
Telegram's own budget does."""

from __future__ import annotations

from storage.db import Database

OUTBOX = "outbox"  # item: a chat id; the worker sending that chat's queue


class Claims:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def take(self, kind: str, item: int, holder: str, now: float, lease: float) -> bool:
        """Take (or keep: renewed) the claim for `lease` seconds; False when another worker
        holds it and its lease has not run out. One statement, atomic by itself."""
        row = await self.db.fetchone(
            "INSERT INTO claims (kind, item, holder, lease_until) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (kind, item) DO UPDATE SET holder = excluded.holder,"
            " lease_until = excluded.lease_until"
            " WHERE claims.holder = excluded.holder OR claims.lease_until < ?"
            " RETURNING holder",
            (kind, item, holder, now + lease, now),
        )
        return row is not None

    async def release(self, kind: str, item: int, holder: str) -> None:
        """Let go of the claim (if it is still the holder's)."""
        await self.db.change(
            "DELETE FROM claims WHERE kind = ? AND item = ? AND holder = ?", (kind, item, holder)
        )

    async def renew(self, holder: str, now: float, lease: float) -> int:
        """Extend every lease the holder still has (its heartbeat); returns how many."""
        return await self.db.change(
            "UPDATE claims SET lease_until = ? WHERE holder = ? AND lease_until >= ?",
            (now + lease, holder, now),
        )

    async def release_all(self, holder: str) -> int:
        """A clean stop: the holder lets go of everything it holds."""
        return await self.db.change("DELETE FROM claims WHERE holder = ?", (holder,))

    async def holder(self, kind: str, item: int, now: float) -> str | None:
        """Who holds the claim now (None: nobody, or the lease ran out)."""
        row = await self.db.fetchone(
            "SELECT holder FROM claims WHERE kind = ? AND item = ? AND lease_until >= ?",
            (kind, item, now),
        )
        return None if row is None else str(row[0])


class Worker:
    """The claims of one worker (its name and lease bound): what the outbox and the inbox of
    a worker that shares the database use."""

    def __init__(self, claims: Claims, name: str, lease: float) -> None:
        self.claims = claims
        self.name = name
        self.lease = lease

    async def take(self, kind: str, item: int, now: float) -> bool:
        return await self.claims.take(kind, item, self.name, now, self.lease)

    async def release(self, kind: str, item: int) -> None:
        await self.claims.release(kind, item, self.name)
