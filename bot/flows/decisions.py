"""The decision engine at work: it carries a proposal through its course — rounds, the vote,
the Beschluss (bot.charter says what happens; this module makes it happen in storage) — and
wakes the one timer for every deadline it sets. Nothing here decides what the charter means.

The engine has three helpers, one per thing in the chat: `responses` (the presses on a
card and the reasons), `cards` (the round's card and result) and `votes` (the majority
vote's poll, ballots and result)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.charter import course, refusals, tally
from bot.charter.course import (
    OpenNextRound,
    OpenRound,
    ProposalState,
    RecordDecision,
    StartVote,
    Step,
)
from bot.charter.outcomes import DecisionOutcome, ProposalStatus, Response
from bot.charter.policy import DecisionKind, Policy, policy_from_json, policy_to_json
from bot.charter.schedule import reminder_at
from bot.charter.tally import Objection, RoundTally, TrackedObjection
from bot.charter.teams import REMOVED
from bot.flows.early_close import EarlyClose
from bot.flows.responses import Responses
from bot.flows.round_cards import RoundCards
from bot.flows.votes import Votes
from bot.services import Services
from bot.texts import cards
from bot.texts.cards import title_of
from storage.proposals import Applied, ProposalRecord, Proposals, StateChange, Transition
from storage.rounds import CarriedObjection, NewRound, RoundRecord, StoredResponse
from storage.teams import Team
from storage.votes import NewVote, VoteRecord

log = logging.getLogger(__name__)

ConfirmMember = Callable[[int, int], Awaitable[bool]]
OnDecided = Callable[[ProposalRecord, DecisionOutcome], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RoundResult:
    electorate: frozenset[int]
    stored: dict[int, StoredResponse]
    tally: RoundTally
    objections: list[TrackedObjection]


class Decisions:
    """One per Application; `services` gives storage, outbox, clock and config."""

    def __init__(self, services: Services, confirm_member: ConfirmMember) -> None:
        self.services = services
        self.confirm_member = confirm_member  # (chat_id, telegram_id) -> is in the chat
        # What a recorded Beschluss sets in motion, per kind of decision (the flows register
        # theirs at start: admissions, nominations, delegations, support)
        self.on_decided: dict[DecisionKind, OnDecided] = {}
        self.cards = RoundCards(self)
        self.responses = Responses(self)
        self.votes = Votes(self)
        self.early_close = EarlyClose(self)

    @property
    def store(self) -> Proposals:
        return self.services.storage.proposals

    def now(self) -> datetime:
        return self.services.clock.now()

    def when(self, moment: datetime) -> str:
        """A moment as the team chat reads it (the network's language and timezone)."""
        return self.services.local_datetime(moment, self.services.default_language)

    # -- starting -------------------------------------------------------------------------

    async def propose(
        self,
        team: Team,
        proposer_id: int,
        text: str,
        deadline: datetime | None,
        kind: DecisionKind = DecisionKind.PROPOSAL,
        subject_id: int | None = None,
        payload: dict[str, Any] | None = None,
    ) -> ProposalRecord:
        """A new proposal, its first round begun (or its vote): the proposal as stored."""
        policy = self.services.policy(team, kind)
        now = self.now()
        state, step = course.new_proposal(kind, policy, now, deadline)
        transition = self.transition(state, step, text, carried=(), event="proposal.created")
        proposal_id, applied = await self.store.create(
            team_id=team.id,
            kind=kind.value,
            proposer_id=proposer_id,
            subject_id=subject_id,
            title=title_of(text),
            text=text,
            policy=policy_to_json(policy),
            round_length_s=int(state.round_length.total_seconds()),
            first=transition,
            now=now,
            payload=payload,
        )
        log.info("event=proposal_created proposal=%s team=%s", proposal_id, team.id)
        proposal = await self.store.get(proposal_id)
        assert proposal is not None
        if len(text) > cards.CARD_TEXT_LIMIT:
            await self.cards.post_full_text(team, proposal)
        await self._after(proposal, step, applied)
        return proposal

    # -- the state as the rules see it ------------------------------------------------------

    async def state_of(self, proposal: ProposalRecord) -> ProposalState:
        round_ = await self.services.storage.rounds.current_round(proposal.id)
        vote = await self.services.storage.votes.vote_of(proposal.id)
        return ProposalState(
            kind=DecisionKind(proposal.kind),
            policy=policy_from_json(proposal.policy),
            status=ProposalStatus(proposal.status),
            round_length=timedelta(seconds=proposal.round_length_s),
            round_number=proposal.round_number,
            failed_rounds=proposal.failed_rounds,
            any_objection_ever=proposal.any_objection_ever,
            # A claimed round (closed_at set, no outcome yet: a close interrupted by a
            # restart) still has its deadline due, so that the close is finished.
            round_deadline=round_.deadline if round_ and round_.outcome is None else None,
            revision_until=proposal.revision_until,
            vote_deadline=vote.deadline if vote and vote.outcome is None else None,
            outcome=DecisionOutcome(proposal.outcome) if proposal.outcome else None,
            early_close_at=_early_close_at(proposal, round_, vote),
        )

    def transition(
        self,
        state: ProposalState,
        step: Step,
        text: str,
        carried: tuple[CarriedObjection, ...],
        event: str,
        **extra: Any,
    ) -> Transition:
        """The storage write for `state` after `step` (state is already advanced)."""
        change = StateChange(
            status=state.status.value,
            round_number=state.round_number,
            failed_rounds=state.failed_rounds,
            any_objection_ever=state.any_objection_ever,
            revision_until=state.revision_until,
            outcome=state.outcome.value if state.outcome else None,
            text=extra.pop("new_text", None),
            due_at=state.next_deadline,
        )
        new_round = new_vote = None
        if isinstance(step, OpenRound | OpenNextRound):
            remind_at = self.reminder_moment(state.policy, step.deadline)
            new_round = NewRound(state.round_number, text, step.deadline, carried, remind_at)
        elif isinstance(step, StartVote):
            new_vote = NewVote(step.deadline, self.reminder_moment(state.policy, step.deadline))
        return Transition(
            change=change, event=event, new_round=new_round, new_vote=new_vote, **extra
        )

    def reminder_moment(self, policy: Policy, deadline: datetime) -> datetime | None:
        """When the reminder of a round or vote opening now is due (None: it has none)."""
        return reminder_at(self.now(), deadline, policy.reminder_before)

    async def joins_open_electorate(self, team: Team, telegram_id: int, person_id: int) -> bool:
        """Roster mode `chat`: a confirmed chat member joins the open round or vote (SPEC
        §3.3)."""
        if team.roster_mode != "chat":
            return False
        departure = await self.services.storage.rosters.last_departure(team.id, person_id)
        if departure is not None and departure.left_how == REMOVED:
            return False  # a network admin's /remove is not undone by a press
        if not await self.confirm_member(team.chat_id, telegram_id):
            return False
        await self.services.storage.rosters.admit(team.id, person_id, "chat", self.now())
        return True

    # -- closing a round -------------------------------------------------------------------

    async def close_round(self, proposal_id: int, round_id: int) -> bool:
        """Close the round now (deadline or everyone responded); False if it already was.

        The round is claimed first (no response can come in after that), then its result is
        worked out from what is stored and written with the next step in one transaction."""
        round_ = await self.services.storage.rounds.round(round_id)
        if round_ is None or round_.outcome is not None:
            return False
        now = self.now()
        if round_.closed_at is None:
            await self.services.storage.rounds.claim_round(round_id, now)
        proposal = await self.store.get(proposal_id)
        if proposal is None:
            return False
        state = await self.state_of(proposal)
        if state.status is not ProposalStatus.ROUND_OPEN or state.round_number != round_.number:
            return False
        result = await self.round_result(round_)
        new_state, step = course.close_round(state, result.tally.outcome, now)
        to_carry = tuple(
            CarriedObjection(o.person, o.reason, o.round_number)
            for o in tally.objections_to_carry(result.objections)
        )
        transition = self.transition(
            new_state,
            step,
            proposal.text,
            to_carry,
            event="round.closed",
            close_round=(round_id, result.tally.outcome.value),
            data={
                "round_outcome": result.tally.outcome.value,
                "responses": result.tally.responses,
                "electorate": len(result.electorate),
            },
        )
        applied = await self.store.transition(
            proposal_id, ProposalStatus.ROUND_OPEN.value, round_.number, transition, None, now
        )
        if applied is None:
            return False
        log.info(
            "event=round_closed proposal=%s round=%s outcome=%s",
            proposal_id,
            round_.number,
            result.tally.outcome.value,
        )
        refreshed = await self.store.get(proposal_id)
        assert refreshed is not None
        await self.cards.announce_round(refreshed, round_id)
        await self._after(refreshed, step, applied, announce=False)
        return True

    async def round_result(self, round_: RoundRecord) -> RoundResult:
        """A round's tally and objections, from what is stored (stable once it is claimed)."""
        electorate = await self.services.storage.rounds.round_electorate(round_.id)
        stored = await self.services.storage.rounds.responses(round_.id)
        responses = {p: Response(r.choice) for p, r in stored.items()}
        carried = [
            Objection(c.person_id, c.reason, c.first_round)
            for c in await self.services.storage.rounds.carried(round_.id)
        ]
        proposal = await self.store.get(round_.proposal_id)
        assert proposal is not None
        policy = policy_from_json(proposal.policy)
        return RoundResult(
            electorate=electorate,
            stored=stored,
            tally=tally.tally_round(responses, electorate, policy, carried),
            objections=tally.track_objections(
                carried,
                responses,
                round_.number,
                reasons={p: r.reason for p, r in stored.items()},
                electorate=electorate,
            ),
        )

    async def store_next_moment(self, proposal: ProposalRecord) -> None:
        """The proposal's next moment changed outside a step (an early close scheduled,
        looked at again or dropped): store it where the one timer looks, and wake it."""
        state = await self.state_of(proposal)
        await self.store.set_due(proposal.id, state.next_deadline)
        if state.next_deadline is not None:
            self.services.wake(state.next_deadline)

    # -- after any step: post what is new, wake the timer for the next deadline ---------------

    async def _after(
        self, proposal: ProposalRecord, step: Step, applied: Applied | None, announce: bool = True
    ) -> None:
        team = await self.services.storage.teams.by_id(proposal.team_id)
        assert team is not None
        if applied is not None and applied.round_id is not None:
            await self.cards.post_card(applied.round_id, team.chat_id)
        if applied is not None and applied.vote_id is not None:
            await self.votes.post_poll(proposal, applied.vote_id, team.chat_id)
        if isinstance(step, RecordDecision) and announce:
            await self.cards.announce_closed(team, proposal, step.outcome)
        if isinstance(step, RecordDecision):
            await self.decided(proposal, step.outcome)
        state = await self.state_of(proposal)
        if state.next_deadline is not None:
            self.services.wake(state.next_deadline)
            if applied is not None and (applied.round_id or applied.vote_id):
                remind = self.reminder_moment(state.policy, state.next_deadline)
                if remind is not None:
                    self.services.wake(remind)

    async def decided(self, proposal: ProposalRecord, outcome: DecisionOutcome) -> None:
        """A Beschluss was recorded: what follows from it for its kind of decision (an
        admission, an appointment, a setting) is done by the hook registered for that kind."""
        hook = self.on_decided.get(DecisionKind(proposal.kind))
        if hook is not None:
            await hook(proposal, outcome)  # hooks are idempotent: a restart may repeat one
        await self.store.mark_effects_done(proposal.id, self.now())

    # -- proposer's requests -----------------------------------------------------------------

    async def revise(
        self, proposal: ProposalRecord, actor_id: int, text: str
    ) -> refusals.Refusal | None:
        state = await self.state_of(proposal)
        now = self.now()
        refusal = course.can_revise(state, proposal.proposer_id == actor_id, now)
        if refusal is not None:
            return refusal
        step = course.after_revision(state, now)
        revised = await self._open_next(
            proposal, state, step, text, actor_id, event="proposal.revised"
        )
        if not revised:
            return refusals.WINDOW_ENDED  # the window's end opened the round first
        return None

    async def _open_next(
        self,
        proposal: ProposalRecord,
        state: ProposalState,
        step: OpenNextRound,
        text: str,
        actor_id: int | None,
        event: str,
    ) -> bool:
        new_state = course.advance(state, step)
        last = await self.services.storage.rounds.current_round(proposal.id)
        carried: tuple[CarriedObjection, ...] = ()
        if last is not None:
            standing = tally.objections_to_carry((await self.round_result(last)).objections)
            carried = tuple(CarriedObjection(o.person, o.reason, o.round_number) for o in standing)
        transition = self.transition(
            new_state,
            step,
            text,
            carried,
            event=event,
            new_text=text if text != proposal.text else None,
        )
        applied = await self.store.transition(
            proposal.id, state.status.value, state.round_number, transition, actor_id, self.now()
        )
        if applied is None:
            return False
        refreshed = await self.store.get(proposal.id)
        assert refreshed is not None
        if text != proposal.text and len(text) > cards.CARD_TEXT_LIMIT:
            team = await self.services.storage.teams.by_id(proposal.team_id)
            assert team is not None
            await self.cards.post_full_text(team, refreshed)  # the new card links the new text
            refreshed = await self.store.get(proposal.id)
            assert refreshed is not None
        await self._after(refreshed, step, applied)
        return True

    async def request_majority(
        self, proposal: ProposalRecord, actor_id: int
    ) -> refusals.Refusal | None:
        state = await self.state_of(proposal)
        refusal = course.can_request_majority(state, proposal.proposer_id == actor_id)
        if refusal is not None:
            return refusal
        now = self.now()
        step = course.after_majority_request(state, now)
        new_state = course.advance(state, step)
        round_ = await self.services.storage.rounds.current_round(proposal.id)
        superseded = None
        if state.status is ProposalStatus.ROUND_OPEN and round_ is not None:
            superseded = (round_.id, None)
        transition = self.transition(
            new_state, step, proposal.text, (), event="vote.requested", close_round=superseded
        )
        applied = await self.store.transition(
            proposal.id, state.status.value, state.round_number, transition, actor_id, now
        )
        if applied is None:
            return refusals.CLOSED
        if round_ is not None:  # the card says the vote runs now, and until when
            await self.cards.refresh_card(round_.id)
        refreshed = await self.store.get(proposal.id)
        assert refreshed is not None
        await self._after(refreshed, step, applied)
        return None

    async def withdraw(self, proposal: ProposalRecord, actor_id: int) -> refusals.Refusal | None:
        state = await self.state_of(proposal)
        refusal = course.can_withdraw(state, proposal.proposer_id == actor_id)
        if refusal is not None:
            return refusal
        if not await self.end(proposal.id, event="proposal.withdrawn", actor_id=actor_id):
            return refusals.CLOSED
        return None

    async def end(
        self, proposal_id: int, event: str, actor_id: int | None = None, *, announce: bool = True
    ) -> bool:
        """End an open decision as Zurückgezogen: by its proposer (/withdraw), or from
        outside (a nomination the candidate declined or the other team rejected). With
        `announce=False` the caller says it in the chat, why included, in its own one message
        (the card is closed either way). True if this call ended it."""
        proposal = await self.store.get(proposal_id)
        if proposal is None or proposal.status == ProposalStatus.CLOSED.value:
            return False
        state = await self.state_of(proposal)
        step = RecordDecision(DecisionOutcome.WITHDRAWN)
        round_ = await self.services.storage.rounds.current_round(proposal.id)
        vote = await self.services.storage.votes.vote_of(proposal.id)
        close_round = (round_.id, None) if round_ and round_.closed_at is None else None
        if vote is not None and vote.closed_at is None:
            await self.services.storage.votes.claim_vote(vote.id, self.now())
        transition = self.transition(
            course.advance(state, step),
            step,
            proposal.text,
            (),
            event=event,
            close_round=close_round,
        )
        applied = await self.store.transition(
            proposal.id, state.status.value, state.round_number, transition, actor_id, self.now()
        )
        if applied is None:
            return False
        if close_round is not None:
            await self.cards.refresh_card(close_round[0])
        refreshed = await self.store.get(proposal.id)
        assert refreshed is not None
        if vote is not None and vote.outcome is None:
            await self.votes.stop_polls(vote.id)
            await self.votes.refresh_card(refreshed, vote.id)  # Zurückgezogen, not the vote
        await self._after(refreshed, step, applied, announce=announce)
        return True

    # -- deadlines and start-up: the one timer's work -----------------------------------------

    async def on_deadline(self, proposal_id: int) -> None:
        """Whatever is due for this proposal now; idempotent, guarded in the database."""
        proposal = await self.store.get(proposal_id)
        if proposal is None or proposal.status == ProposalStatus.CLOSED.value:
            return
        state = await self.state_of(proposal)
        now = self.now()
        due = state.next_deadline
        if due is None:
            return
        if due > now:
            await self.store_next_moment(
                proposal
            )  # the stored one was early (an early close dropped)
            return
        if state.early_close_due(now):
            await self.early_close.when_due(proposal)
        elif state.status is ProposalStatus.ROUND_OPEN:
            round_ = await self.services.storage.rounds.current_round(proposal_id)
            if round_ is not None:
                await self.close_round(proposal_id, round_.id)
        elif state.status is ProposalStatus.AWAITING_REVISION:
            step = course.after_revision_window(state, now)
            await self._open_next(
                proposal, state, step, proposal.text, None, event="round.reopened"
            )
        elif state.status is ProposalStatus.VOTE_OPEN:
            await self.votes.close_vote(proposal_id)

    async def run_due(self) -> None:
        """Handle every deadline that has passed (at start: before polling begins; then from
        the one timer). The due ones only: an indexed query, however much is open. Each is
        one unit of work: the close and everything it posts commit together."""
        for proposal_id in await self.store.due(self.now()):
            async with self.services.storage.unit():
                await self.on_deadline(proposal_id)

    async def member_left(self, team: Team) -> None:
        """Someone left the team: their open rounds may now be complete, cards change."""
        for proposal in await self.store.open_proposals(team.id):
            round_ = await self.services.storage.rounds.current_round(proposal.id)
            if proposal.status == ProposalStatus.ROUND_OPEN.value and round_ is not None:
                await self.responses.round_changed(round_.id)
            elif proposal.status == ProposalStatus.VOTE_OPEN.value:
                vote = await self.services.storage.votes.vote_of(proposal.id)
                if vote is not None and await self.votes.everyone_voted(vote.id):
                    await self.early_close.everyone_responded(proposal.id, None)

    async def chat_migrated(self, team: Team, old_chat_id: int) -> None:
        """A supergroup migration: repost open cards and replace open polls in the new chat
        (answers carry over)."""
        for proposal in await self.store.open_proposals(team.id):
            round_ = await self.services.storage.rounds.current_round(proposal.id)
            if proposal.status == ProposalStatus.ROUND_OPEN.value and round_ is not None:
                await self.cards.post_card(round_.id, team.chat_id)
            if proposal.status == ProposalStatus.VOTE_OPEN.value:
                vote = await self.services.storage.votes.vote_of(proposal.id)
                if vote is not None:
                    await self.votes.post_poll(proposal, vote.id, team.chat_id)


def _early_close_at(
    proposal: ProposalRecord, round_: RoundRecord | None, vote: VoteRecord | None
) -> datetime | None:
    """The early close of the open round or vote, if one is due (kept while a close that a
    stop interrupted is finished)."""
    if proposal.status == ProposalStatus.ROUND_OPEN.value:
        return round_.early_close_at if round_ and round_.outcome is None else None
    if proposal.status == ProposalStatus.VOTE_OPEN.value:
        return vote.early_close_at if vote and vote.outcome is None else None
    return None
