"""The charter's decision rules (SPEC §3–§5): electorates, tallies, objections, courses."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from fractions import Fraction
from typing import TypeAlias

from bot.policy import DecisionKind, Policy, Process, RosterMode, Silence

PersonId: TypeAlias = int
"""A person's internal id (never the Telegram id: see SPEC §1, identity in the record)."""

Electorate: TypeAlias = frozenset[PersonId]
"""Who counts in one round or vote: the roster when it opened (SPEC §3.3)."""


# The values below are stored in SQLite: never rename them.


class Response(StrEnum):
    """A member's answer in a consensus round."""

    AGREE = "agree"  # Zustimmung
    CONCERN = "concern"  # Bedenken: agrees, the concern is recorded, does not block
    ABSTAIN = "abstain"  # Enthaltung: stands aside, does not block, counts toward the quorum
    OBJECT = "object"  # Einwand: blocks consensus


class Ballot(StrEnum):
    """A member's answer in a majority vote."""

    YES = "yes"  # Ja
    NO = "no"  # Nein
    ABSTAIN = "abstain"  # Enthaltung: counts toward the quorum, not toward the majority


# The native poll's options, in the order they are posted (option index -> ballot).
BALLOT_OPTIONS: tuple[Ballot, ...] = (Ballot.YES, Ballot.NO, Ballot.ABSTAIN)


class RoundOutcome(StrEnum):
    CONSENSUS = "consensus"  # Konsens
    OBJECTIONS = "objections"  # Einwände
    NO_QUORUM = "no_quorum"  # Kein Quorum


class VoteOutcome(StrEnum):
    ACCEPTED = "accepted"  # Angenommen
    REJECTED = "rejected"  # Abgelehnt


class DecisionOutcome(StrEnum):
    """How a proposal ended: the Beschluss in the record."""

    CONSENSUS = "consensus"  # Konsens
    ACCEPTED = "accepted"  # Angenommen (by majority vote)
    REJECTED = "rejected"  # Abgelehnt
    EXPIRED = "expired"  # Abgelaufen: rounds ran out for too little participation alone
    WITHDRAWN = "withdrawn"  # Zurückgezogen


class ProposalStatus(StrEnum):
    ROUND_OPEN = "round_open"
    AWAITING_REVISION = "awaiting_revision"
    VOTE_OPEN = "vote_open"
    CLOSED = "closed"


class ObjectionStatus(StrEnum):
    STANDS = "stands"  # besteht
    RESOLVED = "resolved"  # ausgeräumt


class Refusal(StrEnum):
    """Why a proposer's request (/revise, /majority, /withdraw) is refused."""

    NOT_PROPOSER = "not_proposer"
    CLOSED = "closed"
    NOTHING_TO_REVISE = "nothing_to_revise"  # decisions about a person have no text
    NO_ROUNDS_LEFT = "no_rounds_left"
    ROUND_OPEN = "round_open"
    VOTE_OPEN = "vote_open"
    WINDOW_ENDED = "window_ended"
    NO_FAILED_ROUND = "no_failed_round"
    NO_FALLBACK = "no_fallback"


# Decisions about a person have no text to revise: their next round opens at once (SPEC §3.6).
PERSON_DECISIONS = frozenset(
    {DecisionKind.ADMISSION, DecisionKind.NOMINATION, DecisionKind.DELEGATION}
)


def is_about_a_person(kind: DecisionKind) -> bool:
    return kind in PERSON_DECISIONS


def approved(outcome: DecisionOutcome) -> bool:
    """Whether a Beschluss says yes — by consensus or by majority alike."""
    return outcome in (DecisionOutcome.CONSENSUS, DecisionOutcome.ACCEPTED)


# --- The electorate ------------------------------------------------------------------------------
#
# A person admitted while a round or vote is open is not added: they wait for the next round,
# because the electorate is the roster *when it opened*. Only chat-mode rosters grow mid-round.


def electorate_at_open(roster: Iterable[PersonId]) -> Electorate:
    return frozenset(roster)


def electorate_after_leave(electorate: Electorate, person: PersonId) -> Electorate:
    """Who leaves the team while a round is open no longer counts there (SPEC §3.3)."""
    return electorate - {person}


