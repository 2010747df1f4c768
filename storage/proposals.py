"""Proposals: their records, creating one, and the one guarded write, `transition`, that moves
a proposal along (closing its round or vote, opening the next), so that nothing is ever closed
twice. Rounds and votes have their own modules (storage/rounds.py, storage/votes.py)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from storage import events
from storage.db import (
    Database,
    JsonObject,
    Row,
    SqlValue,
    Transaction,
    from_db,
    from_db_required,
    to_db,
)
from storage.rounds import NewRound, open_round
from storage.votes import NewVote, VoteResult, open_vote


@dataclass(frozen=True, slots=True)
class ProposalRecord:
    id: int  # the row's, across the deployment: buttons, links and the record name it
    number: int  # the network's #N (migration 029): what people see and type
    team_id: int
    kind: str
    proposer_id: int | None
    subject_id: int | None
    title: str
    text: str
    policy: JsonObject
    status: str
    round_length_s: int
    round_number: int
    failed_rounds: int
    any_objection_ever: bool
    revision_until: datetime | None
    outcome: str | None
    created_at: datetime
    closed_at: datetime | None
    full_text_chat_id: int | None
    full_text_message_id: int | None
    payload: JsonObject


@dataclass(frozen=True, slots=True)
class StateChange:
    """The proposal's columns after a step (see bot.charter.course.advance)."""

    status: str
    round_number: int
    failed_rounds: int
    any_objection_ever: bool
    revision_until: datetime | None = None
    outcome: str | None = None
    text: str | None = None  # a revision replaces the text
    # the next deadline in this status (ProposalState.next_deadline): when it falls due
    due_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Transition:
    """Everything one step changes, written in one transaction or not at all."""

    change: StateChange
    event: str
    close_round: tuple[int, str | None] | None = None  # (round id, outcome or None: superseded)
    close_vote: tuple[int, VoteResult] | None = None
    new_round: NewRound | None = None
    new_vote: NewVote | None = None
    data: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Applied:
    round_id: int | None = None
    vote_id: int | None = None


