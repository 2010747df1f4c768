"""Delegations into the ST's politics and administration seats, pending the delegate's yes."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from storage import events
from storage.db import Database, Row, to_db


@dataclass(frozen=True, slots=True)
class Delegation:
    id: int
    person_id: int | None
    username: str | None
    seat: str
    body: str
    token: str
    recorded_by: int | None
    status: str


class Delegations:
    def __init__(self, db: Database, network_id: int) -> None:
        self.db = db
        self.network_id = network_id

    async def create(
        self,
        person_id: int | None,
        username: str | None,
        seat: str,
        body: str,
        recorded_by: int | None,
        now: datetime,
    ) -> Delegation:
        async with self.db.transaction() as tx:
            delegation_id = await tx.execute(
                "INSERT INTO delegations (network_id, person_id, username, seat, body, token,"
                " recorded_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    self.network_id,
                    person_id,
                    username,
                    seat,
                    body,
                    secrets.token_urlsafe(12),
                    recorded_by,
                    to_db(now),
                ),
            )
            await events.append(
                tx,
                self.network_id,
                "delegation.recorded",
                now,
                actor_id=recorded_by,
                subject_id=person_id,
                data={"delegation": delegation_id, "seat": seat},
            )
        found = await self.get(delegation_id)
        assert found is not None
        return found

    async def get(self, delegation_id: int) -> Delegation | None:
        row = await self.db.fetchone(
            "SELECT * FROM delegations WHERE id = ? AND network_id = ?",
            (delegation_id, self.network_id),
        )
        return _delegation(row) if row else None

    async def by_token(self, token: str) -> Delegation | None:
        row = await self.db.fetchone(
            "SELECT * FROM delegations WHERE token = ? AND network_id = ?",
            (token, self.network_id),
        )
        return _delegation(row) if row else None

    async def bind(self, delegation_id: int, person_id: int) -> None:
        await self.db.execute(
            "UPDATE delegations SET person_id = ? WHERE id = ? AND person_id IS NULL",
            (person_id, delegation_id),
        )

    async def close(self, delegation_id: int, status: str, now: datetime) -> bool:
        """Confirmed or declined by the delegate — exactly once."""
        async with self.db.transaction() as tx:
            changed = await tx.rowcount(
                "UPDATE delegations SET status = ?, closed_at = ? WHERE id = ?"
                " AND status = 'pending'",
                (status, to_db(now), delegation_id),
            )
            if changed:
                await events.append(
                    tx,
                    self.network_id,
                    f"delegation.{status}",
                    now,
                    data={"delegation": delegation_id},
                )
        return bool(changed)


def _delegation(row: Row) -> Delegation:
    return Delegation(
        id=row["id"],
        person_id=row["person_id"],
        username=row["username"],
        seat=row["seat"],
        body=row["body"],
        token=row["token"],
        recorded_by=row["recorded_by"],
        status=row["status"],
    )