def electorate_after_confirmed_join(
    electorate: Electorate, person: PersonId, roster_mode: RosterMode
) -> Electorate:
    """A chat member the bot has just confirmed joins the open electorate when they press/vote.

    A chat-mode roster is only who the bot has seen, so a quiet member first "appears" by
    pressing; in an explicit roster an admission waits for the next round instead.
    """
    if roster_mode is RosterMode.CHAT:
        return electorate | {person}
    return electorate


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


def _round_outcome(
    objection: bool, electorate_size: int, responses: int, needed: int, policy: Policy
) -> RoundOutcome:
    """SPEC §3.5's table, row by row, in its order."""
    if objection:
        return RoundOutcome.OBJECTIONS
    if electorate_size == 0:
        # Nobody is left to consent, not even by silence: no Beschluss made by no one.
        return RoundOutcome.NO_QUORUM
    if policy.silence is Silence.CONSENT or policy.process is Process.CONSENT:
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


# --- Elections of civil-society seats (SPEC §5) --------------------------------------------------


@dataclass(frozen=True, slots=True)
class ElectionTally:
    votes: Mapping[PersonId, int]  # valid votes per candidate, in the poll's order
    elected: tuple[PersonId, ...]  # clear winners, most votes first
    tied: frozenset[PersonId]  # tied for the last seat(s): reported, not decided by chance
    seats_open: int  # seats left unfilled (a tie, or too few candidates with votes)
    valid: int
    invalid_voters: frozenset[PersonId]  # ticked more than SEATS: told privately where possible
    ignored: int  # answers from outside the electorate
    quorum_needed: int


def tally_election(
    ballots: Mapping[PersonId, AbstractSet[PersonId]],
    candidates: Sequence[PersonId],
    seats: int,
    electorate: AbstractSet[PersonId],
    policy: Policy,
) -> ElectionTally:
    """The candidates with the most valid votes fill the seats; a tie for the last one stays open.

    A candidate nobody voted for is not elected. Below the quorum (0 by default for elections)
    nobody is elected. A retracted answer (an empty choice) is no ballot at all.
    """
    if seats < 1:
        raise ValueError("an election fills at least one seat")
    allowed = frozenset(candidates)
    votes = dict.fromkeys(candidates, 0)
    valid = 0
    invalid_voters: set[PersonId] = set()
    ignored = 0
    for voter, choice in ballots.items():
        if not choice:
            continue
        if voter not in electorate:
            ignored += 1
        elif len(choice) > seats or not choice <= allowed:
            invalid_voters.add(voter)
        else:
            valid += 1
            for candidate in choice:
                votes[candidate] += 1

    needed = quorum_needed(policy.quorum, len(electorate))
    ranked = sorted((c for c in candidates if votes[c] > 0), key=lambda c: -votes[c])
    elected: tuple[PersonId, ...] = ()
    tied: frozenset[PersonId] = frozenset()
    if valid >= needed:
        if len(ranked) <= seats:
            elected = tuple(ranked)
        else:
            last_seat = votes[ranked[seats - 1]]
            if votes[ranked[seats]] == last_seat:
                elected = tuple(c for c in ranked if votes[c] > last_seat)
                tied = frozenset(c for c in ranked if votes[c] == last_seat)
            else:
                elected = tuple(ranked[:seats])
    return ElectionTally(
        votes=votes,
        elected=elected,
        tied=tied,
        seats_open=seats - len(elected),
        valid=valid,
        invalid_voters=frozenset(invalid_voters),
        ignored=ignored,
        quorum_needed=needed,
    )


# --- A proposal's course: state and steps --------------------------------------------------------
#
# The same machine runs every decision kind that is taken by rounds and votes (proposal,
# admission, nomination, delegation, settings, support); the policy, already resolved for the
# team kind and decision kind, chooses the process. Elections have their own poll (above).
#
# Each event has a function that says what happens next as a Step; `advance` gives the state to
# store after that step. A closed round also changes the counters: use `close_round` for both.