class Proposals:
    def __init__(self, db: Database, network_id: int, decided_outcomes: frozenset[str]) -> None:
        self.db = db
        self.network_id = network_id
        # The outcomes that are a Beschluss (bot.charter.outcomes.DECIDED_OUTCOMES).
        self.decided_outcomes = decided_outcomes

    # -- creating and moving along --------------------------------------------------------

    async def create(
        self,
        *,
        team_id: int,
        kind: str,
        proposer_id: int | None,
        subject_id: int | None,
        title: str,
        text: str,
        policy: Mapping[str, object],
        round_length_s: int,
        first: Transition,
        now: datetime,
        payload: Mapping[str, object] | None = None,
    ) -> tuple[int, Applied]:
        async with self.db.transaction() as tx:
            proposal_id = await tx.execute(
                "INSERT INTO proposals (network_id, team_id, kind, proposer_id, subject_id,"
                " title, text, policy, status, round_length_s, created_at, payload)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'new', ?, ?, ?)",
                (
                    self.network_id,
                    team_id,
                    kind,
                    proposer_id,
                    subject_id,
                    title,
                    text,
                    json.dumps(policy, sort_keys=True),
                    round_length_s,
                    to_db(now),
                    json.dumps(payload or {}, sort_keys=True),
                ),
            )
            applied = await self._apply(tx, proposal_id, "new", None, first, proposer_id, now)
        assert applied is not None  # nothing else can have moved a proposal inserted just now
        return proposal_id, applied

    async def transition(
        self,
        proposal_id: int,
        expected_status: str,
        expected_round: int | None,
        step: Transition,
        actor_id: int | None,
        now: datetime,
    ) -> Applied | None:
        """Apply a step if the proposal is still where the caller saw it; None if another
        step came first (a deadline and an early close racing: only one wins)."""
        async with self.db.transaction() as tx:
            return await self._apply(
                tx, proposal_id, expected_status, expected_round, step, actor_id, now
            )

    async def _apply(
        self,
        tx: Transaction,
        proposal_id: int,
        expected_status: str,
        expected_round: int | None,
        step: Transition,
        actor_id: int | None,
        now: datetime,
    ) -> Applied | None:
        change = step.change
        guard = "id = ? AND status = ?"
        params: list[SqlValue] = [proposal_id, expected_status]
        if expected_round is not None:
            guard += " AND round_number = ?"
            params.append(expected_round)
        updated = await tx.rowcount(
            "UPDATE proposals SET status = ?, round_number = ?, failed_rounds = ?,"
            " any_objection_ever = ?, revision_until = ?, outcome = ?,"
            " text = COALESCE(?, text), closed_at = ?, due_at = ? WHERE " + guard,
            (
                change.status,
                change.round_number,
                change.failed_rounds,
                int(change.any_objection_ever),
                to_db(change.revision_until) if change.revision_until else None,
                change.outcome,
                change.text,
                to_db(now) if change.status == "closed" else None,
                to_db(change.due_at) if change.due_at else None,
                *params,
            ),
        )
        if not updated:
            return None
        # A round or vote being closed was claimed first (claim_round/claim_vote), so that no
        # press or ballot slips in while the result is worked out; here its result is stored.
        if step.close_round is not None:
            round_id, outcome = step.close_round
            await tx.execute(
                "UPDATE rounds SET closed_at = COALESCE(closed_at, ?), outcome = ?"
                " WHERE id = ? AND outcome IS NULL",
                (to_db(now), outcome, round_id),
            )
        if step.close_vote is not None:
            vote_id, result = step.close_vote
            await tx.execute(
                "UPDATE votes SET closed_at = COALESCE(closed_at, ?), outcome = ?, yes = ?,"
                " no = ?, abstain = ?, ignored = ? WHERE id = ? AND outcome IS NULL",
                (
                    to_db(now),
                    result.outcome,
                    result.yes,
                    result.no,
                    result.abstain,
                    result.ignored,
                    vote_id,
                ),
            )
        team_id = await _team_of(tx, proposal_id)
        applied = Applied()
        if step.new_round is not None:
            applied = Applied(
                round_id=await open_round(tx, proposal_id, team_id, step.new_round, now)
            )
        if step.new_vote is not None:
            applied = Applied(vote_id=await open_vote(tx, proposal_id, team_id, step.new_vote, now))
        if change.outcome in self.decided_outcomes:
            # The team's first Beschluss ends its set-up phase (direct /admit).
            await tx.execute(
                "UPDATE teams SET first_decision_at = ? WHERE id = ? AND first_decision_at IS NULL",
                (to_db(now), team_id),
            )
        await events.append(
            tx,
            self.network_id,
            step.event,
            now,
            team_id=team_id,
            actor_id=actor_id,
            data={
                "proposal": proposal_id,
                "status": change.status,
                "round": change.round_number,
                "outcome": change.outcome,
                **step.data,
            },
        )
        return applied

    # -- reading ---------------------------------------------------------------------------

    async def get(self, proposal_id: int) -> ProposalRecord | None:
        row = await self.db.fetchone(
            "SELECT * FROM proposals WHERE id = ? AND network_id = ?",
            (proposal_id, self.network_id),
        )
        return _proposal(row) if row else None

    async def number_of(self, proposal_id: int | None) -> int | str:
        """The network's #N of a proposal named by its id ("?" if there is none)."""
        row = await self.db.fetchone(
            "SELECT number FROM proposals WHERE id = ? AND network_id = ?",
            (proposal_id or 0, self.network_id),
        )
        return int(row[0]) if row else "?"

    async def numbered(self, number: int) -> ProposalRecord | None:
        """The network's proposal #number (what people type: /revise 3)."""
        row = await self.db.fetchone(
            "SELECT * FROM proposals WHERE network_id = ? AND number = ?",
            (self.network_id, number),
        )
        return _proposal(row) if row else None

    async def open_proposals(self, team_id: int | None = None) -> list[ProposalRecord]:
        sql = "SELECT * FROM proposals WHERE network_id = ? AND status != 'closed'"
        params: list[SqlValue] = [self.network_id]
        if team_id is not None:
            sql += " AND team_id = ?"
            params.append(team_id)
        rows = await self.db.fetchall(sql + " ORDER BY id", params)
        return [_proposal(row) for row in rows]

    async def set_due(self, proposal_id: int, due_at: datetime | None) -> None:
        """The proposal's next moment, when it changed outside a transition (an early close
        scheduled or dropped); a closed proposal keeps none."""
        await self.db.change(
            "UPDATE proposals SET due_at = ? WHERE id = ? AND network_id = ? AND closed_at IS NULL",
            (to_db(due_at) if due_at else None, proposal_id, self.network_id),
        )

    async def due(self, now: datetime) -> list[int]:
        """The open proposals whose next deadline has come (an indexed query: what is due,
        however much is open)."""
        rows = await self.db.fetchall(
            "SELECT id FROM proposals WHERE network_id = ? AND due_at IS NOT NULL"
            " AND due_at <= ? ORDER BY due_at, id",
            (self.network_id, to_db(now)),
        )
        return [int(row[0]) for row in rows]

    async def next_due(self, after: datetime) -> datetime | None:
        """The first proposal deadline after `after` (the one timer's next moment)."""
        row = await self.db.fetchone(
            "SELECT MIN(due_at) FROM proposals WHERE network_id = ? AND due_at IS NOT NULL"
            " AND due_at > ?",
            (self.network_id, to_db(after)),
        )
        return from_db(row[0]) if row else None

    async def decisions(self, team_id: int, limit: int = 20) -> list[ProposalRecord]:
        rows = await self.db.fetchall(
            "SELECT * FROM proposals WHERE team_id = ? AND status = 'closed'"
            " ORDER BY closed_at DESC, id DESC LIMIT ?",
            (team_id, limit),
        )
        return [_proposal(row) for row in rows]

    # -- messages on Telegram ------------------------------------------------------------

    async def set_full_text(self, proposal_id: int, chat_id: int, message_id: int) -> None:
        await self.db.execute(
            "UPDATE proposals SET full_text_chat_id = ?, full_text_message_id = ? WHERE id = ?",
            (chat_id, message_id, proposal_id),
        )

    # -- what followed a close (in the same unit of work as the close) ----------------------

    async def mark_effects_done(self, proposal_id: int, now: datetime) -> None:
        await self.db.change(
            "UPDATE proposals SET effects_done_at = ? WHERE id = ? AND effects_done_at IS NULL",
            (to_db(now), proposal_id),
        )


async def _team_of(tx: Transaction, proposal_id: int) -> int:
    row = await tx.fetchone("SELECT team_id FROM proposals WHERE id = ?", (proposal_id,))
    assert row is not None
    return int(row[0])


def _proposal(row: Row) -> ProposalRecord:
    return ProposalRecord(
        id=row["id"],
        number=row["number"],
        team_id=row["team_id"],
        kind=row["kind"],
        proposer_id=row["proposer_id"],
        subject_id=row["subject_id"],
        title=row["title"],
        text=row["text"],
        policy=json.loads(row["policy"]),
        status=row["status"],
        round_length_s=row["round_length_s"],
        round_number=row["round_number"],
        failed_rounds=row["failed_rounds"],
        any_objection_ever=bool(row["any_objection_ever"]),
        revision_until=from_db(row["revision_until"]),
        outcome=row["outcome"],
        created_at=from_db_required(row["created_at"]),
        closed_at=from_db(row["closed_at"]),
        full_text_chat_id=row["full_text_chat_id"],
        full_text_message_id=row["full_text_message_id"],
        payload=json.loads(row["payload"]),
    )
