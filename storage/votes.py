"""Majority votes: their records, electorates and ballots, and the native polls that carry
them (a vote's poll is replaced when its chat migrates; the answers to every poll count)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import Database, Row, Transaction, from_db, from_db_required, to_db


@dataclass(frozen=True, slots=True)
class VoteRecord:
    id: int
    proposal_id: int
    opened_at: datetime
    deadline: datetime
    closed_at: datetime | None
    outcome: str | None
    yes: int | None
    no: int | None
    abstain: int | None
    ignored: int | None
    # An early close due (everyone voted), and the update that completed the electorate.
    early_close_at: datetime | None = None
    early_close_after: int | None = None
    # Where the card of a vote without a round (process `majority`) was posted.
    card_chat_id: int | None = None
    card_message_id: int | None = None


@dataclass(frozen=True, slots=True)
class PollRecord:
    poll_id: str
    vote_id: int
    chat_id: int
    message_id: int
    active: bool


@dataclass(frozen=True, slots=True)
class NewVote:
    """A vote to open; its electorate is the roster at that moment, like a round's."""

    deadline: datetime
    remind_at: datetime | None = None  # when its reminder is due (None: no reminder)


@dataclass(frozen=True, slots=True)
class VoteResult:
    """What closing a vote stores with it (Transition.close_vote)."""

    outcome: str
    yes: int
    no: int
    abstain: int
    ignored: int


class Votes:
    def __init__(self, db: Database, network_id: int) -> None:
        self.db = db
        self.network_id = network_id

    # -- reading ---------------------------------------------------------------------------

    async def vote_of(self, proposal_id: int) -> VoteRecord | None:
        row = await self.db.fetchone("SELECT * FROM votes WHERE proposal_id = ?", (proposal_id,))
        return _vote(row) if row else None

    async def vote(self, vote_id: int) -> VoteRecord | None:
        row = await self.db.fetchone("SELECT * FROM votes WHERE id = ?", (vote_id,))
        return _vote(row) if row else None

    async def vote_electorate(self, vote_id: int) -> frozenset[int]:
        rows = await self.db.fetchall(
            "SELECT person_id FROM vote_electorate WHERE vote_id = ? AND left_at IS NULL",
            (vote_id,),
        )
        return frozenset(row[0] for row in rows)

    async def ballots(self, vote_id: int) -> dict[int, str]:
        rows = await self.db.fetchall(
            "SELECT person_id, choice FROM ballots WHERE vote_id = ? AND choice IS NOT NULL",
            (vote_id,),
        )
        return {row[0]: row[1] for row in rows}

    async def polls(self, vote_id: int) -> list[PollRecord]:
        rows = await self.db.fetchall(
            "SELECT * FROM vote_polls WHERE vote_id = ? ORDER BY rowid", (vote_id,)
        )
        return [_poll(row) for row in rows]

    async def poll(self, poll_id: str) -> PollRecord | None:
        row = await self.db.fetchone("SELECT * FROM vote_polls WHERE poll_id = ?", (poll_id,))
        return _poll(row) if row else None

    # -- ballots -----------------------------------------------------------------------------

    async def join_vote(self, vote_id: int, person_id: int, now: datetime) -> None:
        await self.db.execute(
            "INSERT INTO vote_electorate (vote_id, person_id, joined_at) VALUES (?, ?, ?)"
            " ON CONFLICT (vote_id, person_id) DO UPDATE SET left_at = NULL",
            (vote_id, person_id, to_db(now)),
        )

    async def record_ballot(
        self,
        vote_id: int,
        person_id: int,
        choice: str | None,
        update_id: int,
        now: datetime,
    ) -> bool:
        """Store a poll answer (None: retracted) unless a newer one is already stored, while
        the vote is open. One statement; a trigger writes it into the record."""
        changed = await self.db.change(
            "INSERT INTO ballots (vote_id, person_id, choice, update_id, at)"
            " SELECT ?, ?, ?, ?, ?"
            " WHERE EXISTS (SELECT 1 FROM votes WHERE id = ? AND closed_at IS NULL)"
            " ON CONFLICT (vote_id, person_id) DO UPDATE SET choice = excluded.choice,"
            "  update_id = excluded.update_id, at = excluded.at"
            " WHERE excluded.update_id > ballots.update_id",
            (vote_id, person_id, choice, update_id, to_db(now), vote_id),
        )
        return bool(changed)

    # -- messages on Telegram ------------------------------------------------------------

    async def add_poll(
        self, vote_id: int, poll_id: str, chat_id: int, message_id: int
    ) -> PollRecord | None:
        """A poll of the vote is out; its answers count, each person's last answer across all
        of the vote's polls. In a new chat (a migration) it replaces the one before. In the
        chat of the active poll it is the same poll sent twice (a kill, or a timeout, after
        Telegram posted the first and before the bot marked it sent): it is kept so that
        answers to it count, not active (it is to be stopped), and the first is returned."""
        async with self.db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT * FROM vote_polls WHERE vote_id = ? AND chat_id = ? AND active = 1"
                " AND poll_id != ? ORDER BY rowid LIMIT 1",
                (vote_id, chat_id, poll_id),
            )
            if row is None:
                await tx.execute(
                    "UPDATE vote_polls SET active = 0 WHERE vote_id = ? AND poll_id != ?",
                    (vote_id, poll_id),
                )
            await tx.execute(
                "INSERT OR IGNORE INTO vote_polls (poll_id, vote_id, chat_id, message_id, active)"
                " VALUES (?, ?, ?, ?, ?)",
                (poll_id, vote_id, chat_id, message_id, int(row is None)),
            )
        return _poll(row) if row is not None else None

    async def set_card(self, vote_id: int, chat_id: int, message_id: int) -> None:
        """Where the card of a vote without a round went (edited when the vote closes)."""
        await self.db.change(
            "UPDATE votes SET card_chat_id = ?, card_message_id = ? WHERE id = ?",
            (chat_id, message_id, vote_id),
        )

    # -- closing, and what followed a close (finished after a restart if a crash interrupted it)

    async def claim_vote(self, vote_id: int, now: datetime) -> bool:
        return bool(
            await self.db.change(
                "UPDATE votes SET closed_at = ? WHERE id = ? AND closed_at IS NULL",
                (to_db(now), vote_id),
            )
        )

    async def schedule_early_close(self, vote_id: int, at: datetime, after: int | None) -> bool:
        """Everyone has voted: the vote closes early at `at` (a grace after the update
        `after` that completed it), unless its deadline comes first. A later completing update
        moves the moment on. False if the vote is closed already."""
        return bool(
            await self.db.change(
                "UPDATE votes SET early_close_at = ?,"
                " early_close_after = MAX(COALESCE(early_close_after, 0), COALESCE(?, 0))"
                " WHERE id = ? AND closed_at IS NULL",
                (to_db(at), after, vote_id),
            )
        )

    async def cancel_early_close(self, vote_id: int) -> None:
        """Not everyone has voted any more (a retraction): no early close."""
        await self.db.change(
            "UPDATE votes SET early_close_at = NULL, early_close_after = NULL"
            " WHERE id = ? AND closed_at IS NULL",
            (vote_id,),
        )

    async def mark_announced(self, vote_id: int, now: datetime) -> None:
        await self.db.change(
            "UPDATE votes SET announced_at = ? WHERE id = ? AND announced_at IS NULL",
            (to_db(now), vote_id),
        )