@dataclass(frozen=True, slots=True)
class ProposalState:
    kind: DecisionKind
    policy: Policy  # the policy the proposal started under
    status: ProposalStatus
    round_length: timedelta  # every round lasts as long as the first (the proposer's choice)
    round_number: int = 0  # the current or last round; 0 for a straight majority vote
    failed_rounds: int = 0
    any_objection_ever: bool = False
    round_deadline: datetime | None = None
    revision_until: datetime | None = None
    vote_deadline: datetime | None = None
    outcome: DecisionOutcome | None = None

    @property
    def rounds_left(self) -> int:
        return max(0, self.policy.max_consensus_rounds - self.failed_rounds)

    @property
    def next_deadline(self) -> datetime | None:
        """The one moment to arm a job for, in the current status."""
        return {
            ProposalStatus.ROUND_OPEN: self.round_deadline,
            ProposalStatus.AWAITING_REVISION: self.revision_until,
            ProposalStatus.VOTE_OPEN: self.vote_deadline,
            ProposalStatus.CLOSED: None,
        }[self.status]


@dataclass(frozen=True, slots=True)
class OpenRound:
    """The first consensus round opens."""

    deadline: datetime


@dataclass(frozen=True, slots=True)
class OpenNextRound:
    """The next consensus round opens now, listing the objections that were raised."""

    round_number: int
    deadline: datetime


@dataclass(frozen=True, slots=True)
class AwaitRevision:
    """The proposer may /revise until then; otherwise the next round opens with the same text."""

    until: datetime


@dataclass(frozen=True, slots=True)
class StartVote:
    deadline: datetime


@dataclass(frozen=True, slots=True)
class RecordDecision:
    outcome: DecisionOutcome


Step: TypeAlias = OpenRound | OpenNextRound | AwaitRevision | StartVote | RecordDecision


class InvalidTransition(ValueError):
    """An event that cannot happen in the proposal's status (a bug, or a race lost elsewhere)."""


def _expect(state: ProposalState, *allowed: ProposalStatus) -> None:
    if state.status not in allowed:
        raise InvalidTransition(f"not possible while {state.status.value}")


def first_step(
    policy: Policy, now: datetime, deadline: datetime | None = None
) -> OpenRound | StartVote:
    """Process `majority` goes straight to the vote; every other process starts with a round.

    `deadline` is the proposer's own (already checked by bot.deadlines); by default the policy's.
    """
    if policy.process is Process.MAJORITY:
        return StartVote(now + policy.majority_deadline if deadline is None else deadline)
    return OpenRound(now + policy.consensus_deadline if deadline is None else deadline)


def new_proposal(
    kind: DecisionKind, policy: Policy, now: datetime, deadline: datetime | None = None
) -> tuple[ProposalState, OpenRound | StartVote]:
    step = first_step(policy, now, deadline)
    round_length = policy.consensus_deadline
    if isinstance(step, OpenRound):
        round_length = step.deadline - now
    start = ProposalState(
        kind=kind, policy=policy, status=ProposalStatus.ROUND_OPEN, round_length=round_length
    )
    return advance(start, step), step


def _count_round(state: ProposalState, outcome: RoundOutcome) -> ProposalState:
    if outcome is RoundOutcome.CONSENSUS:
        return state
    return replace(
        state,
        failed_rounds=state.failed_rounds + 1,
        any_objection_ever=state.any_objection_ever or outcome is RoundOutcome.OBJECTIONS,
    )


def after_round(state: ProposalState, outcome: RoundOutcome, now: datetime) -> Step:
    """What follows a closed round (SPEC §3.6). Every failed round counts, Kein Quorum too."""
    _expect(state, ProposalStatus.ROUND_OPEN)
    if outcome is RoundOutcome.CONSENSUS:
        return RecordDecision(DecisionOutcome.CONSENSUS)
    counted = _count_round(state, outcome)
    if counted.rounds_left == 0:
        return _after_last_round(counted, now)
    if is_about_a_person(state.kind):
        return OpenNextRound(state.round_number + 1, now + state.round_length)
    return AwaitRevision(until=now + state.policy.revision_window)


def _after_last_round(state: ProposalState, now: datetime) -> StartVote | RecordDecision:
    if state.policy.has_majority_fallback:
        return StartVote(now + state.policy.majority_deadline)
    if state.any_objection_ever:
        return RecordDecision(DecisionOutcome.REJECTED)
    # Only too little participation, never an Einwand: nobody said no, so not "Abgelehnt".
    return RecordDecision(DecisionOutcome.EXPIRED)


