"""The majority vote of a proposal (SPEC §3.5): its poll in the team chat, the ballots that
come in as poll answers, and its close with the result — the Beschluss."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.charter import course, outcomes, tally
from bot.charter.outcomes import ProposalStatus
from bot.charter.policy import policy_from_json
from bot.flows.port import (
    Keyboard,
    Poll,
    Posted,
    VoteAnnounced,
    VoteCard,
    VoteCardPosted,
    VotePollPosted,
)
from bot.flows.round_cards import proposal_people
from bot.texts import cards, naming
from bot.texts.i18n import Html, t
from storage.proposals import ProposalRecord
from storage.votes import VoteResult
from storage.votes import Votes as StoredVotes

if TYPE_CHECKING:
    from bot.flows.decisions import Decisions

log = logging.getLogger(__name__)


class Votes:
    """The votes of one engine (`decisions.votes`)."""

    def __init__(self, decisions: Decisions) -> None:
        self.decisions = decisions

    @property
    def store(self) -> StoredVotes:
        return self.decisions.services.storage.votes

    async def post_poll(self, proposal: ProposalRecord, vote_id: int, chat_id: int) -> None:
        services = self.decisions.services
        lang = services.default_language
        round_ = await services.storage.rounds.current_round(proposal.id)
        reply_to = round_.card_message_id if round_ and round_.card_chat_id == chat_id else None
        about = await proposal_people(services, proposal)
        if round_ is None:
            # Process `majority`: no round, so the proposal's card is posted with the vote.
            vote = await self.store.vote(vote_id)
            proposer = await services.storage.people.by_id(proposal.proposer_id or 0)
            assert vote is not None
            card = cards.render_vote_card(
                proposal, vote, naming.name(proposer), lang, self.decisions.when
            )
            # The poll answers the card: where it went is known only once it is sent.
            await services.outbox.send(
                chat_id, card, on_posted=VoteCardPosted(vote_id), about=about
            )
        vote = await self.store.vote(vote_id)
        assert vote is not None
        poll = Poll(
            question=cards.poll_question(proposal, self.decisions.when(vote.deadline), lang),
            options=tuple(cards.poll_options(lang)),
            reply_to=reply_to,
            reply_to_post=VoteCardPosted(vote_id) if round_ is None else None,
        )
        await services.outbox.send_poll(
            chat_id, poll, on_posted=VotePollPosted(vote_id), about=about
        )

    async def poll_posted(self, vote_id: int, post: Posted) -> None:
        """A poll of the vote is out (recorded once Telegram confirmed it). The same poll sent
        twice — a kill, or a timeout, after Telegram posted it and before the bot marked it
        sent — is kept, so that answers to it count (each person's last answer, on either
        poll), stopped, and answered with a pointer to the first; a poll that went out after
        the vote closed is stopped too."""
        services = self.decisions.services
        if post.poll_id is None:
            return
        first = await self.store.add_poll(vote_id, post.poll_id, post.chat_id, post.message_id)
        vote = await self.store.vote(vote_id)
        if first is None and vote is not None and vote.closed_at is None:
            return
        await services.outbox.stop_poll(post.chat_id, post.message_id)
        if first is not None:
            log.warning("event=poll_twice vote=%s", vote_id)
            await services.outbox.send(
                first.chat_id,
                t(services.default_language, "poll.twice"),
                reply_to=first.message_id,
                silent=True,
            )

    async def ballot(
        self, poll_id: str, telegram_id: int, person_id: int, option_ids: list[int], update_id: int
    ) -> None:
        """An answer to a vote's poll (or its retraction: no options)."""
        services = self.decisions.services
        poll = await self.store.poll(poll_id)
        if poll is None:
            return
        vote = await self.store.vote(poll.vote_id)
        if vote is None or vote.closed_at is not None:
            return
        proposal = await services.storage.proposals.get(vote.proposal_id)
        assert proposal is not None
        team = await services.storage.teams.by_id(proposal.team_id)
        assert team is not None
        choice: str | None = None
        if option_ids:
            if len(option_ids) != 1 or not 0 <= option_ids[0] < len(outcomes.BALLOT_OPTIONS):
                return  # cannot come from our poll
            choice = outcomes.BALLOT_OPTIONS[option_ids[0]].value
        electorate = await self.store.vote_electorate(vote.id)
        joins = person_id not in electorate and choice is not None
        if joins and await self.decisions.joins_open_electorate(team, telegram_id, person_id):
            await self.store.join_vote(vote.id, person_id, self.decisions.now())
        await self.store.record_ballot(vote.id, person_id, choice, update_id, self.decisions.now())
        if await self.everyone_voted(vote.id):
            # Closes a grace later, counting what came before this answer (SPEC §4).
            await self.decisions.early_close.everyone_responded(proposal.id, update_id)

    async def everyone_voted(self, vote_id: int) -> bool:
        """Whether every member of the vote's electorate has a ballot (and it has members)."""
        electorate = await self.store.vote_electorate(vote_id)
        ballots = await self.store.ballots(vote_id)
        return tally.everyone_responded(ballots, electorate)

    async def close_vote(self, proposal_id: int) -> bool:
        """Close the vote now (its deadline, or the early close when everyone voted: see
        `Decisions.everyone_responded`); claimed first, like a round."""
        proposals = self.decisions.services.storage.proposals
        vote = await self.store.vote_of(proposal_id)
        if vote is None or vote.outcome is not None:
            return False
        now = self.decisions.now()
        if vote.closed_at is None:
            await self.store.claim_vote(vote.id, now)
        proposal = await proposals.get(proposal_id)
        if proposal is None or proposal.status != ProposalStatus.VOTE_OPEN.value:
            return False
        counted = await self.count(proposal, vote.id)
        step = course.after_vote(counted.outcome)
        state = course.advance(await self.decisions.state_of(proposal), step)
        transition = self.decisions.transition(
            state,
            step,
            proposal.text,
            (),
            event="vote.closed",
            close_vote=(
                vote.id,
                VoteResult(
                    counted.outcome.value, counted.yes, counted.no, counted.abstain, counted.ignored
                ),
            ),
        )
        applied = await proposals.transition(
            proposal_id, ProposalStatus.VOTE_OPEN.value, None, transition, None, now
        )
        if applied is None:
            return False
        log.info("event=vote_closed proposal=%s outcome=%s", proposal_id, counted.outcome.value)
        refreshed = await proposals.get(proposal_id)
        assert refreshed is not None
        await self.announce(refreshed, vote.id)
        await self.decisions.decided(refreshed, step.outcome)
        return True

    async def count(self, proposal: ProposalRecord, vote_id: int) -> tally.VoteTally:
        """The vote's tally from the ballots stored."""
        electorate = await self.store.vote_electorate(vote_id)
        ballots = {p: outcomes.Ballot(c) for p, c in (await self.store.ballots(vote_id)).items()}
        return tally.tally_vote(ballots, electorate, policy_from_json(proposal.policy))

    async def announce(self, proposal: ProposalRecord, vote_id: int) -> None:
        """The polls closed and the result posted (again after a restart, if the crash came
        first: what is marked announced was sent)."""
        services = self.decisions.services
        await self.stop_polls(vote_id)
        team = await services.storage.teams.by_id(proposal.team_id)
        assert team is not None
        counted = await self.count(proposal, vote_id)

        text = cards.render_vote_result(proposal, counted, services.default_language)
        await services.outbox.send(
            team.chat_id,
            text,
            on_posted=VoteAnnounced(vote_id),
            about=await proposal_people(services, proposal),
        )
        await self.refresh_card(proposal, vote_id)  # the card shows the Beschluss

    async def refresh_card(self, proposal: ProposalRecord, vote_id: int) -> None:
        """Show where the proposal stands on its card: the last round's card, or the vote's
        own where it had no round (rendered when the edit goes out)."""
        services = self.decisions.services
        round_ = await services.storage.rounds.current_round(proposal.id)
        if round_ is not None:
            await self.decisions.cards.refresh_card(round_.id)
            return
        vote = await self.store.vote(vote_id)
        if vote is not None and vote.card_chat_id is not None and vote.card_message_id:
            await services.outbox.edit_later(
                vote.card_chat_id, vote.card_message_id, VoteCard(vote_id)
            )

    async def render_card(self, vote_id: int) -> tuple[Html, Keyboard | None] | None:
        """The card of a vote without a round as it is now (what a waiting edit shows)."""
        services = self.decisions.services
        vote = await self.store.vote(vote_id)
        proposal = await services.storage.proposals.get(vote.proposal_id) if vote else None
        if vote is None or proposal is None:
            return None
        proposer = await services.storage.people.by_id(proposal.proposer_id or 0)
        text = cards.render_vote_card(
            proposal, vote, naming.name(proposer), services.default_language, self.decisions.when
        )
        return text, None

    async def stop_polls(self, vote_id: int) -> None:
        """The bot closes its polls itself, so that Telegram's poll and the record agree."""
        for poll in await self.store.polls(vote_id):
            if poll.active:
                await self.decisions.services.outbox.stop_poll(poll.chat_id, poll.message_id)
