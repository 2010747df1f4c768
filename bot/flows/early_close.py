"""The early close of a round or vote (SPEC §3.5, §4): everyone has responded — but it must
count every update that came before the one that completed the electorate. Updates of
different people are handled concurrently, so another member's earlier update (a changed answer,
a retraction, an Einwand) may still be on its way: the close is a due moment in the database a
short grace after the completing update, checked again when it comes."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.charter.outcomes import ProposalStatus
from storage.proposals import ProposalRecord

if TYPE_CHECKING:
    from bot.flows.decisions import Decisions

log = logging.getLogger(__name__)

# How soon an early close looks again while an update older than the completing one is still
# being handled (in this process, or by any worker sharing the database).
RECHECK = timedelta(milliseconds=250)


class EarlyClose:
    """Schedules, checks and carries out the early close of the engine's rounds and votes."""

    def __init__(self, decisions: Decisions) -> None:
        self.decisions = decisions

    async def everyone_responded(self, proposal_id: int, update_id: int | None) -> None:
        """Everyone in the open round or vote has responded; `update_id` is the update that
        completed it (None: the electorate shrank). It closes early — but not before every
        update that came before that one is counted (SPEC §3.5, §4): updates of different
        people are handled concurrently, and an older one (a changed answer, a retraction, an
        Einwand) may still be on its way. So the close is a due moment in the database,
        `early_close_grace` after the completing update (any process that handles what is due
        closes it, once), and it also waits while an older update is still being handled —
        here, or (several workers on the database) by any worker: the inbox is asked
        (`Services.handling_before`). With no grace and nothing older in flight, it closes
        at once."""
        proposal = await self.decisions.store.get(proposal_id)
        if proposal is None:
            return
        grace = self.decisions.services.config.limits.early_close_grace
        if not grace and not await self.decisions.services.handling_before(update_id):
            await self._close_now(proposal)
            return
        at = self.decisions.now() + (grace or RECHECK)
        if await self._schedule_early_close(proposal, at, update_id):
            log.info("event=early_close_due proposal=%s after_update=%s", proposal.id, update_id)
            await self.decisions.store_next_moment(proposal)

    async def _close_now(self, proposal: ProposalRecord) -> None:
        if proposal.status == ProposalStatus.ROUND_OPEN.value:
            round_ = await self.decisions.services.storage.rounds.current_round(proposal.id)
            if round_ is not None:
                await self.decisions.close_round(proposal.id, round_.id)
        elif proposal.status == ProposalStatus.VOTE_OPEN.value:
            await self.decisions.votes.close_vote(proposal.id)

    async def _schedule_early_close(
        self, proposal: ProposalRecord, at: datetime, update_id: int | None
    ) -> bool:
        storage = self.decisions.services.storage
        if proposal.status == ProposalStatus.ROUND_OPEN.value:
            round_ = await storage.rounds.current_round(proposal.id)
            return round_ is not None and await storage.rounds.schedule_early_close(
                round_.id, at, update_id
            )
        if proposal.status == ProposalStatus.VOTE_OPEN.value:
            vote = await storage.votes.vote_of(proposal.id)
            return vote is not None and await storage.votes.schedule_early_close(
                vote.id, at, update_id
            )
        return False

    async def when_due(self, proposal: ProposalRecord) -> None:
        """The early close is due: close if everyone still has responded and nothing older
        than the completing update is still being handled here; look again shortly if
        something is; otherwise (a retraction, a grown electorate) the deadline stays."""
        storage = self.decisions.services.storage
        if proposal.status == ProposalStatus.ROUND_OPEN.value:
            round_ = await storage.rounds.current_round(proposal.id)
            if round_ is None:
                return
            if round_.closed_at is not None:  # claimed by a close a stop interrupted
                await self.decisions.close_round(proposal.id, round_.id)
                return
            if await self.decisions.services.handling_before(round_.early_close_after):
                await self._look_again(proposal)
            elif await storage.rounds.everyone_responded(round_.id):
                await self.decisions.close_round(proposal.id, round_.id)
            else:
                await storage.rounds.cancel_early_close(round_.id)
                await self.decisions.cards.refresh_card(round_.id)
                await self.decisions.store_next_moment(proposal)
        elif proposal.status == ProposalStatus.VOTE_OPEN.value:
            vote = await storage.votes.vote_of(proposal.id)
            if vote is None:
                return
            if vote.closed_at is not None:
                await self.decisions.votes.close_vote(proposal.id)
                return
            if await self.decisions.services.handling_before(vote.early_close_after):
                await self._look_again(proposal)
            elif await self.decisions.votes.everyone_voted(vote.id):
                await self.decisions.votes.close_vote(proposal.id)
            else:
                await storage.votes.cancel_early_close(vote.id)
                await self.decisions.store_next_moment(proposal)

    async def _look_again(self, proposal: ProposalRecord) -> None:
        await self._schedule_early_close(proposal, self.decisions.now() + RECHECK, None)
        await self.decisions.store_next_moment(proposal)