def close_round(
    state: ProposalState, outcome: RoundOutcome, now: datetime
) -> tuple[ProposalState, Step]:
    """The state to store after a round closes, and the step to carry out."""
    step = after_round(state, outcome, now)
    return advance(_count_round(state, outcome), step), step


def after_revision(state: ProposalState, now: datetime) -> OpenNextRound:
    """The proposer revised (`can_revise` allowed it): the next round opens with the new text."""
    return _next_round(state, now)


def after_revision_window(state: ProposalState, now: datetime) -> OpenNextRound:
    """The window ended without a revision: the next round opens by itself, same text."""
    return _next_round(state, now)


def _next_round(state: ProposalState, now: datetime) -> OpenNextRound:
    _expect(state, ProposalStatus.AWAITING_REVISION)
    return OpenNextRound(state.round_number + 1, now + state.round_length)


def after_majority_request(state: ProposalState, now: datetime) -> StartVote:
    """The proposer asked for the vote (after `can_request_majority` allowed it).

    If a later round is open, it ends without an outcome: the vote replaces it.
    """
    _expect(state, ProposalStatus.ROUND_OPEN, ProposalStatus.AWAITING_REVISION)
    return StartVote(now + state.policy.majority_deadline)


def after_vote(outcome: VoteOutcome) -> RecordDecision:
    if outcome is VoteOutcome.ACCEPTED:
        return RecordDecision(DecisionOutcome.ACCEPTED)
    return RecordDecision(DecisionOutcome.REJECTED)


def advance(state: ProposalState, step: Step) -> ProposalState:
    """The state after carrying out `step` (the counters of a closed round: see close_round)."""
    match step:
        case OpenRound(deadline=deadline):
            return replace(
                state, status=ProposalStatus.ROUND_OPEN, round_number=1, round_deadline=deadline
            )
        case OpenNextRound(round_number=number, deadline=deadline):
            return replace(
                state,
                status=ProposalStatus.ROUND_OPEN,
                round_number=number,
                round_deadline=deadline,
                revision_until=None,
            )
        case AwaitRevision(until=until):
            return replace(state, status=ProposalStatus.AWAITING_REVISION, revision_until=until)
        case StartVote(deadline=deadline):
            return replace(state, status=ProposalStatus.VOTE_OPEN, vote_deadline=deadline)
        case RecordDecision(outcome=outcome):
            return replace(state, status=ProposalStatus.CLOSED, outcome=outcome)
    raise TypeError(f"not a step: {step!r}")


# --- What the proposer may ask for -------------------------------------------------------------


def can_revise(state: ProposalState, actor_is_proposer: bool, now: datetime) -> Refusal | None:
    """/revise: only the proposer, only within the revision window after a failed round."""
    if not actor_is_proposer:
        return Refusal.NOT_PROPOSER
    if state.status is ProposalStatus.CLOSED:
        return Refusal.CLOSED
    if is_about_a_person(state.kind):
        return Refusal.NOTHING_TO_REVISE
    if state.rounds_left == 0:
        return Refusal.NO_ROUNDS_LEFT
    if state.status is ProposalStatus.VOTE_OPEN:
        return Refusal.VOTE_OPEN
    if state.status is ProposalStatus.ROUND_OPEN:
        return Refusal.ROUND_OPEN
    if state.revision_until is None or now >= state.revision_until:
        return Refusal.WINDOW_ENDED
    return None


def can_request_majority(state: ProposalState, actor_is_proposer: bool) -> Refusal | None:
    """/majority: only the proposer, after at least one failed round, where there is a fallback."""
    if not actor_is_proposer:
        return Refusal.NOT_PROPOSER
    if state.status is ProposalStatus.CLOSED:
        return Refusal.CLOSED
    if state.status is ProposalStatus.VOTE_OPEN:
        return Refusal.VOTE_OPEN
    if not state.policy.has_majority_fallback:
        return Refusal.NO_FALLBACK
    if state.failed_rounds == 0:
        return Refusal.NO_FAILED_ROUND
    return None


def can_withdraw(state: ProposalState, actor_is_proposer: bool) -> Refusal | None:
    """/withdraw: the proposer, any time before the close; it records Zurückgezogen."""
    if not actor_is_proposer:
        return Refusal.NOT_PROPOSER
    if state.status is ProposalStatus.CLOSED:
        return Refusal.CLOSED
    return None
