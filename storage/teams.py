"""Teams and the chats they are bound to."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from storage import events
from storage.db import (
    Database,
    IntegrityError,
    JsonObject,
    Row,
    from_db,
    from_db_required,
    to_db,
)


class AlreadyBound(Exception):
    """The chat already belongs to a team."""


class KindTaken(Exception):
    """The network already has its one team of this kind."""


@dataclass(frozen=True, slots=True)
class Team:
    id: int
    network_id: int
    kind: str
    name: str
    chat_id: int
    chat_type: str
    roster_mode: str
    policy_overrides: JsonObject
    bot_is_admin: bool
    bound_at: datetime
    first_decision_at: datetime | None

    @property
    def in_setup_phase(self) -> bool:
        return self.first_decision_at is None


class Teams:
    def __init__(self, db: Database, network_id: int) -> None:
        self.db = db
        self.network_id = network_id

    async def bind(
        self,
        kind: str,
        name: str,
        chat_id: int,
        chat_type: str,
        roster_mode: str,
        bound_by: int | None,
        now: datetime,
    ) -> Team:
        try:
            async with self.db.transaction() as tx:
                if await tx.fetchone("SELECT 1 FROM teams WHERE chat_id = ?", (chat_id,)):
                    raise AlreadyBound(chat_id)
                team_id = await tx.execute(
                    "INSERT INTO teams (network_id, kind, name, chat_id, chat_type,"
                    " roster_mode, bound_by, bound_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        self.network_id,
                        kind,
                        name,
                        chat_id,
                        chat_type,
                        roster_mode,
                        bound_by,
                        to_db(now),
                    ),
                )
                await events.append(
                    tx,
                    self.network_id,
                    "team.bound",
                    now,
                    team_id=team_id,
                    actor_id=bound_by,
                    data={"kind": kind, "roster_mode": roster_mode},
                )
        except IntegrityError:
            raise KindTaken(kind) from None
        team = await self.by_id(team_id)
        assert team is not None
        return team

    async def by_id(self, team_id: int) -> Team | None:
        row = await self.db.fetchone(
            "SELECT * FROM teams WHERE id = ? AND network_id = ?", (team_id, self.network_id)
        )
        return _team(row) if row else None

    async def by_chat(self, chat_id: int) -> Team | None:
        row = await self.db.fetchone(
            "SELECT * FROM teams WHERE network_id = ? AND chat_id = ?", (self.network_id, chat_id)
        )
        return _team(row) if row else None

    async def by_kind(self, kind: str) -> list[Team]:
        rows = await self.db.fetchall(
            "SELECT * FROM teams WHERE network_id = ? AND kind = ? ORDER BY id",
            (self.network_id, kind),
        )
        return [_team(row) for row in rows]

    async def all(self) -> list[Team]:
        rows = await self.db.fetchall(
            "SELECT * FROM teams WHERE network_id = ? ORDER BY id", (self.network_id,)
        )
        return [_team(row) for row in rows]

    async def set_bot_admin(self, team_id: int, is_admin: bool, now: datetime) -> bool:
        """Record the bot's admin status; True if it changed."""
        async with self.db.transaction() as tx:
            changed = await tx.rowcount(
                "UPDATE teams SET bot_is_admin = ? WHERE id = ? AND bot_is_admin != ?",
                (int(is_admin), team_id, int(is_admin)),
            )
            if changed:
                await events.append(
                    tx,
                    self.network_id,
                    "team.bot_promoted" if is_admin else "team.bot_demoted",
                    now,
                    team_id=team_id,
                )
        return bool(changed)

    async def change_settings(
        self,
        team_id: int,
        now: datetime,
        *,
        roster_mode: str | None = None,
        policy: Mapping[str, object] | None = None,
        decision_id: int | None = None,
    ) -> None:
        """A team's own choices (LT self-government): roster mode and policy overrides."""
        async with self.db.transaction() as tx:
            if roster_mode is not None:
                await tx.execute(
                    "UPDATE teams SET roster_mode = ? WHERE id = ?", (roster_mode, team_id)
                )
            if policy:
                row = await tx.fetchone(
                    "SELECT policy_overrides FROM teams WHERE id = ?", (team_id,)
                )
                assert row is not None, f"no team {team_id}"
                merged = {**json.loads(row["policy_overrides"]), **policy}
                await tx.execute(
                    "UPDATE teams SET policy_overrides = ? WHERE id = ?",
                    (json.dumps(merged, sort_keys=True), team_id),
                )
            await events.append(
                tx,
                self.network_id,
                "team.settings",
                now,
                team_id=team_id,
                data={"roster_mode": roster_mode, "policy": policy or {}, "decision": decision_id},
            )

    async def move_chat(self, old_chat_id: int, new_chat_id: int, now: datetime) -> Team | None:
        """A group became a supergroup: the binding follows it. Idempotent."""
        async with self.db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT id FROM teams WHERE network_id = ? AND chat_id = ?",
                (self.network_id, old_chat_id),
            )
            if row is None:
                return None
            await tx.execute(
                "UPDATE teams SET chat_id = ?, chat_type = 'supergroup' WHERE id = ?",
                (new_chat_id, row["id"]),
            )
            await events.append(
                tx,
                self.network_id,
                "team.chat_migrated",
                now,
                team_id=row["id"],
                data={"from": old_chat_id, "to": new_chat_id},
            )
        return await self.by_id(row["id"])


def _team(row: Row) -> Team:
    return Team(
        id=row["id"],
        network_id=row["network_id"],
        kind=row["kind"],
        name=row["name"],
        chat_id=row["chat_id"],
        chat_type=row["chat_type"],
        roster_mode=row["roster_mode"],
        policy_overrides=json.loads(row["policy_overrides"]),
        bot_is_admin=bool(row["bot_is_admin"]),
        bound_at=from_db_required(row["bound_at"]),
        first_decision_at=from_db(row["first_decision_at"]),
    )
