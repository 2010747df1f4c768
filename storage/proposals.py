"""Proposals, their rounds (electorate, responses, carried objections) and majority votes
(polls, electorate, ballots). One guarded write, `transition`, moves a proposal along, so that
nothing is ever closed twice."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from storage import events
from storage.db import Database, Transaction, from_db, to_db


@dataclass(frozen=True, slots=True)
class ProposalRecord:
    id: int
    team_id: int
    kind: str
    proposer_id: int | None
    subject_id: int | None
    title: str
    text: str
    policy: dict[str, Any]
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
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RoundRecord:
    id: int
    proposal_id: int
    number: int
    text: str
    opened_at: datetime
    deadline: datetime
    closed_at: datetime | None
    outcome: str | None
    card_chat_id: int | None
    card_message_id: int | None
    reminder_sent_at: datetime | None


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


@dataclass(frozen=True, slots=True)
class PollRecord:
    poll_id: str
    vote_id: int
    chat_id: int
    message_id: int
    active: bool


@dataclass(frozen=True, slots=True)
class PressContext:
    round_id: int
    proposal_id: int
    closed: bool
    card_chat_id: int | None
    card_message_id: int | None
    team_id: int
    chat_id: int
    team_name: str
    roster_mode: str


# What record_press returns about the round of the response it stored: RETURNING names only
# the table written to, so subqueries read the rest.
_PRESS_RETURNING = ", ".join(
    [
        f"(SELECT {column} FROM rounds WHERE id = responses.round_id) AS {column}"
        for column in ("proposal_id", "card_chat_id", "card_message_id")
    ]
    + [
        f"(SELECT t.{column} FROM rounds r JOIN proposals p ON p.id = r.proposal_id"
        f" JOIN teams t ON t.id = p.team_id WHERE r.id = responses.round_id) AS {alias}"
        for column, alias in (("id", "team_id"), ("name", "name"), ("roster_mode", "roster_mode"))
    ]
)


@dataclass(frozen=True, slots=True)
class CarriedObjection:
    person_id: int
    reason: str | None
    first_round: int


@dataclass(frozen=True, slots=True)
class StoredResponse:
    choice: str
    reason: str | None
    update_id: int


@dataclass(frozen=True, slots=True)
class StateChange:
    """The proposal's columns after a step (see bot.rules.advance)."""

    status: str
    round_number: int
    failed_rounds: int
    any_objection_ever: bool
    revision_until: datetime | None = None
    outcome: str | None = None
    text: str | None = None  # a revision replaces the text


@dataclass(frozen=True, slots=True)
class NewRound:
    """A round to open; its electorate is the team's roster at that moment (SPEC §3.3),
    taken inside the same transaction."""

    number: int
    text: str
    deadline: datetime
    carried: tuple[CarriedObjection, ...] = ()


@dataclass(frozen=True, slots=True)
class NewVote:
    """A vote to open; its electorate is the roster at that moment, like a round's."""

    deadline: datetime


@dataclass(frozen=True, slots=True)
class VoteResult:
    outcome: str
    yes: int
    no: int
    abstain: int
    ignored: int


@dataclass(frozen=True, slots=True)
class Transition:
    """Everything one step changes, written in one transaction or not at all."""

    change: StateChange
    event: str
    close_round: tuple[int, str | None] | None = None  # (round id, outcome or None: superseded)
    close_vote: tuple[int, VoteResult] | None = None
    new_round: NewRound | None = None
    new_vote: NewVote | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Applied:
    round_id: int | None = None
    vote_id: int | None = None


DECIDED = ("consensus", "accepted", "rejected")