async def open_vote(
    tx: Transaction, proposal_id: int, team_id: int, new: NewVote, now: datetime
) -> int:
    vote_id = await tx.execute(
        "INSERT INTO votes (proposal_id, opened_at, deadline, remind_at) VALUES (?, ?, ?, ?)",
        (
            proposal_id,
            to_db(now),
            to_db(new.deadline),
            to_db(new.remind_at) if new.remind_at else None,
        ),
    )
    await tx.execute(
        "INSERT INTO vote_electorate (vote_id, person_id, joined_at)"
        " SELECT ?, person_id, ? FROM roster_entries WHERE team_id = ? AND left_at IS NULL",
        (vote_id, to_db(now), team_id),
    )
    return vote_id


async def leave_open_votes(tx: Transaction, team_id: int, person_id: int, now: datetime) -> None:
    """Who leaves the team no longer counts in its open votes (SPEC §3.3)."""
    await tx.execute(
        "UPDATE vote_electorate SET left_at = ? WHERE person_id = ? AND left_at IS NULL"
        " AND vote_id IN (SELECT v.id FROM votes v JOIN proposals p ON p.id = v.proposal_id"
        "  WHERE p.team_id = ? AND v.closed_at IS NULL)",
        (to_db(now), person_id, team_id),
    )


def _vote(row: Row) -> VoteRecord:
    return VoteRecord(
        id=row["id"],
        proposal_id=row["proposal_id"],
        opened_at=from_db_required(row["opened_at"]),
        deadline=from_db_required(row["deadline"]),
        closed_at=from_db(row["closed_at"]),
        outcome=row["outcome"],
        yes=row["yes"],
        no=row["no"],
        abstain=row["abstain"],
        ignored=row["ignored"],
        early_close_at=from_db(row["early_close_at"]),
        early_close_after=row["early_close_after"],
        card_chat_id=row["card_chat_id"],
        card_message_id=row["card_message_id"],
    )


def _poll(row: Row) -> PollRecord:
    return PollRecord(
        poll_id=row["poll_id"],
        vote_id=row["vote_id"],
        chat_id=row["chat_id"],
        message_id=row["message_id"],
        active=bool(row["active"]),
    )
