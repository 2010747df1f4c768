"""The record as a whole (/export): every proposal with the course it took, read at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import SqlValue, from_db
from storage.proposals import ProposalRecord, Proposals, _proposal
from storage.votes import VoteRecord, _vote


@dataclass(frozen=True, slots=True)
class RecordedRound:
    number: int
    outcome: str | None  # None while open, or when it ended without a result (superseded)
    closed_at: datetime | None
    electorate: int  # who counted when it closed (or counts now, while open)
    counts: dict[str, int]  # choice -> responses from the electorate, as the tally counts
    # The reasons given for the electorate's Einwände and Bedenken, Einwände first: (choice,
    # reason, whether it came after the round closed). Nobody is named.
    reasons: tuple[tuple[str, str, bool], ...] = ()


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
    params: tuple[SqlValue, ...] = (
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
        reason_rows = await tx.fetchall(
            "SELECT s.round_id, s.choice, s.reason,"
            " COALESCE(s.reason_at > r.closed_at, FALSE) AS late FROM responses s"
            " JOIN round_electorate e ON e.round_id = s.round_id AND e.person_id = s.person_id"
            " AND e.left_at IS NULL"
            " JOIN rounds r ON r.id = s.round_id JOIN proposals p ON p.id = r.proposal_id"
            f" WHERE {scope} AND s.reason IS NOT NULL"
            " ORDER BY s.round_id, s.choice DESC, s.reason_at, s.person_id",
            params,
        )
        vote_rows = await tx.fetchall(
            f"SELECT v.* FROM votes v JOIN proposals p ON p.id = v.proposal_id WHERE {scope}",
            params,
        )
    counts: dict[int, dict[str, int]] = {}
    for round_id, choice, number in count_rows:
        counts.setdefault(round_id, {})[choice] = number
    reasons: dict[int, list[tuple[str, str, bool]]] = {}
    for round_id, choice, reason, late in reason_rows:
        reasons.setdefault(round_id, []).append((choice, reason, bool(late)))
    rounds: dict[int, list[RecordedRound]] = {}
    for row in round_rows:
        rounds.setdefault(row["proposal_id"], []).append(
            RecordedRound(
                number=row["number"],
                outcome=row["outcome"],
                closed_at=from_db(row["closed_at"]),
                electorate=row["electorate"],
                counts=counts.get(row["id"], {}),
                reasons=tuple(reasons.get(row["id"], ())),
            )
        )
    votes = {row["proposal_id"]: _vote(row) for row in vote_rows}
    return [
        RecordedDecision(_proposal(row), tuple(rounds.get(row["id"], ())), votes.get(row["id"]))
        for row in proposal_rows
    ]
