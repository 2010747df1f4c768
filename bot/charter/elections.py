"""How an election of the ST's civil-society seats is counted (SPEC §5)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from bot.charter.outcomes import (
    PersonId,
)
from bot.charter.policy import Policy
from bot.charter.tally import (
    quorum_needed,
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
