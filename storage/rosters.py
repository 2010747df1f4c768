"""Rosters: who may take part in a team's decisions, with how and when they came and went."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage import events
from storage.db import Database, from_db_required, to_db
from storage.people import Person, _person
from storage.rounds import leave_open_rounds
from storage.votes import leave_open_votes


@dataclass(frozen=True, slots=True)
class Member:
    person: Person
    joined_at: datetime
    joined_how: str
    joined_by: int | None
    seat: str | None
    body: str | None


@dataclass(frozen=True, slots=True)
class Departure:
    """A closed roster entry, for chat-mode rules (someone who left on request stays out)."""

    left_at: datetime
    left_how: str


class Rosters:
    def __init__(self, db: Database, network_id: int) -> None:
        self.db = db
        self.network_id = network_id

    async def admit(
        self,
        team_id: int,
        person_id: int,
        how: str,
        now: datetime,
        *,
        by: int | None = None,
        seat: str | None = None,
        body: str | None = None,
    ) -> bool:
        """Put a person on the roster; False if they already are (nothing changes)."""
        async with self.db.transaction() as tx:
            if await tx.fetchone(
                "SELECT 1 FROM roster_entries WHERE team_id = ? AND person_id = ?"
                " AND left_at IS NULL",
                (team_id, person_id),
            ):
                return False
            await tx.execute(
                "INSERT INTO roster_entries (network_id, team_id, person_id, joined_at,"
                " joined_how, joined_by, seat, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (self.network_id, team_id, person_id, to_db(now), how, by, seat, body),
            )
            await events.append(
                tx,
                self.network_id,
                "roster.joined",
                now,
                team_id=team_id,
                actor_id=by,
                subject_id=person_id,
                data={"how": how, "seat": seat},
            )
        return True

    async def leave(
        self,
        team_id: int,
        person_id: int,
        how: str,
        now: datetime,
        *,
        by: int | None = None,
        reason: str | None = None,
    ) -> bool:
        """Take a person off the roster; False if they were not on it."""
        async with self.db.transaction() as tx:
            changed = await tx.rowcount(
                "UPDATE roster_entries SET left_at = ?, left_how = ?, left_by = ?,"
                " left_reason = ? WHERE team_id = ? AND person_id = ? AND left_at IS NULL",
                (to_db(now), how, by, reason, team_id, person_id),
            )
            if changed:
                await leave_open_rounds(tx, team_id, person_id, now)
                await leave_open_votes(tx, team_id, person_id, now)
                await events.append(
                    tx,
                    self.network_id,
                    "roster.left",
                    now,
                    team_id=team_id,
                    actor_id=by,
                    subject_id=person_id,
                    data={"how": how},
                )
        return bool(changed)

    async def is_member(self, team_id: int, person_id: int) -> bool:
        row = await self.db.fetchone(
            "SELECT 1 FROM roster_entries WHERE team_id = ? AND person_id = ? AND left_at IS NULL",
            (team_id, person_id),
        )
        return row is not None

    async def members(self, team_id: int) -> list[Member]:
        rows = await self.db.fetchall(
            "SELECT p.*, r.joined_at, r.joined_how, r.joined_by, r.seat, r.body"
            " FROM roster_entries r JOIN people p ON p.id = r.person_id"
            " WHERE r.team_id = ? AND r.left_at IS NULL ORDER BY r.joined_at, r.id",
            (team_id,),
        )
        return [
            Member(
                person=_person(row),
                joined_at=from_db_required(row["joined_at"]),
                joined_how=row["joined_how"],
                joined_by=row["joined_by"],
                seat=row["seat"],
                body=row["body"],
            )
            for row in rows
        ]

    async def member_ids(self, team_id: int) -> frozenset[int]:
        rows = await self.db.fetchall(
            "SELECT person_id FROM roster_entries WHERE team_id = ? AND left_at IS NULL",
            (team_id,),
        )
        return frozenset(row[0] for row in rows)

    async def size(self, team_id: int) -> int:
        row = await self.db.fetchone(
            "SELECT COUNT(*) FROM roster_entries WHERE team_id = ? AND left_at IS NULL",
            (team_id,),
        )
        return int(row[0]) if row else 0

    async def last_departure(self, team_id: int, person_id: int) -> Departure | None:
        row = await self.db.fetchone(
            "SELECT left_at, left_how FROM roster_entries WHERE team_id = ? AND person_id = ?"
            " AND left_at IS NOT NULL ORDER BY left_at DESC, id DESC LIMIT 1",
            (team_id, person_id),
        )
        if row is None:
            return None
        return Departure(left_at=from_db_required(row["left_at"]), left_how=row["left_how"])

    async def teams_of(self, person_id: int) -> list[int]:
        rows = await self.db.fetchall(
            "SELECT team_id FROM roster_entries WHERE person_id = ? AND left_at IS NULL",
            (person_id,),
        )
        return [row[0] for row in rows]
