"""The /open read model: what is open in a team, at which stage, until when, and who has not
answered yet (only who has not: that much is public even with show_tally = after_close).
/open lists it, and the Wochenrückblick counts it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.charter.outcomes import ProposalStatus
from bot.services import Services
from bot.texts import naming
from storage.proposals import ProposalRecord
from storage.teams import Team


@dataclass(frozen=True, slots=True)
class OpenItem:
    """One line of /open: a proposal, its stage, its next deadline and who has not answered."""

    proposal: ProposalRecord
    stage: str  # "round", "revision" or "vote"
    round_number: int
    until: datetime
    missing: list[str]
    missing_ids: tuple[int, ...] = ()  # who they are (the people the line names)


async def open_items(services: Services, team: Team) -> list[OpenItem]:
    storage = services.storage
    items = []
    for proposal in await storage.proposals.open_proposals(team.id):
        status = ProposalStatus(proposal.status)
        if status is ProposalStatus.AWAITING_REVISION and proposal.revision_until:
            items.append(
                OpenItem(proposal, "revision", proposal.round_number, proposal.revision_until, [])
            )
            continue
        if status is ProposalStatus.VOTE_OPEN:
            vote = await storage.votes.vote_of(proposal.id)
            assert vote is not None
            electorate = await storage.votes.vote_electorate(vote.id)
            answered = set(await storage.votes.ballots(vote.id))
            stage, until = "vote", vote.deadline
        else:
            round_ = await storage.rounds.current_round(proposal.id)
            assert round_ is not None
            electorate = await storage.rounds.round_electorate(round_.id)
            answered = set(await storage.rounds.responses(round_.id))
            stage, until = "round", round_.deadline
        people = await storage.people.by_ids(sorted(electorate - answered))
        missing = sorted(naming.name(person) for person in people.values())
        items.append(
            OpenItem(proposal, stage, proposal.round_number, until, missing, tuple(people))
        )
    return items
