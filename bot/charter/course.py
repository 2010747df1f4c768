"""The course of a proposal (SPEC §3.5–§3.6, §4): from its first round to its Beschluss, step by
step, and who may revise, ask for the vote or withdraw."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TypeAlias

from bot.charter import refusals
from bot.charter.outcomes import (
    DecisionOutcome,
    ProposalStatus,
    RoundOutcome,
    VoteOutcome,
    is_about_a_person,
)
from bot.charter.policy import DecisionKind, Policy, Process
from bot.charter.refusals import Refusal

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
    # The open round or vote closes early here: everyone has responded, and a short grace
    # lets what came before the completing answer be counted (SPEC §3.5, §4).
    early_close_at: datetime | None = None

    @property
    def rounds_left(self) -> int:
        return max(0, self.policy.max_consensus_rounds - self.failed_rounds)

    @property
    def next_deadline(self) -> datetime | None:
        """The one moment to arm a job for, in the current status: the deadline, or an early
        close that comes before it."""
        due = {
            ProposalStatus.ROUND_OPEN: self.round_deadline,
            ProposalStatus.AWAITING_REVISION: self.revision_until,
            ProposalStatus.VOTE_OPEN: self.vote_deadline,
            ProposalStatus.CLOSED: None,
        }[self.status]
        if due is not None and self._open_deadline is not None and self.early_close_at:
            return min(due, self.early_close_at)
        return due

    @property
    def _open_deadline(self) -> datetime | None:
        """The deadline of the open round or vote, if one is open."""
        if self.status is ProposalStatus.ROUND_OPEN:
            return self.round_deadline
        if self.status is ProposalStatus.VOTE_OPEN:
            return self.vote_deadline
        return None

    def early_close_due(self, now: datetime) -> bool:
        """The open round or vote closes now because everyone has responded, not because its
        deadline passed."""
        deadline = self._open_deadline
        if deadline is None or self.early_close_at is None:
            return False
        return self.early_close_at <= now < deadline


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

    `deadline` is the proposer's own (already checked by bot.charter.deadline_input); by
    default the policy's.
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
    """The state after carrying out `step` (the counters of a closed round: see close_round).
    Every step ends the open round or vote, and with it its early close."""
    state = replace(state, early_close_at=None)
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
        return refusals.NOT_PROPOSER
    if state.status is ProposalStatus.CLOSED:
        return refusals.CLOSED
    if is_about_a_person(state.kind):
        return refusals.NOTHING_TO_REVISE
    if state.rounds_left == 0:
        return refusals.NO_ROUNDS_LEFT
    if state.status is ProposalStatus.VOTE_OPEN:
        return refusals.VOTE_OPEN
    if state.status is ProposalStatus.ROUND_OPEN:
        return refusals.ROUND_OPEN
    if state.revision_until is None or now >= state.revision_until:
        return refusals.WINDOW_ENDED
    return None


def can_request_majority(state: ProposalState, actor_is_proposer: bool) -> Refusal | None:
    """/majority: only the proposer, after at least one failed round, where there is a fallback."""
    if not actor_is_proposer:
        return refusals.NOT_PROPOSER
    if state.status is ProposalStatus.CLOSED:
        return refusals.CLOSED
    if state.status is ProposalStatus.VOTE_OPEN:
        return refusals.VOTE_OPEN
    if not state.policy.has_majority_fallback:
        return refusals.NO_FALLBACK
    if state.failed_rounds == 0:
        return refusals.NO_FAILED_ROUND
    return None


def takes_reasons(status: ProposalStatus) -> bool:
    """A reason for an Einwand or Bedenken is taken until the proposal is decided, also
    after its round closed (SPEC §3.4): the result it belongs to shows it then. Once the
    Beschluss is recorded the record of how it came about is complete."""
    return status is not ProposalStatus.CLOSED


def can_withdraw(state: ProposalState, actor_is_proposer: bool) -> Refusal | None:
    """/withdraw: the proposer, any time before the close; it records Zurückgezogen."""
    if not actor_is_proposer:
        return refusals.NOT_PROPOSER
    if state.status is ProposalStatus.CLOSED:
        return refusals.CLOSED
    return None
