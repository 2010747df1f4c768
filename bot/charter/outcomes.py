"""The charter's words as values (SPEC §0, §3–§4): responses, ballots, outcomes, statuses;
which outcomes are a yes."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeAlias

from bot.charter.policy import DecisionKind

PersonId: TypeAlias = int
"""A person's internal id (never the Telegram id: see SPEC §1, identity in the record)."""

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


# Decisions about a person have no text to revise: their next round opens at once (SPEC §3.6).
PERSON_DECISIONS = frozenset(
    {DecisionKind.ADMISSION, DecisionKind.NOMINATION, DecisionKind.DELEGATION}
)


def is_about_a_person(kind: DecisionKind) -> bool:
    return kind in PERSON_DECISIONS


# The SQL asks these too: storage gets them from the composition root (bot.app), never types them.

REASONED_RESPONSES: frozenset[Response] = frozenset({Response.OBJECT, Response.CONCERN})
"""The responses that ask for a reason, and keep theirs while a new press stays one of them."""

DECIDED_OUTCOMES: frozenset[DecisionOutcome] = frozenset(
    {DecisionOutcome.CONSENSUS, DecisionOutcome.ACCEPTED, DecisionOutcome.REJECTED}
)
"""A Beschluss was made (not Abgelaufen, not Zurückgezogen): a team's first ends its set-up."""

APPROVING_OUTCOMES: frozenset[DecisionOutcome] = frozenset(
    {DecisionOutcome.CONSENSUS, DecisionOutcome.ACCEPTED}
)
"""A Beschluss that says yes — by consensus or by majority alike."""


def approved(outcome: DecisionOutcome) -> bool:
    """Whether a Beschluss says yes — by consensus or by majority alike."""
    return outcome in APPROVING_OUTCOMES
