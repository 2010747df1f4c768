"""Counting (SPEC §3.3–§4): electorates, who responded, quorum, objections across rounds,
the tally of a round and of a majority vote."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from fractions import Fraction

from bot.charter.outcomes import (
    Ballot,
    ObjectionStatus,
    PersonId,
    Response,
    RoundOutcome,
    VoteOutcome,
)
from bot.charter.policy import Policy, Process, Silence

# --- The electorate ------------------------------------------------------------------------------
#
# Who counts is kept in storage (storage/rounds.py, storage/votes.py: one row per member of a
# round's or vote's electorate, written when it opens), not computed here. The electorate is the
# roster *when it opened*: a person admitted while a round or vote is open waits for the next round;
# who leaves the team no longer counts there (SPEC §3.3; storage/rosters.py, in the leaving's
# transaction); only in a chat-mode roster does a member the bot first sees by their press join the
# open one.


def everyone_responded(
    answers: Mapping[PersonId, object], electorate: AbstractSet[PersonId]
) -> bool:
    """Whether a round or vote may close early: every member of its electorate has answered.

    An empty electorate (everyone left) never closes early: it waits for its deadline, so that
    in a chat-mode team someone can still join and answer.
    """
    return bool(electorate) and all(person in answers for person in electorate)


def quorum_needed(quorum: float, electorate_size: int) -> int:
    """q = ceil(quorum × E), exactly: Fraction(str(0.1)) × 30 is 3, where the float gives 4."""
    return math.ceil(Fraction(str(quorum)) * electorate_size)


# --- Objections across rounds --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Objection:
    person: PersonId
    reason: str | None  # None: the result says "ohne Begründung"
    round_number: int  # the round in which it was first raised


@dataclass(frozen=True, slots=True)
class TrackedObjection:
    objection: Objection
    status: ObjectionStatus

    @property
    def stands(self) -> bool:
        return self.status is ObjectionStatus.STANDS


def track_objections(
    carried: Sequence[Objection],
    responses: Mapping[PersonId, Response],
    round_number: int,
    reasons: Mapping[PersonId, str | None] | None = None,
    electorate: AbstractSet[PersonId] | None = None,
) -> list[TrackedObjection]:
    """Each objection as this round's card lists it: carried ones first, then new ones.

    A carried objection is withdrawn only by responding otherwise: an objector who stays silent
    keeps it standing. Who re-objects keeps their first round number; a new reason replaces the
    old one, no new reason keeps it. Objections of people outside the electorate (they left) are
    dropped, like their responses.
    """
    reasons = reasons or {}

    def counts(person: PersonId) -> bool:
        return electorate is None or person in electorate

    tracked: list[TrackedObjection] = []
    carried_people: set[PersonId] = set()
    for objection in carried:
        if not counts(objection.person) or objection.person in carried_people:
            continue
        carried_people.add(objection.person)
        response = responses.get(objection.person)
        if response is None:
            tracked.append(TrackedObjection(objection, ObjectionStatus.STANDS))
        elif response is Response.OBJECT:
            reason = reasons.get(objection.person) or objection.reason
            tracked.append(
                TrackedObjection(replace(objection, reason=reason), ObjectionStatus.STANDS)
            )
        else:
            tracked.append(TrackedObjection(objection, ObjectionStatus.RESOLVED))
    for person, response in responses.items():
        if response is Response.OBJECT and person not in carried_people and counts(person):
            new = Objection(person, reasons.get(person), round_number)
            tracked.append(TrackedObjection(new, ObjectionStatus.STANDS))
    return tracked


def objections_to_carry(tracked: Iterable[TrackedObjection]) -> list[Objection]:
    """What the next round inherits: every objection that still stands."""
    return [item.objection for item in tracked if item.stands]


# --- Consensus rounds (SPEC §3.5) ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RoundTally:
    outcome: RoundOutcome
    counts: Mapping[Response, int]  # this round's responses from the electorate, every choice
    responded: frozenset[PersonId]
    missing: frozenset[PersonId]  # electorate members who have not responded (for reminders)
    quorum_needed: int
    # Silent members whose objection from an earlier round still stands, so still blocks.
    standing_objectors: frozenset[PersonId] = frozenset()

    @property
    def responses(self) -> int:
        """R: responses of any kind, Enthaltung included."""
        return len(self.responded)


def tally_round(
    responses: Mapping[PersonId, Response],
    electorate: AbstractSet[PersonId],
    policy: Policy,
    carried: Sequence[Objection] = (),
) -> RoundTally:
    """The outcome of a consensus round, checked in the charter's order (SPEC §3.5).

    `carried` are the objections that stood at the end of the previous round: an objection is
    carried over until withdrawn (SPEC §3.6), so an objector who stays silent still blocks.
    """
    counted = {person: r for person, r in responses.items() if person in electorate}
    counts = {choice: 0 for choice in Response}
    for response in counted.values():
        counts[response] += 1
    standing = frozenset(
        o.person for o in carried if o.person in electorate and o.person not in counted
    )
    needed = quorum_needed(policy.quorum, len(electorate))

    outcome = _round_outcome(
        objection=bool(counts[Response.OBJECT] or standing),
        electorate_size=len(electorate),
        responses=len(counted),
        needed=needed,
        policy=policy,
    )
    return RoundTally(
        outcome=outcome,
        counts=counts,
        responded=frozenset(counted),
        missing=frozenset(electorate) - frozenset(counted),
        quorum_needed=needed,
        standing_objectors=standing,
    )


def silence_consents(policy: Policy) -> bool:
    """Whether a round's silence counts as consent (then it needs no quorum)."""
    return policy.silence is Silence.CONSENT or policy.process is Process.CONSENT


def _round_outcome(
    objection: bool, electorate_size: int, responses: int, needed: int, policy: Policy
) -> RoundOutcome:
    """SPEC §3.5's table, row by row, in its order."""
    if objection:
        return RoundOutcome.OBJECTIONS
    if electorate_size == 0:
        # Nobody is left to consent, not even by silence: no Beschluss made by no one.
        return RoundOutcome.NO_QUORUM
    if silence_consents(policy):
        return RoundOutcome.CONSENSUS
    if responses >= needed:
        return RoundOutcome.CONSENSUS
    return RoundOutcome.NO_QUORUM


# --- Majority votes (SPEC §4) --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VoteTally:
    outcome: VoteOutcome
    yes: int
    no: int
    abstain: int
    ignored: int  # answers from outside the electorate: Telegram's own counts include them
    quorum_needed: int

    @property
    def cast(self) -> int:
        return self.yes + self.no + self.abstain


def tally_vote(
    ballots: Mapping[PersonId, Ballot], electorate: AbstractSet[PersonId], policy: Policy
) -> VoteTally:
    """Angenommen iff Ja > Nein and Ja + Nein + Enthaltung ≥ q; a tie is no majority.

    Silence never counts in a vote, whatever `policy.silence` says for rounds.
    """
    counted = [ballot for person, ballot in ballots.items() if person in electorate]
    yes = counted.count(Ballot.YES)
    no = counted.count(Ballot.NO)
    abstain = counted.count(Ballot.ABSTAIN)
    needed = quorum_needed(policy.quorum, len(electorate))
    accepted = yes > no and len(counted) >= needed
    return VoteTally(
        outcome=VoteOutcome.ACCEPTED if accepted else VoteOutcome.REJECTED,
        yes=yes,
        no=no,
        abstain=abstain,
        ignored=len(ballots) - len(counted),
        quorum_needed=needed,
    )
