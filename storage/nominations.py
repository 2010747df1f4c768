"""Nominations to the UT or KT: the joint candidate of PT and ST (SPEC §5)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from storage import events
from storage.db import Database, Row, from_db, json_list, to_db


@dataclass(frozen=True, slots=True)
class Nomination:
    id: int
    target_kind: str
    candidate_id: int | None
    candidate_username: str | None
    token: str
    nominated_by: int | None
    pt_proposal_id: int | None
    st_proposal_id: int | None
    pt_outcome: str | None
    st_outcome: str | None
    both_approved_at: datetime | None
    accepted_at: datetime | None
    status: str

    @property
    def is_open(self) -> bool:
        return self.status == "open"


class Nominations:
    def __init__(self, db: Database, network_id: int, approving_outcomes: frozenset[str]) -> None:
        self.db = db
        self.network_id = network_id
        # The outcomes that say yes (bot.charter.outcomes.APPROVING_OUTCOMES).
        self._approving = json_list(approving_outcomes)

    async def create(
        self,
        target_kind: str,
        candidate_id: int | None,
        candidate_username: str | None,
        nominated_by: int | None,
        now: datetime,
    ) -> Nomination:
        token = secrets.token_urlsafe(12)
        async with self.db.transaction() as tx:
            nomination_id = await tx.execute(
                "INSERT INTO nominations (network_id, target_kind, candidate_id,"
                " candidate_username, token, nominated_by, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    self.network_id,
                    target_kind,
                    candidate_id,
                    candidate_username,
                    token,
                    nominated_by,
                    to_db(now),
                ),
            )
            await events.append(
                tx,
                self.network_id,
                "nomination.created",
                now,
                actor_id=nominated_by,
                subject_id=candidate_id,
                data={"nomination": nomination_id, "to": target_kind},
            )
        found = await self.get(nomination_id)
        assert found is not None
        return found

    async def set_proposals(self, nomination_id: int, pt_id: int, st_id: int) -> None:
        await self.db.execute(
            "UPDATE nominations SET pt_proposal_id = ?, st_proposal_id = ? WHERE id = ?",
            (pt_id, st_id, nomination_id),
        )

    async def get(self, nomination_id: int) -> Nomination | None:
        row = await self.db.fetchone(
            "SELECT * FROM nominations WHERE id = ? AND network_id = ?",
            (nomination_id, self.network_id),
        )
        return _nomination(row) if row else None

    async def by_token(self, token: str) -> Nomination | None:
        row = await self.db.fetchone(
            "SELECT * FROM nominations WHERE token = ? AND network_id = ?",
            (token, self.network_id),
        )
        return _nomination(row) if row else None

    async def by_proposal(self, proposal_id: int) -> Nomination | None:
        row = await self.db.fetchone(
            "SELECT * FROM nominations WHERE network_id = ?"
            " AND (pt_proposal_id = ? OR st_proposal_id = ?)",
            (self.network_id, proposal_id, proposal_id),
        )
        return _nomination(row) if row else None

    async def open_for(
        self, target_kind: str, candidate_id: int | None, username: str | None
    ) -> Nomination | None:
        row = await self.db.fetchone(
            "SELECT * FROM nominations WHERE network_id = ? AND status = 'open'"
            " AND target_kind = ? AND ((candidate_id IS NOT NULL AND candidate_id = ?)"
            "  OR (candidate_username IS NOT NULL AND candidate_username = ? COLLATE NOCASE))",
            (self.network_id, target_kind, candidate_id, username or ""),
        )
        return _nomination(row) if row else None

    async def open_nominations(self) -> list[Nomination]:
        rows = await self.db.fetchall(
            "SELECT * FROM nominations WHERE network_id = ? AND status = 'open' ORDER BY id",
            (self.network_id,),
        )
        return [_nomination(row) for row in rows]

    async def bind_candidate(self, nomination_id: int, person_id: int, now: datetime) -> bool:
        """An unseen @username opened the deep link: the nomination now names them."""
        async with self.db.transaction() as tx:
            changed = await tx.rowcount(
                "UPDATE nominations SET candidate_id = ? WHERE id = ? AND candidate_id IS NULL",
                (person_id, nomination_id),
            )
            if changed:
                await tx.execute(
                    "UPDATE proposals SET subject_id = ? WHERE id IN"
                    " (SELECT pt_proposal_id FROM nominations WHERE id = ?"
                    "  UNION SELECT st_proposal_id FROM nominations WHERE id = ?)",
                    (person_id, nomination_id, nomination_id),
                )
                await events.append(
                    tx,
                    self.network_id,
                    "nomination.candidate_bound",
                    now,
                    subject_id=person_id,
                    data={"nomination": nomination_id},
                )
        return bool(changed)

    async def record_team_outcome(
        self, nomination_id: int, team_kind: str, outcome: str, now: datetime
    ) -> Nomination | None:
        column = "pt_outcome" if team_kind == "PT" else "st_outcome"
        async with self.db.transaction() as tx:
            await tx.execute(
                f"UPDATE nominations SET {column} = ? WHERE id = ? AND {column} IS NULL",
                (outcome, nomination_id),
            )
            await tx.execute(
                "UPDATE nominations SET both_approved_at = ? WHERE id = ?"
                " AND both_approved_at IS NULL"
                " AND pt_outcome IN (SELECT value FROM json_each(?))"
                " AND st_outcome IN (SELECT value FROM json_each(?))",
                (to_db(now), nomination_id, self._approving, self._approving),
            )
            await events.append(
                tx,
                self.network_id,
                "nomination.team_decided",
                now,
                data={"nomination": nomination_id, "team": team_kind, "outcome": outcome},
            )
        return await self.get(nomination_id)

    async def accept(self, nomination_id: int, person_id: int, now: datetime) -> bool:
        async with self.db.transaction() as tx:
            changed = await tx.rowcount(
                "UPDATE nominations SET accepted_at = ? WHERE id = ? AND status = 'open'"
                " AND accepted_at IS NULL AND candidate_id = ?",
                (to_db(now), nomination_id, person_id),
            )
            if changed:
                await events.append(
                    tx,
                    self.network_id,
                    "nomination.accepted",
                    now,
                    actor_id=person_id,
                    data={"nomination": nomination_id},
                )
        return bool(changed)

    async def close(self, nomination_id: int, status: str, now: datetime) -> bool:
        """End an open nomination (appointed, rejected, declined, lapsed) — exactly once."""
        async with self.db.transaction() as tx:
            changed = await tx.rowcount(
                "UPDATE nominations SET status = ?, closed_at = ? WHERE id = ? AND status = 'open'",
                (status, to_db(now), nomination_id),
            )
            if changed:
                await events.append(
                    tx,
                    self.network_id,
                    f"nomination.{status}",
                    now,
                    data={"nomination": nomination_id},
                )
        return bool(changed)


def _nomination(row: Row) -> Nomination:
    return Nomination(
        id=row["id"],
        target_kind=row["target_kind"],
        candidate_id=row["candidate_id"],
        candidate_username=row["candidate_username"],
        token=row["token"],
        nominated_by=row["nominated_by"],
        pt_proposal_id=row["pt_proposal_id"],
        st_proposal_id=row["st_proposal_id"],
        pt_outcome=row["pt_outcome"],
        st_outcome=row["st_outcome"],
        both_approved_at=from_db(row["both_approved_at"]),
        accepted_at=from_db(row["accepted_at"]),
        status=row["status"],
    )
