"""Weekly digests: what a week held (decisions, roster changes), and which digests went out,
so that a digest missed while the bot was down is sent once, and never twice."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from storage.db import Database, from_db, to_db


@dataclass(frozen=True, slots=True)
class Decided:
    """A proposal closed in the week, with where its card or poll can be found."""

    proposal_id: int
    number: int  # the network's #N
    team_id: int
    kind: str
    title: str
    outcome: str
    closed_at: datetime
    chat_id: int | None
    message_id: int | None


@dataclass(frozen=True, slots=True)
class RosterChange:
    team_id: int
    person_id: int
    joined: bool  # False: left
    how: str
    at: datetime
    by: int | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class ElectionNews:
    """An election still running, or one that closed in the week, with who won."""

    election_id: int
    number: int  # the network's Wahl #N
    team_id: int
    seats: int
    status: str  # "asking", "voting" or "closed"
    until: datetime | None  # the end of asking or of voting, while it runs
    elected: list[int]
    tied: list[int]


class Digests:
    def __init__(self, db: Database, network_id: int) -> None:
        self.db = db
        self.network_id = network_id

    # -- what the week held ------------------------------------------------------------------

    async def decided(self, start: datetime, end: datetime) -> list[Decided]:
        """Proposals closed in [start, end), oldest first, with the last card or poll."""
        rows = await self.db.fetchall(
            "SELECT p.id, p.number, p.team_id, p.kind, p.title, p.outcome, p.closed_at,"
            " COALESCE(vp.chat_id, r.card_chat_id) AS chat_id,"
            " COALESCE(vp.message_id, r.card_message_id) AS message_id"
            " FROM proposals p"
            " LEFT JOIN rounds r ON r.proposal_id = p.id AND r.number = p.round_number"
            " LEFT JOIN votes v ON v.proposal_id = p.id"
            " LEFT JOIN vote_polls vp ON vp.vote_id = v.id AND vp.active = 1"
            " WHERE p.network_id = ? AND p.status = 'closed' AND p.closed_at >= ?"
            " AND p.closed_at < ? ORDER BY p.closed_at, p.id",
            (self.network_id, to_db(start), to_db(end)),
        )
        found: dict[int, Decided] = {}
        for row in rows:
            closed_at = from_db(row["closed_at"])
            assert closed_at is not None
            found.setdefault(
                int(row["id"]),
                Decided(
                    proposal_id=int(row["id"]),
                    number=int(row["number"]),
                    team_id=int(row["team_id"]),
                    kind=row["kind"],
                    title=row["title"],
                    outcome=row["outcome"],
                    closed_at=closed_at,
                    chat_id=row["chat_id"],
                    message_id=row["message_id"],
                ),
            )
        return list(found.values())

    async def roster_changes(self, start: datetime, end: datetime) -> list[RosterChange]:
        """Who joined or left which team in [start, end), in time order."""
        window = (self.network_id, to_db(start), to_db(end))
        rows = await self.db.fetchall(
            "SELECT team_id, person_id, 1 AS joined, joined_how AS how, joined_at AS at,"
            " joined_by AS by, NULL AS reason FROM roster_entries"
            " WHERE network_id = ? AND joined_at >= ? AND joined_at < ?"
            " UNION ALL"
            " SELECT team_id, person_id, 0, left_how, left_at, left_by, left_reason"
            " FROM roster_entries WHERE network_id = ? AND left_at >= ? AND left_at < ?"
            " ORDER BY at",
            (*window, *window),
        )
        changes = []
        for row in rows:
            at = from_db(row["at"])
            assert at is not None
            changes.append(
                RosterChange(
                    team_id=int(row["team_id"]),
                    person_id=int(row["person_id"]),
                    joined=bool(row["joined"]),
                    how=row["how"],
                    at=at,
                    by=row["by"],
                    reason=row["reason"],
                )
            )
        return changes

    async def current_chat(self, chat_id: int) -> int:
        """The chat's id now: a group upgraded to a supergroup (as a bound team) has a new one."""
        for _ in range(5):  # a chat migrates once; the bound guards against a loop
            row = await self.db.fetchone(
                "SELECT json_extract(data, '$.to') FROM events WHERE network_id = ?"
                " AND kind = 'team.chat_migrated' AND json_extract(data, '$.from') = ?"
                " ORDER BY id DESC LIMIT 1",
                (self.network_id, chat_id),
            )
            if row is None or row[0] is None:
                break
            chat_id = int(row[0])
        return chat_id

    async def elections(self, start: datetime, end: datetime) -> list[ElectionNews]:
        """Elections still running, and those closed in [start, end)."""
        rows = await self.db.fetchall(
            "SELECT id, number, team_id, seats, status, stand_until, vote_deadline, result"
            " FROM elections WHERE network_id = ? AND (status != 'closed'"
            " OR (closed_at >= ? AND closed_at < ?)) ORDER BY id",
            (self.network_id, to_db(start), to_db(end)),
        )
        news = []
        for row in rows:
            result = json.loads(row["result"]) if row["result"] else {}
            until = row["vote_deadline"] if row["status"] == "voting" else row["stand_until"]
            news.append(
                ElectionNews(
                    election_id=int(row["id"]),
                    number=int(row["number"]),
                    team_id=int(row["team_id"]),
                    seats=int(row["seats"]),
                    status=row["status"],
                    until=from_db(until) if row["status"] != "closed" else None,
                    elected=[int(i) for i in result.get("elected", [])],
                    tied=[int(i) for i in result.get("tied", [])],
                )
            )
        return news

    # -- which digests went out ----------------------------------------------------------------

    async def network_created_at(self) -> datetime:
        row = await self.db.fetchone(
            "SELECT created_at FROM networks WHERE id = ?", (self.network_id,)
        )
        assert row is not None
        created = from_db(row[0])
        assert created is not None
        return created

    async def claim_slot(
        self, slot: datetime, now: datetime, targets: list[tuple[str, int, int | None]]
    ) -> bool:
        """Start the digest of one scheduled moment, with every chat it goes to (target,
        chat id, team id), in one transaction; False if it was started before."""
        async with self.db.transaction() as tx:
            started = await tx.rowcount(
                "INSERT OR IGNORE INTO digest_slots (network_id, slot, started_at)"
                " VALUES (?, ?, ?)",
                (self.network_id, to_db(slot), to_db(now)),
            )
            if not started:
                return False
            await tx.executemany(
                "INSERT OR IGNORE INTO digest_deliveries (network_id, slot, target, chat_id,"
                " team_id, claimed_at) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (self.network_id, to_db(slot), target, chat_id, team_id, to_db(now))
                    for target, chat_id, team_id in targets
                ],
            )
        return True

    async def mark_sent(self, slot: datetime, chat_id: int, now: datetime) -> None:
        await self.db.change(
            "UPDATE digest_deliveries SET sent_at = ? WHERE network_id = ? AND slot = ?"
            " AND chat_id = ? AND sent_at IS NULL",
            (to_db(now), self.network_id, to_db(slot), chat_id),
        )
