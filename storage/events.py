"""The append-only record: every state change with time, actor and subject (by internal id)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from storage.db import Database, JsonObject, Row, Transaction, from_db_required, to_db


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    team_id: int | None
    at: datetime
    actor_id: int | None
    kind: str
    subject_id: int | None
    data: JsonObject


async def append(
    tx: Transaction,
    network_id: int,
    kind: str,
    at: datetime,
    *,
    team_id: int | None = None,
    actor_id: int | None = None,
    subject_id: int | None = None,
    data: Mapping[str, object] | None = None,
) -> int:
    return await tx.execute(
        "INSERT INTO events (network_id, team_id, at, actor_id, kind, subject_id, data)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            network_id,
            team_id,
            to_db(at),
            actor_id,
            kind,
            subject_id,
            json.dumps(data or {}, sort_keys=True),
        ),
    )


class Events:
    def __init__(self, db: Database, network_id: int) -> None:
        self.db = db
        self.network_id = network_id

    async def for_team(self, team_id: int, since: datetime | None = None) -> list[Event]:
        rows = await self.db.fetchall(
            "SELECT * FROM events WHERE network_id = ? AND team_id = ? AND at >= ? ORDER BY id",
            (self.network_id, team_id, to_db(since) if since else ""),
        )
        return [_event(row) for row in rows]

    async def admissions(self, team_id: int, hows: tuple[str, ...], limit: int = 20) -> list[Event]:
        """People who came onto the team's roster in one of these ways, newest first."""
        marks = ",".join("?" * len(hows))
        rows = await self.db.fetchall(
            "SELECT * FROM events WHERE team_id = ? AND kind = 'roster.joined'"
            f" AND json_extract(data, '$.how') IN ({marks}) ORDER BY id DESC LIMIT ?",
            (team_id, *hows, limit),
        )
        return [_event(row) for row in rows]

    async def all(self) -> list[Event]:
        rows = await self.db.fetchall(
            "SELECT * FROM events WHERE network_id = ? ORDER BY id", (self.network_id,)
        )
        return [_event(row) for row in rows]


def _event(row: Row) -> Event:
    return Event(
        id=row["id"],
        team_id=row["team_id"],
        at=from_db_required(row["at"]),
        actor_id=row["actor_id"],
        kind=row["kind"],
        subject_id=row["subject_id"],
        data=json.loads(row["data"]),
    )