class Proposals:
    def __init__(self, db: Database, network_id: int) -> None:
        self.db = db
        self.network_id = network_id

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
        policy: dict[str, Any],
        round_length_s: int,
        first: Transition,
        now: datetime,
        payload: dict[str, Any] | None = None,
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
        params: list[Any] = [proposal_id, expected_status]
        if expected_round is not None:
            guard += " AND round_number = ?"
            params.append(expected_round)
        updated = await tx.rowcount(
            "UPDATE proposals SET status = ?, round_number = ?, failed_rounds = ?,"
            " any_objection_ever = ?, revision_until = ?, outcome = ?,"
            " text = COALESCE(?, text), closed_at = ? WHERE " + guard,
            (
                change.status,
                change.round_number,
                change.failed_rounds,
                int(change.any_objection_ever),
                to_db(change.revision_until) if change.revision_until else None,
                change.outcome,
                change.text,
                to_db(now) if change.status == "closed" else None,
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
                round_id=await self._open_round(tx, proposal_id, team_id, step.new_round, now)
            )
        if step.new_vote is not None:
            applied = Applied(
                vote_id=await self._open_vote(tx, proposal_id, team_id, step.new_vote, now)
            )
        if change.outcome in DECIDED:
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

    async def _open_round(
        self, tx: Transaction, proposal_id: int, team_id: int, new: NewRound, now: datetime
    ) -> int:
        round_id = await tx.execute(
            "INSERT INTO rounds (proposal_id, number, text, opened_at, deadline)"
            " VALUES (?, ?, ?, ?, ?)",
            (proposal_id, new.number, new.text, to_db(now), to_db(new.deadline)),
        )
        await tx.execute(
            "INSERT INTO round_electorate (round_id, person_id, joined_at)"
            " SELECT ?, person_id, ? FROM roster_entries WHERE team_id = ? AND left_at IS NULL",
            (round_id, to_db(now), team_id),
        )
        await tx.executemany(
            "INSERT INTO carried_objections (round_id, person_id, reason, first_round)"
            " VALUES (?, ?, ?, ?)",
            [(round_id, o.person_id, o.reason, o.first_round) for o in new.carried],
        )
        return round_id

    async def _open_vote(
        self, tx: Transaction, proposal_id: int, team_id: int, new: NewVote, now: datetime
    ) -> int:
        vote_id = await tx.execute(
            "INSERT INTO votes (proposal_id, opened_at, deadline) VALUES (?, ?, ?)",
            (proposal_id, to_db(now), to_db(new.deadline)),
        )
        await tx.execute(
            "INSERT INTO vote_electorate (vote_id, person_id, joined_at)"
            " SELECT ?, person_id, ? FROM roster_entries WHERE team_id = ? AND left_at IS NULL",
            (vote_id, to_db(now), team_id),
        )
        return vote_id

    async def claim_round(self, round_id: int, now: datetime) -> bool:
        """Stop a round taking responses, before its result is worked out. False if it
        already was (another close got there first, or a restart finishes one)."""
        return bool(
            await self.db.change(
                "UPDATE rounds SET closed_at = ? WHERE id = ? AND closed_at IS NULL",
                (to_db(now), round_id),
            )
        )

    async def claim_vote(self, vote_id: int, now: datetime) -> bool:
        return bool(
            await self.db.change(
                "UPDATE votes SET closed_at = ? WHERE id = ? AND closed_at IS NULL",
                (to_db(now), vote_id),
            )
        )

    # -- reading ---------------------------------------------------------------------------

    async def get(self, proposal_id: int) -> ProposalRecord | None:
        row = await self.db.fetchone(
            "SELECT * FROM proposals WHERE id = ? AND network_id = ?",
            (proposal_id, self.network_id),
        )
        return _proposal(row) if row else None

    async def open_proposals(self, team_id: int | None = None) -> list[ProposalRecord]:
        sql = "SELECT * FROM proposals WHERE network_id = ? AND status != 'closed'"
        params: list[Any] = [self.network_id]
        if team_id is not None:
            sql += " AND team_id = ?"
            params.append(team_id)
        rows = await self.db.fetchall(sql + " ORDER BY id", params)
        return [_proposal(row) for row in rows]

    async def decisions(self, team_id: int, limit: int = 20) -> list[ProposalRecord]:
        rows = await self.db.fetchall(
            "SELECT * FROM proposals WHERE team_id = ? AND status = 'closed'"
            " ORDER BY closed_at DESC, id DESC LIMIT ?",
            (team_id, limit),
        )
        return [_proposal(row) for row in rows]

    async def current_round(self, proposal_id: int) -> RoundRecord | None:
        row = await self.db.fetchone(
            "SELECT * FROM rounds WHERE proposal_id = ? ORDER BY number DESC LIMIT 1",
            (proposal_id,),
        )
        return _round(row) if row else None

    async def round(self, round_id: int) -> RoundRecord | None:
        row = await self.db.fetchone("SELECT * FROM rounds WHERE id = ?", (round_id,))
        return _round(row) if row else None

    async def rounds(self, proposal_id: int) -> list[RoundRecord]:
        rows = await self.db.fetchall(
            "SELECT * FROM rounds WHERE proposal_id = ? ORDER BY number", (proposal_id,)
        )
        return [_round(row) for row in rows]

    async def vote_of(self, proposal_id: int) -> VoteRecord | None:
        row = await self.db.fetchone("SELECT * FROM votes WHERE proposal_id = ?", (proposal_id,))
        return _vote(row) if row else None

    async def vote(self, vote_id: int) -> VoteRecord | None:
        row = await self.db.fetchone("SELECT * FROM votes WHERE id = ?", (vote_id,))
        return _vote(row) if row else None

    async def round_electorate(self, round_id: int) -> frozenset[int]:
        rows = await self.db.fetchall(
            "SELECT person_id FROM round_electorate WHERE round_id = ? AND left_at IS NULL",
            (round_id,),
        )
        return frozenset(row[0] for row in rows)

    async def vote_electorate(self, vote_id: int) -> frozenset[int]:
        rows = await self.db.fetchall(
            "SELECT person_id FROM vote_electorate WHERE vote_id = ? AND left_at IS NULL",
            (vote_id,),
        )
        return frozenset(row[0] for row in rows)

    async def responses(self, round_id: int) -> dict[int, StoredResponse]:
        rows = await self.db.fetchall(
            "SELECT person_id, choice, reason, update_id FROM responses WHERE round_id = ?",
            (round_id,),
        )
        return {row[0]: StoredResponse(row[1], row[2], row[3]) for row in rows}

    async def carried(self, round_id: int) -> list[CarriedObjection]:
        rows = await self.db.fetchall(
            "SELECT person_id, reason, first_round FROM carried_objections WHERE round_id = ?"
            " ORDER BY first_round, person_id",
            (round_id,),
        )
        return [CarriedObjection(row[0], row[1], row[2]) for row in rows]

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

    async def round_by_card(self, chat_id: int, message_id: int) -> RoundRecord | None:
        row = await self.db.fetchone(
            "SELECT * FROM rounds WHERE card_chat_id = ? AND card_message_id = ?",
            (chat_id, message_id),
        )
        return _round(row) if row else None

    # -- the hot path: one press -------------------------------------------------------------

    async def press_context(self, round_id: int) -> PressContext | None:
        """What a press needs to know, in one query."""
        row = await self.db.fetchone(
            "SELECT r.id AS round_id, r.proposal_id, r.closed_at, r.card_chat_id,"
            " r.card_message_id, t.id AS team_id, t.chat_id, t.name, t.roster_mode"
            " FROM rounds r JOIN proposals p ON p.id = r.proposal_id"
            " JOIN teams t ON t.id = p.team_id WHERE r.id = ? AND p.network_id = ?",
            (round_id, self.network_id),
        )
        if row is None:
            return None
        return PressContext(
            round_id=row["round_id"],
            proposal_id=row["proposal_id"],
            closed=row["closed_at"] is not None,
            card_chat_id=row["card_chat_id"],
            card_message_id=row["card_message_id"],
            team_id=row["team_id"],
            chat_id=row["chat_id"],
            team_name=row["name"],
            roster_mode=row["roster_mode"],
        )

    async def in_round(self, round_id: int, person_id: int) -> bool:
        row = await self.db.fetchone(
            "SELECT 1 FROM round_electorate WHERE round_id = ? AND person_id = ?"
            " AND left_at IS NULL",
            (round_id, person_id),
        )
        return row is not None

    async def everyone_responded(self, round_id: int) -> bool:
        """Whether every member of the round's electorate has responded, and it has members
        (rules.everyone_responded): one query, asked after every press. While fewer responses
        are stored than members counted — nearly always — it looks up no member one by one."""
        row = await self.db.fetchone(
            "SELECT CASE"
            " WHEN (SELECT COUNT(*) FROM responses WHERE round_id = ?1)"
            "  < (SELECT COUNT(*) FROM round_electorate WHERE round_id = ?1 AND left_at IS NULL)"
            " THEN 0"
            " ELSE EXISTS (SELECT 1 FROM round_electorate WHERE round_id = ?1 AND left_at IS NULL)"
            "  AND NOT EXISTS (SELECT 1 FROM round_electorate e"
            "   WHERE e.round_id = ?1 AND e.left_at IS NULL AND NOT EXISTS (SELECT 1 FROM"
            "    responses r WHERE r.round_id = ?1 AND r.person_id = e.person_id))"
            " END",
            (round_id,),
        )
        return bool(row and row[0])

    # -- responses and ballots -----------------------------------------------------------

    async def record_press(
        self,
        round_id: int,
        chat_id: int,
        person_id: int,
        choice: str,
        update_id: int,
        now: datetime,
    ) -> PressContext | None:
        """The usual press in one statement: stored if the round is open and this chat's,
        the person is in its electorate, and no newer press of theirs is stored (SPEC §9).
        Returns what the press needs to know once stored; None if nothing was stored, for
        whatever reason (press_context, in_round and record_response then tell which).

        Atomic by itself and committed when it returns; a trigger writes it into the record."""
        row = await self.db.fetchone(
            "INSERT INTO responses (round_id, person_id, choice, reason, update_id, at)"
            " SELECT r.id, e.person_id, ?, NULL, ?, ?"
            " FROM rounds r JOIN proposals p ON p.id = r.proposal_id"
            " JOIN teams t ON t.id = p.team_id"
            " JOIN round_electorate e ON e.round_id = r.id"
            " WHERE r.id = ? AND p.network_id = ? AND r.closed_at IS NULL AND t.chat_id = ?"
            "  AND (r.card_chat_id IS NULL OR r.card_chat_id = ?)"
            "  AND e.person_id = ? AND e.left_at IS NULL"
            " ON CONFLICT (round_id, person_id) DO UPDATE SET"
            "  choice = excluded.choice, update_id = excluded.update_id, at = excluded.at,"
            # A reason belongs to an Einwand or Bedenken; keep it while the choice keeps one.
            "  reason = CASE WHEN excluded.choice IN ('object', 'concern')"
            "                THEN responses.reason END"
            " WHERE excluded.update_id > responses.update_id"
            " RETURNING " + _PRESS_RETURNING,
            (choice, update_id, to_db(now), round_id, self.network_id, chat_id, chat_id, person_id),
        )
        if row is None:
            return None
        return PressContext(
            round_id=round_id,
            proposal_id=row["proposal_id"],
            closed=False,
            card_chat_id=row["card_chat_id"],
            card_message_id=row["card_message_id"],
            team_id=row["team_id"],
            chat_id=chat_id,
            team_name=row["name"],
            roster_mode=row["roster_mode"],
        )

    async def record_response(
        self, round_id: int, person_id: int, choice: str, update_id: int, now: datetime
    ) -> bool | None:
        """Store a press unless a newer one of this person is already stored (SPEC §9).
        True: stored; False: an older press; None: the round is closed.

        One statement, atomic by itself; a trigger writes it into the record."""
        changed = await self.db.change(
            "INSERT INTO responses (round_id, person_id, choice, reason, update_id, at)"
            " SELECT ?, ?, ?, NULL, ?, ?"
            " WHERE EXISTS (SELECT 1 FROM rounds WHERE id = ? AND closed_at IS NULL)"
            " ON CONFLICT (round_id, person_id) DO UPDATE SET"
            "  choice = excluded.choice, update_id = excluded.update_id, at = excluded.at,"
            # A reason belongs to an Einwand or Bedenken; keep it while the choice keeps one.
            "  reason = CASE WHEN excluded.choice IN ('object', 'concern')"
            "                THEN responses.reason END"
            " WHERE excluded.update_id > responses.update_id",
            (round_id, person_id, choice, update_id, to_db(now), round_id),
        )
        if changed:
            return True
        still_open = await self.db.fetchone(
            "SELECT 1 FROM rounds WHERE id = ? AND closed_at IS NULL", (round_id,)
        )
        return False if still_open else None

    async def set_reason(
        self, round_id: int, person_id: int, reason: str, now: datetime, team_id: int
    ) -> bool:
        """Attach a reason to an Einwand or Bedenken (only while the response is one)."""
        async with self.db.transaction() as tx:
            changed = await tx.rowcount(
                "UPDATE responses SET reason = ? WHERE round_id = ? AND person_id = ?"
                " AND choice IN ('object', 'concern')",
                (reason, round_id, person_id),
            )
            await tx.execute(
                "DELETE FROM reason_requests WHERE person_id = ? AND round_id = ?",
                (person_id, round_id),
            )
            if changed:
                await events.append(
                    tx,
                    self.network_id,
                    "round.reason",
                    now,
                    team_id=team_id,
                    actor_id=person_id,
                    data={"round": round_id},
                )
        return bool(changed)

    async def ask_reason(self, person_id: int, round_id: int, now: datetime) -> None:
        await self.db.execute(
            "INSERT INTO reason_requests (person_id, round_id, asked_at) VALUES (?, ?, ?)"
            " ON CONFLICT DO UPDATE SET asked_at = excluded.asked_at",
            (person_id, round_id, to_db(now)),
        )

    async def pending_reason(self, person_id: int) -> int | None:
        """The round of the newest unanswered question for a reason, if any."""
        row = await self.db.fetchone(
            "SELECT round_id FROM reason_requests WHERE person_id = ?"
            " ORDER BY asked_at DESC LIMIT 1",
            (person_id,),
        )
        return int(row[0]) if row else None

    async def join_round(self, round_id: int, person_id: int, now: datetime) -> None:
        await self.db.execute(
            "INSERT INTO round_electorate (round_id, person_id, joined_at) VALUES (?, ?, ?)"
            " ON CONFLICT DO UPDATE SET left_at = NULL",
            (round_id, person_id, to_db(now)),
        )

    async def join_vote(self, vote_id: int, person_id: int, now: datetime) -> None:
        await self.db.execute(
            "INSERT INTO vote_electorate (vote_id, person_id, joined_at) VALUES (?, ?, ?)"
            " ON CONFLICT DO UPDATE SET left_at = NULL",
            (vote_id, person_id, to_db(now)),
        )

    async def record_ballot(
        self, vote_id: int, person_id: int, choice: str | None, update_id: int, now: datetime
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

    async def set_card(self, round_id: int, chat_id: int, message_id: int) -> None:
        await self.db.execute(
            "UPDATE rounds SET card_chat_id = ?, card_message_id = ? WHERE id = ?",
            (chat_id, message_id, round_id),
        )

    async def set_full_text(self, proposal_id: int, chat_id: int, message_id: int) -> None:
        await self.db.execute(
            "UPDATE proposals SET full_text_chat_id = ?, full_text_message_id = ? WHERE id = ?",
            (chat_id, message_id, proposal_id),
        )

    async def add_poll(self, vote_id: int, poll_id: str, chat_id: int, message_id: int) -> None:
        """A new poll for the vote; an earlier one (before a migration) stops being active,
        but its answers keep counting."""
        async with self.db.transaction() as tx:
            await tx.execute("UPDATE vote_polls SET active = 0 WHERE vote_id = ?", (vote_id,))
            await tx.execute(
                "INSERT INTO vote_polls (poll_id, vote_id, chat_id, message_id)"
                " VALUES (?, ?, ?, ?)",
                (poll_id, vote_id, chat_id, message_id),
            )

    # -- what followed a close (finished after a restart if a crash interrupted it) ------

    async def mark_announced(self, table: str, row_id: int, now: datetime) -> None:
        assert table in ("rounds", "votes")
        await self.db.change(
            f"UPDATE {table} SET announced_at = ? WHERE id = ? AND announced_at IS NULL",
            (to_db(now), row_id),
        )

    async def mark_effects_done(self, proposal_id: int, now: datetime) -> None:
        await self.db.change(
            "UPDATE proposals SET effects_done_at = ? WHERE id = ? AND effects_done_at IS NULL",
            (to_db(now), proposal_id),
        )

    async def unannounced_rounds(self) -> list[RoundRecord]:
        rows = await self.db.fetchall(
            "SELECT r.* FROM rounds r JOIN proposals p ON p.id = r.proposal_id"
            " WHERE p.network_id = ? AND r.outcome IS NOT NULL AND r.announced_at IS NULL"
            " ORDER BY r.id",
            (self.network_id,),
        )
        return [_round(row) for row in rows]

    async def unannounced_votes(self) -> list[VoteRecord]:
        rows = await self.db.fetchall(
            "SELECT v.* FROM votes v JOIN proposals p ON p.id = v.proposal_id"
            " WHERE p.network_id = ? AND v.outcome IS NOT NULL AND v.announced_at IS NULL"
            " ORDER BY v.id",
            (self.network_id,),
        )
        return [_vote(row) for row in rows]

    async def effects_pending(self) -> list[ProposalRecord]:
        rows = await self.db.fetchall(
            "SELECT * FROM proposals WHERE network_id = ? AND status = 'closed'"
            " AND effects_done_at IS NULL ORDER BY id",
            (self.network_id,),
        )
        return [_proposal(row) for row in rows]


async def leave_open_electorates(
    tx: Transaction, team_id: int, person_id: int, now: datetime
) -> None:
    """Who leaves the team no longer counts in its open rounds and votes (SPEC §3.3)."""
    await tx.execute(
        "UPDATE round_electorate SET left_at = ? WHERE person_id = ? AND left_at IS NULL"
        " AND round_id IN (SELECT r.id FROM rounds r JOIN proposals p ON p.id = r.proposal_id"
        "  WHERE p.team_id = ? AND r.closed_at IS NULL)",
        (to_db(now), person_id, team_id),
    )
    await tx.execute(
        "UPDATE vote_electorate SET left_at = ? WHERE person_id = ? AND left_at IS NULL"
        " AND vote_id IN (SELECT v.id FROM votes v JOIN proposals p ON p.id = v.proposal_id"
        "  WHERE p.team_id = ? AND v.closed_at IS NULL)",
        (to_db(now), person_id, team_id),
    )


async def _team_of(tx: Transaction, proposal_id: int) -> int:
    row = await tx.fetchone("SELECT team_id FROM proposals WHERE id = ?", (proposal_id,))
    assert row is not None
    return int(row[0])


def _proposal(row: Any) -> ProposalRecord:
    return ProposalRecord(
        id=row["id"],
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
        created_at=from_db(row["created_at"]),  # type: ignore[arg-type]
        closed_at=from_db(row["closed_at"]),
        full_text_chat_id=row["full_text_chat_id"],
        full_text_message_id=row["full_text_message_id"],
        payload=json.loads(row["payload"]),
    )


def _round(row: Any) -> RoundRecord:
    return RoundRecord(
        id=row["id"],
        proposal_id=row["proposal_id"],
        number=row["number"],
        text=row["text"],
        opened_at=from_db(row["opened_at"]),  # type: ignore[arg-type]
        deadline=from_db(row["deadline"]),  # type: ignore[arg-type]
        closed_at=from_db(row["closed_at"]),
        outcome=row["outcome"],
        card_chat_id=row["card_chat_id"],
        card_message_id=row["card_message_id"],
        reminder_sent_at=from_db(row["reminder_sent_at"]),
    )


def _vote(row: Any) -> VoteRecord:
    return VoteRecord(
        id=row["id"],
        proposal_id=row["proposal_id"],
        opened_at=from_db(row["opened_at"]),  # type: ignore[arg-type]
        deadline=from_db(row["deadline"]),  # type: ignore[arg-type]
        closed_at=from_db(row["closed_at"]),
        outcome=row["outcome"],
        yes=row["yes"],
        no=row["no"],
        abstain=row["abstain"],
        ignored=row["ignored"],
    )


def _poll(row: Any) -> PollRecord:
    return PollRecord(
        poll_id=row["poll_id"],
        vote_id=row["vote_id"],
        chat_id=row["chat_id"],
        message_id=row["message_id"],
        active=bool(row["active"]),
    )


# -- the record as a whole (/export) -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordedRound:
    number: int
    outcome: str | None  # None while open, or when it ended without a result (superseded)
    closed_at: datetime | None
    electorate: int  # who counted when it closed (or counts now, while open)
    counts: dict[str, int]  # choice -> responses from the electorate, as the tally counts


@dataclass(frozen=True, slots=True)
class RecordedDecision:
    """One proposal with the course it took: every round, and the vote if there was one."""

    proposal: ProposalRecord
    rounds: tuple[RecordedRound, ...]
    vote: VoteRecord | None


async def decision_record(
    proposals: Proposals, team_id: int | None = None
) -> list[RecordedDecision]:
    """Every proposal of the team (or of the whole network), oldest first, open ones too.

    Read in one transaction, so that a round closing meanwhile cannot make the rows disagree.
    Nobody is named: counts only."""
    scope = "p.network_id = ?" + (" AND p.team_id = ?" if team_id is not None else "")
    params: tuple[Any, ...] = (
        (proposals.network_id, team_id) if team_id is not None else (proposals.network_id,)
    )
    async with proposals.db.transaction() as tx:
        proposal_rows = await tx.fetchall(
            f"SELECT p.* FROM proposals p WHERE {scope} ORDER BY p.id", params
        )
        round_rows = await tx.fetchall(
            "SELECT r.id, r.proposal_id, r.number, r.outcome, r.closed_at,"
            " (SELECT COUNT(*) FROM round_electorate e"
            "  WHERE e.round_id = r.id AND e.left_at IS NULL) AS electorate"
            f" FROM rounds r JOIN proposals p ON p.id = r.proposal_id WHERE {scope}"
            " ORDER BY r.proposal_id, r.number",
            params,
        )
        count_rows = await tx.fetchall(
            "SELECT s.round_id, s.choice, COUNT(*) FROM responses s"
            " JOIN round_electorate e ON e.round_id = s.round_id AND e.person_id = s.person_id"
            " AND e.left_at IS NULL"
            " JOIN rounds r ON r.id = s.round_id JOIN proposals p ON p.id = r.proposal_id"
            f" WHERE {scope} GROUP BY s.round_id, s.choice",
            params,
        )
        vote_rows = await tx.fetchall(
            f"SELECT v.* FROM votes v JOIN proposals p ON p.id = v.proposal_id WHERE {scope}",
            params,
        )
    counts: dict[int, dict[str, int]] = {}
    for round_id, choice, number in count_rows:
        counts.setdefault(round_id, {})[choice] = number
    rounds: dict[int, list[RecordedRound]] = {}
    for row in round_rows:
        rounds.setdefault(row["proposal_id"], []).append(
            RecordedRound(
                number=row["number"],
                outcome=row["outcome"],
                closed_at=from_db(row["closed_at"]),
                electorate=row["electorate"],
                counts=counts.get(row["id"], {}),
            )
        )
    votes = {row["proposal_id"]: _vote(row) for row in vote_rows}
    return [
        RecordedDecision(_proposal(row), tuple(rounds.get(row["id"], ())), votes.get(row["id"]))
        for row in proposal_rows
    ]
