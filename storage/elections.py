"""Elections of civil-society seats: candidates, the poll's electorate and ballots."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from storage import events
from storage.db import Database, Row, from_db, from_db_required, to_db


@dataclass(frozen=True, slots=True)
class Election:
    id: int
    number: int  # the network's Wahl #N (migration 029)
    team_id: int
    seats: int
    status: str
    stand_until: datetime
    deadline: datetime | None
    vote_deadline: datetime | None
    poll_id: str | None
    poll_chat_id: int | None
    poll_message_id: int | None
    created_at: datetime
    remind_at: datetime | None = None  # when its poll's reminder is due


@dataclass(frozen=True, slots=True)
class Candidate:
    position: int
    person_id: int | None
    username: str | None
    token: str
    status: str
    option_index: int | None


class Elections:
    def __init__(self, db: Database, network_id: int) -> None:
        self.db = db
        self.network_id = network_id

    async def create(
        self,
        team_id: int,
        seats: int,
        called_by: int | None,
        candidates: list[tuple[int | None, str | None]],
        stand_until: datetime,
        deadline: datetime | None,
        now: datetime,
    ) -> int:
        async with self.db.transaction() as tx:
            election_id = await tx.execute(
                "INSERT INTO elections (network_id, team_id, seats, called_by, stand_until,"
                " deadline, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    self.network_id,
                    team_id,
                    seats,
                    called_by,
                    to_db(stand_until),
                    to_db(deadline) if deadline else None,
                    to_db(now),
                ),
            )
            await tx.executemany(
                "INSERT INTO election_candidates (election_id, position, person_id, username,"
                " token) VALUES (?, ?, ?, ?, ?)",
                [
                    (election_id, n, person, name, secrets.token_urlsafe(12))
                    for n, (person, name) in enumerate(candidates)
                ],
            )
            await events.append(
                tx,
                self.network_id,
                "election.called",
                now,
                team_id=team_id,
                actor_id=called_by,
                data={"election": election_id, "seats": seats},
            )
        return election_id

    async def get(self, election_id: int) -> Election | None:
        row = await self.db.fetchone(
            "SELECT * FROM elections WHERE id = ? AND network_id = ?",
            (election_id, self.network_id),
        )
        return _election(row) if row else None

    async def by_poll(self, poll_id: str) -> Election | None:
        """The election whose poll this is: its own, or the same poll sent twice."""
        row = await self.db.fetchone(
            "SELECT * FROM elections WHERE network_id = ? AND (poll_id = ? OR id IN"
            " (SELECT election_id FROM election_polls WHERE poll_id = ?))",
            (self.network_id, poll_id, poll_id),
        )
        return _election(row) if row else None

    async def unfinished(self) -> list[Election]:
        rows = await self.db.fetchall(
            "SELECT * FROM elections WHERE network_id = ? AND status != 'closed' ORDER BY id",
            (self.network_id,),
        )
        return [_election(row) for row in rows]

    async def candidates(self, election_id: int) -> list[Candidate]:
        rows = await self.db.fetchall(
            "SELECT * FROM election_candidates WHERE election_id = ? ORDER BY position",
            (election_id,),
        )
        return [_candidate(row) for row in rows]

    async def candidate_by_token(self, token: str) -> tuple[int, Candidate] | None:
        row = await self.db.fetchone(
            "SELECT c.* FROM election_candidates c JOIN elections e ON e.id = c.election_id"
            " WHERE c.token = ? AND e.network_id = ?",
            (token, self.network_id),
        )
        return (row["election_id"], _candidate(row)) if row else None

    async def answer_candidate(
        self, election_id: int, position: int, person_id: int, stands: bool, now: datetime
    ) -> bool:
        """The candidate's answer to the question whether they stand (asked once)."""
        return await self._set_candidate(
            election_id, position, person_id, stands, now, from_statuses=("asked",)
        )

    async def withdraw_candidate(
        self, election_id: int, position: int, person_id: int, now: datetime
    ) -> bool:
        """A candidate leaves the network before the poll opened: not on the ballot."""
        return await self._set_candidate(
            election_id, position, person_id, False, now, from_statuses=("asked", "standing")
        )

    async def _set_candidate(
        self,
        election_id: int,
        position: int,
        person_id: int,
        stands: bool,
        now: datetime,
        *,
        from_statuses: tuple[str, ...],
    ) -> bool:
        marks = ", ".join("?" for _ in from_statuses)
        async with self.db.transaction() as tx:
            changed = await tx.rowcount(
                "UPDATE election_candidates SET status = ?, person_id = ?"
                f" WHERE election_id = ? AND position = ? AND status IN ({marks})"
                " AND (person_id IS NULL OR person_id = ?)",
                (
                    "standing" if stands else "declined",
                    person_id,
                    election_id,
                    position,
                    *from_statuses,
                    person_id,
                ),
            )
            if changed:
                await events.append(
                    tx,
                    self.network_id,
                    "election.candidate",
                    now,
                    actor_id=person_id,
                    data={"election": election_id, "stands": stands},
                )
        return bool(changed)

    async def claim_start(
        self,
        election_id: int,
        vote_deadline: datetime,
        option_positions: list[int],
        remind_at: datetime | None = None,
    ) -> bool:
        """Open the voting (once: all answered and the window ending may race), with its
        deadline and the poll's option order, before the poll is sent — so that a poll that
        never went out is sent again, and the election still closes at its deadline."""
        async with self.db.transaction() as tx:
            changed = await tx.rowcount(
                "UPDATE elections SET status = 'voting', vote_deadline = ?, remind_at = ?"
                " WHERE id = ? AND status = 'asking'",
                (to_db(vote_deadline), to_db(remind_at) if remind_at else None, election_id),
            )
            if changed:
                await tx.executemany(
                    "UPDATE election_candidates SET option_index = ?"
                    " WHERE election_id = ? AND position = ?",
                    [
                        (index, election_id, position)
                        for index, position in enumerate(option_positions)
                    ],
                )
        return bool(changed)

    async def set_poll(
        self,
        election_id: int,
        poll_id: str,
        chat_id: int,
        message_id: int,
        team_id: int,
        now: datetime,
    ) -> tuple[int, int] | None:
        """The poll is out: its electorate is the chat's roster now. If the election has
        another poll already, this one is the same poll sent twice (a kill, or a timeout,
        after Telegram posted the first and before the bot marked it sent): it is kept so
        that answers to it count (each voter's last ballot, on either poll), and the first
        poll's chat and message are returned — the second is to be stopped."""
        async with self.db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT poll_id, poll_chat_id, poll_message_id FROM elections WHERE id = ?",
                (election_id,),
            )
            if row is None or row["poll_id"] == poll_id:
                return None
            if row["poll_id"] is not None:
                await tx.execute(
                    "INSERT OR IGNORE INTO election_polls (poll_id, election_id, chat_id,"
                    " message_id) VALUES (?, ?, ?, ?)",
                    (poll_id, election_id, chat_id, message_id),
                )
                return int(row["poll_chat_id"]), int(row["poll_message_id"])
            await tx.execute(
                "UPDATE elections SET poll_id = ?, poll_chat_id = ?, poll_message_id = ?"
                " WHERE id = ?",
                (poll_id, chat_id, message_id, election_id),
            )
            await tx.execute(
                "INSERT OR IGNORE INTO election_electorate (election_id, person_id)"
                " SELECT ?, person_id FROM roster_entries WHERE team_id = ? AND left_at IS NULL",
                (election_id, team_id),
            )
            await events.append(
                tx,
                self.network_id,
                "election.poll",
                now,
                team_id=team_id,
                data={"election": election_id},
            )
        return None

    async def electorate(self, election_id: int) -> frozenset[int]:
        rows = await self.db.fetchall(
            "SELECT person_id FROM election_electorate WHERE election_id = ?", (election_id,)
        )
        return frozenset(row[0] for row in rows)

    async def join_electorate(self, election_id: int, person_id: int) -> None:
        await self.db.execute(
            "INSERT OR IGNORE INTO election_electorate (election_id, person_id) VALUES (?, ?)",
            (election_id, person_id),
        )

    async def record_ballot(
        self,
        election_id: int,
        person_id: int,
        options: list[int],
        update_id: int,
        now: datetime,
    ) -> bool:
        """The last ballot of a voter counts (an older one never overwrites a newer one)."""
        return bool(
            await self.db.change(
                "INSERT INTO election_ballots (election_id, person_id, options, update_id, at)"
                " SELECT ?, ?, ?, ?, ?"
                " WHERE EXISTS (SELECT 1 FROM elections WHERE id = ? AND status = 'voting'"
                "  AND counting_at IS NULL)"
                " ON CONFLICT (election_id, person_id) DO UPDATE SET options = excluded.options,"
                "  update_id = excluded.update_id, at = excluded.at"
                " WHERE excluded.update_id > election_ballots.update_id",
                (
                    election_id,
                    person_id,
                    json.dumps(sorted(options)),
                    update_id,
                    to_db(now),
                    election_id,
                ),
            )
        )

    async def claim_count(self, election_id: int, now: datetime) -> None:
        """Stop taking ballots before they are counted (a second claim changes nothing)."""
        await self.db.change(
            "UPDATE elections SET counting_at = ? WHERE id = ? AND counting_at IS NULL",
            (to_db(now), election_id),
        )

    async def ballots(self, election_id: int) -> dict[int, list[int]]:
        rows = await self.db.fetchall(
            "SELECT person_id, options FROM election_ballots WHERE election_id = ?",
            (election_id,),
        )
        return {row[0]: json.loads(row[1]) for row in rows}

    async def close(self, election_id: int, result: Mapping[str, object], now: datetime) -> bool:
        async with self.db.transaction() as tx:
            changed = await tx.rowcount(
                "UPDATE elections SET status = 'closed', closed_at = ?, result = ?"
                " WHERE id = ? AND status != 'closed'",
                (to_db(now), json.dumps(result, sort_keys=True), election_id),
            )
            if changed:
                await events.append(
                    tx,
                    self.network_id,
                    "election.closed",
                    now,
                    data={"election": election_id},
                )
        return bool(changed)


def _election(row: Row) -> Election:
    return Election(
        id=row["id"],
        number=row["number"],
        team_id=row["team_id"],
        seats=row["seats"],
        status=row["status"],
        stand_until=from_db_required(row["stand_until"]),
        deadline=from_db(row["deadline"]),
        vote_deadline=from_db(row["vote_deadline"]),
        poll_id=row["poll_id"],
        poll_chat_id=row["poll_chat_id"],
        poll_message_id=row["poll_message_id"],
        created_at=from_db_required(row["created_at"]),
        remind_at=from_db(row["remind_at"]),
    )


def _candidate(row: Row) -> Candidate:
    return Candidate(
        position=row["position"],
        person_id=row["person_id"],
        username=row["username"],
        token=row["token"],
        status=row["status"],
        option_index=row["option_index"],
    )
