"""Invitations into a team's chat: one link per person, approved for that person only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage import events
from storage.db import Database, Row, from_db, from_db_required, to_db


@dataclass(frozen=True, slots=True)
class Invitation:
    id: int
    team_id: int
    person_id: int
    link: str | None
    created_at: datetime
    delivered_at: datetime | None
    used_at: datetime | None


class Invitations:
    def __init__(self, db: Database, network_id: int) -> None:
        self.db = db
        self.network_id = network_id

    async def create(self, team_id: int, person_id: int, now: datetime) -> int:
        async with self.db.transaction() as tx:
            invitation_id = await tx.execute(
                "INSERT INTO invitations (network_id, team_id, person_id, created_at)"
                " VALUES (?, ?, ?, ?)",
                (self.network_id, team_id, person_id, to_db(now)),
            )
            await events.append(
                tx,
                self.network_id,
                "invitation.created",
                now,
                team_id=team_id,
                subject_id=person_id,
            )
        return invitation_id

    async def set_link(self, invitation_id: int, link: str) -> Invitation | None:
        """Keep the invitation's link; one made already stays (a retry after a kill may have
        made a second, which nobody receives). None if there is no such invitation."""
        row = await self.db.fetchone(
            "UPDATE invitations SET link = COALESCE(link, ?) WHERE id = ? RETURNING *",
            (link, invitation_id),
        )
        return _invitation(row) if row else None

    async def mark_delivered(self, invitation_id: int, now: datetime) -> None:
        await self.db.execute(
            "UPDATE invitations SET delivered_at = ? WHERE id = ? AND delivered_at IS NULL",
            (to_db(now), invitation_id),
        )

    async def by_link(self, link: str) -> Invitation | None:
        row = await self.db.fetchone(
            "SELECT * FROM invitations WHERE network_id = ? AND link = ?",
            (self.network_id, link),
        )
        return _invitation(row) if row else None

    async def exists(self, team_id: int, person_id: int) -> bool:
        row = await self.db.fetchone(
            "SELECT 1 FROM invitations WHERE team_id = ? AND person_id = ? AND used_at IS NULL",
            (team_id, person_id),
        )
        return row is not None

    async def without_link(self, team_id: int) -> list[Invitation]:
        """The team's open invitations whose link Telegram has not made (it refused)."""
        rows = await self.db.fetchall(
            "SELECT * FROM invitations WHERE team_id = ? AND link IS NULL AND used_at IS NULL"
            " ORDER BY id",
            (team_id,),
        )
        return [_invitation(row) for row in rows]

    async def undelivered(self, person_id: int) -> list[Invitation]:
        rows = await self.db.fetchall(
            "SELECT * FROM invitations WHERE person_id = ? AND delivered_at IS NULL"
            " AND link IS NOT NULL ORDER BY id",
            (person_id,),
        )
        return [_invitation(row) for row in rows]

    async def use(self, invitation_id: int, now: datetime) -> bool:
        async with self.db.transaction() as tx:
            changed = await tx.rowcount(
                "UPDATE invitations SET used_at = ? WHERE id = ? AND used_at IS NULL",
                (to_db(now), invitation_id),
            )
            if changed:
                row = await tx.fetchone(
                    "SELECT team_id, person_id FROM invitations WHERE id = ?", (invitation_id,)
                )
                assert row is not None  # it was just updated
                await events.append(
                    tx,
                    self.network_id,
                    "invitation.used",
                    now,
                    team_id=row["team_id"],
                    subject_id=row["person_id"],
                )
        return bool(changed)

    async def release(self, invitation_id: int, now: datetime) -> Invitation | None:
        """Telegram refused to let the person in with it: the invitation is unused again (and
        the record says so)."""
        async with self.db.transaction() as tx:
            changed = await tx.rowcount(
                "UPDATE invitations SET used_at = NULL WHERE id = ? AND used_at IS NOT NULL",
                (invitation_id,),
            )
            row = await tx.fetchone("SELECT * FROM invitations WHERE id = ?", (invitation_id,))
            if changed and row is not None:
                await events.append(
                    tx,
                    self.network_id,
                    "invitation.join_refused",
                    now,
                    team_id=row["team_id"],
                    subject_id=row["person_id"],
                )
        return _invitation(row) if changed and row is not None else None


def _invitation(row: Row) -> Invitation:
    return Invitation(
        id=row["id"],
        team_id=row["team_id"],
        person_id=row["person_id"],
        link=row["link"],
        created_at=from_db_required(row["created_at"]),
        delivered_at=from_db(row["delivered_at"]),
        used_at=from_db(row["used_at"]),
    )
