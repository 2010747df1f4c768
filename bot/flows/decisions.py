"""The decision engine at work: it carries a proposal through rounds and votes (bot.rules
says what happens; this module makes it happen in storage and in the chat) and keeps every
deadline armed. Nothing here decides what the charter means."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from telegram import Message

from bot.charter import course, outcomes, tally
from bot.charter.course import (
    OpenNextRound,
    OpenRound,
    ProposalState,
    RecordDecision,
    StartVote,
    Step,
)
from bot.charter.outcomes import DecisionOutcome, ProposalStatus, Response
from bot.charter.policy import DecisionKind, policy_from_json, policy_to_json
from bot.charter.tally import Objection
from bot.charter.teams import REMOVED
from bot.telegram_side.outbox import Priority
from bot.texts import cards
from bot.texts.cards import RoundView, title_of
from bot.texts.i18n import Html, t
from bot.texts.render import message_link, shorten
from storage.proposals import (
    Applied,
    CarriedObjection,
    NewRound,
    NewVote,
    PressContext,
    ProposalRecord,
    RoundRecord,
    StateChange,
    StoredResponse,
    Transition,
    VoteResult,
)
from storage.teams import Team

log = logging.getLogger(__name__)

Arm = Callable[[int, datetime], None]
OnDecided = Callable[[ProposalRecord, DecisionOutcome], Awaitable[None]]


class PressResult(StrEnum):
    RECORDED = "recorded"
    ASK_REASON = "ask_reason"
    CLOSED = "closed"
    NOT_MEMBER = "not_member"
    INVALID = "invalid"
    STALE = "stale"
    NEXT_ROUND = "next_round"


@dataclass(frozen=True, slots=True)
class RoundResult:
    electorate: frozenset[int]
    stored: dict[int, StoredResponse]
    tally: tally.RoundTally
    objections: list[tally.TrackedObjection]


@dataclass(frozen=True, slots=True)
class OpenItem:
    """One line of /open: a proposal, its stage, its next deadline and who has not answered
    (only who has not: that much is public even with show_tally = after_close)."""

    proposal: ProposalRecord
    stage: str  # "round", "revision" or "vote"
    round_number: int
    until: datetime
    missing: list[str]


@dataclass(frozen=True, slots=True)
class PressOutcome:
    result: PressResult
    round_id: int | None = None
    proposal_id: int | None = None
    team_name: str = ""
    card: tuple[int, int] | None = None  # (chat id, message id) of the round's card

    @property
    def counted(self) -> bool:
        return self.result in (PressResult.RECORDED, PressResult.ASK_REASON)


@dataclass
class _RoundChecks:
    """after_press's checks of one round whether everyone has responded."""

    counted: int = 0  # presses that came to after_press
    covered: int = 0  # of those, the ones the newest check started after
    running: asyncio.Event | None = None  # set when the running check is done


def _card(context: PressContext) -> tuple[int, int] | None:
    """(chat id, message id) of the round's card, once it was sent."""
    if context.card_chat_id is None or context.card_message_id is None:
        return None
    return (context.card_chat_id, context.card_message_id)


class Decisions:
    """One per Application; `services` gives storage, outbox, clock and config."""

    def __init__(
        self, services: Any, arm: Arm, confirm_member: Callable[[int, int], Awaitable[bool]]
    ) -> None:
        self.wiq = services
        self.arm = arm  # arm(proposal_id, when): (re)schedule the proposal's deadline job
        self.confirm_member = confirm_member  # (chat_id, telegram_id) -> is in the chat
        # What a recorded Beschluss sets in motion, per kind of decision (bot/appointments.py)
        self.on_decided: dict[DecisionKind, OnDecided] = {}

    @property
    def store(self):  # type: ignore[no-untyped-def]
        return self.wiq.storage.proposals

    def now(self) -> datetime:
        return self.wiq.clock.now()

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
    ) -> int:
        policy = self.wiq.policy(team, kind)
        now = self.now()
        state, step = course.new_proposal(kind, policy, now, deadline)
        transition = self._transition(state, step, text, carried=(), event="proposal.created")
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
            await self._post_full_text(team, proposal)
        await self._after(proposal, step, applied)
        return proposal_id

    async def _post_full_text(self, team: Team, proposal: ProposalRecord) -> None:
        lang = self.wiq.default_language
        text = Html(
            t(lang, "card.full_text", id=proposal.id) + "\n\n" + cards.escape(proposal.text)
        )

        async def remember(message: Message) -> None:
            await self.store.set_full_text(proposal.id, message.chat_id, message.message_id)

        await self.wiq.outbox.send(team.chat_id, text, on_sent=remember)

    # -- the state as the rules see it ------------------------------------------------------

    async def state_of(self, proposal: ProposalRecord) -> ProposalState:
        round_ = await self.store.current_round(proposal.id)
        vote = await self.store.vote_of(proposal.id)
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
        )

    def _transition(
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
        )
        new_round = new_vote = None
        if isinstance(step, OpenRound | OpenNextRound):
            new_round = NewRound(state.round_number, text, step.deadline, carried)
        elif isinstance(step, StartVote):
            new_vote = NewVote(step.deadline)
        return Transition(
            change=change, event=event, new_round=new_round, new_vote=new_vote, **extra
        )

    # -- responses ---------------------------------------------------------------------------

    async def press(
        self,
        round_id: int,
        chat_id: int,
        telegram_id: int,
        person_id: int,
        choice: Response,
        update_id: int,
    ) -> PressOutcome:
        """A button press on a card. Committed before the caller answers it.

        This is the hot path (SPEC §9: every press answered at once): no render, and a press
        by a member of an open round is one statement. Anything else (closed, not in the
        electorate, a newer press stored, a forged round) goes the long way below."""
        now = self.now()
        context = await self.store.record_press(
            round_id, chat_id, person_id, choice.value, update_id, now
        )
        if context is not None:
            found = (round_id, context.proposal_id, context.team_name, _card(context))
            if choice in (Response.OBJECT, Response.CONCERN):
                await self.store.ask_reason(person_id, round_id, now)
                return PressOutcome(PressResult.ASK_REASON, *found)
            return PressOutcome(PressResult.RECORDED, *found)
        context = await self.store.press_context(round_id)
        if context is None or context.chat_id != chat_id:
            return PressOutcome(PressResult.INVALID)
        if context.card_chat_id not in (None, chat_id):
            return PressOutcome(PressResult.INVALID)
        found = (round_id, context.proposal_id, context.team_name, _card(context))
        if context.closed:
            return PressOutcome(PressResult.CLOSED, *found)
        if not await self.store.in_round(round_id, person_id):
            team = await self.wiq.storage.teams.by_id(context.team_id)
            if team is None:
                return PressOutcome(PressResult.INVALID)
            if not await self._joins_open_electorate(team, telegram_id, person_id):
                # Admitted while the round was open: they take part from the next one.
                on_roster = await self.wiq.storage.rosters.is_member(team.id, person_id)
                result = PressResult.NEXT_ROUND if on_roster else PressResult.NOT_MEMBER
                return PressOutcome(result, *found)
            await self.store.join_round(round_id, person_id, self.now())
        recorded = await self.store.record_response(
            round_id, person_id, choice.value, update_id, self.now()
        )
        if recorded is None:
            return PressOutcome(PressResult.CLOSED, *found)
        if recorded is False:
            return PressOutcome(PressResult.STALE, *found)  # a newer press is stored
        if choice in (Response.OBJECT, Response.CONCERN):
            await self.store.ask_reason(person_id, round_id, self.now())
            return PressOutcome(PressResult.ASK_REASON, *found)
        return PressOutcome(PressResult.RECORDED, *found)

    async def after_press(self, press: PressOutcome) -> None:
        """Close early if everyone responded; otherwise show the new state on the card (the
        edit is coalesced and rendered when it goes out).

        One check per round at a time: a press that comes while one runs waits for it, and
        then one check looks at every press that came meanwhile. A burst of presses costs a
        few trips to the database, not one each, and each press is still looked at by a
        check that started after it was stored."""
        if not press.counted or press.round_id is None or press.proposal_id is None:
            return
        round_id = press.round_id
        checks = self._press_checks.setdefault(round_id, _RoundChecks())
        checks.counted += 1
        mine = checks.counted
        while checks.covered < mine:
            if checks.running is not None:
                await checks.running.wait()
                continue
            checks.covered, checks.running = checks.counted, asyncio.Event()
            try:
                # An empty electorate (everyone left) waits for its deadline.
                everyone = await self.store.everyone_responded(round_id)
            except BaseException:
                checks.covered = 0  # those waiting check for themselves
                raise
            finally:
                checks.running.set()
                checks.running = None
            if everyone:
                await self.close_round(press.proposal_id, round_id)
            elif press.card is not None:
                await self._edit_card(press.card[0], press.card[1], round_id)
        idle = checks.running is None and checks.covered >= checks.counted
        if idle and self._press_checks.get(round_id) is checks:
            del self._press_checks[round_id]

    @functools.cached_property
    def _press_checks(self) -> dict[int, _RoundChecks]:
        """after_press's checks, per round, while presses come in."""
        return {}

    async def round_changed(self, round_id: int) -> None:
        """The electorate changed (someone left): maybe everyone left has responded now."""
        round_ = await self.store.round(round_id)
        if round_ is None or round_.closed_at is not None:
            return
        card = None
        if round_.card_chat_id is not None and round_.card_message_id is not None:
            card = (round_.card_chat_id, round_.card_message_id)
        await self.after_press(
            PressOutcome(PressResult.RECORDED, round_id, round_.proposal_id, card=card)
        )

    async def _joins_open_electorate(self, team: Team, telegram_id: int, person_id: int) -> bool:
        """Roster mode `chat`: a confirmed chat member joins the open round (SPEC §3.3)."""
        if team.roster_mode != "chat":
            return False
        departure = await self.wiq.storage.rosters.last_departure(team.id, person_id)
        if departure is not None and departure.left_how == REMOVED:
            return False  # a network admin's /remove is not undone by a press
        if not await self.confirm_member(team.chat_id, telegram_id):
            return False
        await self.wiq.storage.rosters.admit(team.id, person_id, "chat", self.now())
        return True

    async def attach_reason(self, round_id: int, person_id: int, reason: str) -> bool:
        round_ = await self.store.round(round_id)
        if round_ is None:
            return False
        proposal = await self.store.get(round_.proposal_id)
        assert proposal is not None
        attached = await self.store.set_reason(
            round_id, person_id, reason, self.now(), proposal.team_id
        )
        # The card shows reasons only for objections carried from an earlier round.
        carried = {c.person_id for c in await self.store.carried(round_id)}
        if attached and round_.closed_at is None and person_id in carried:
            await self.refresh_card(round_id)
        return attached

    async def open_items(self, team: Team) -> list[OpenItem]:
        items = []
        for proposal in await self.store.open_proposals(team.id):
            status = ProposalStatus(proposal.status)
            if status is ProposalStatus.AWAITING_REVISION and proposal.revision_until:
                items.append(
                    OpenItem(
                        proposal, "revision", proposal.round_number, proposal.revision_until, []
                    )
                )
                continue
            if status is ProposalStatus.VOTE_OPEN:
                vote = await self.store.vote_of(proposal.id)
                assert vote is not None
                electorate = await self.store.vote_electorate(vote.id)
                answered = set(await self.store.ballots(vote.id))
                stage, until = "vote", vote.deadline
            else:
                round_ = await self.store.current_round(proposal.id)
                assert round_ is not None
                electorate = await self.store.round_electorate(round_.id)
                answered = set(await self.store.responses(round_.id))
                stage, until = "round", round_.deadline
            people = await self.wiq.storage.people.by_ids(sorted(electorate - answered))
            missing = sorted(person.display_name for person in people.values())
            items.append(OpenItem(proposal, stage, proposal.round_number, until, missing))
        return items

    # -- the card ----------------------------------------------------------------------------

    async def round_view(self, round_: RoundRecord, closed_outcome: str | None = None) -> RoundView:
        proposal = await self.store.get(round_.proposal_id)
        assert proposal is not None
        result = await self._round_result(round_)
        # The card lists the objections carried from earlier rounds with where they stand;
        # this round's own Einwände show in the tally.
        carried = [o for o in result.objections if o.objection.round_number < round_.number]
        people_ids = set(result.electorate) | set(result.stored)
        people_ids |= {o.objection.person for o in carried}
        if proposal.proposer_id is not None:
            people_ids.add(proposal.proposer_id)
        people = await self.wiq.storage.people.by_ids(sorted(people_ids))
        return RoundView(
            proposal=proposal,
            round=round_,
            policy=policy_from_json(proposal.policy),
            people=people,
            electorate=result.electorate,
            responses=result.stored,
            objections=carried,
            full_text_link=self._link(proposal),
            closed_outcome=closed_outcome,
        )

    def _link(self, proposal: ProposalRecord) -> str | None:
        return message_link(proposal.full_text_chat_id, proposal.full_text_message_id)

    async def refresh_card(self, round_id: int) -> None:
        """Show the round's current state on its card; rendered when the edit goes out."""
        round_ = await self.store.round(round_id)
        if round_ is None or round_.card_message_id is None or round_.card_chat_id is None:
            return
        await self._edit_card(round_.card_chat_id, round_.card_message_id, round_id)

    async def _edit_card(self, chat_id: int, message_id: int, round_id: int) -> None:
        async def render() -> tuple[str, Any]:
            current = await self.store.round(round_id)
            assert current is not None
            closed = (current.outcome or "superseded") if current.closed_at else None
            view = await self.round_view(current, closed_outcome=closed)
            return cards.render_card(view, self.wiq.default_language, self._when)

        await self.wiq.outbox.edit_later(chat_id, message_id, render)

    def _when(self, moment: datetime) -> str:
        return self.wiq.local_datetime(moment, self.wiq.default_language)

    async def post_card(self, round_id: int, chat_id: int) -> None:
        round_ = await self.store.round(round_id)
        assert round_ is not None
        view = await self.round_view(round_)
        text, keyboard = cards.render_card(view, self.wiq.default_language, self._when)
        text = shorten(text)  # a card is one message: its buttons belong to all of it

        async def remember(message: Message) -> None:
            await self.store.set_card(round_id, message.chat_id, message.message_id)

        await self.wiq.outbox.send(chat_id, text, reply_markup=keyboard, on_sent=remember)

    # -- closing a round -------------------------------------------------------------------

    async def close_round(self, proposal_id: int, round_id: int) -> bool:
        """Close the round now (deadline or everyone responded); False if it already was.

        The round is claimed first (no response can come in after that), then its result is
        worked out from what is stored and written with the next step in one transaction."""
        round_ = await self.store.round(round_id)
        if round_ is None or round_.outcome is not None:
            return False
        now = self.now()
        if round_.closed_at is None:
            await self.store.claim_round(round_id, now)
        proposal = await self.store.get(proposal_id)
        if proposal is None:
            return False
        state = await self.state_of(proposal)
        if state.status is not ProposalStatus.ROUND_OPEN or state.round_number != round_.number:
            return False
        result = await self._round_result(round_)
        new_state, step = course.close_round(state, result.tally.outcome, now)
        to_carry = tuple(
            CarriedObjection(o.person, o.reason, o.round_number)
            for o in tally.objections_to_carry(result.objections)
        )
        transition = self._transition(
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
        await self._announce_round(refreshed, round_id)
        await self._after(refreshed, step, applied, announce=False)
        return True

    async def _round_result(self, round_: RoundRecord) -> RoundResult:
        """A round's tally and objections, from what is stored (stable once it is claimed)."""
        electorate = await self.store.round_electorate(round_.id)
        stored = await self.store.responses(round_.id)
        responses = {p: Response(r.choice) for p, r in stored.items()}
        carried = [
            Objection(c.person_id, c.reason, c.first_round)
            for c in await self.store.carried(round_.id)
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

    async def _announce_round(self, proposal: ProposalRecord, round_id: int) -> None:
        """The card's final state and the result message (again after a restart, if the
        crash came first: what is marked announced was sent)."""
        round_ = await self.store.round(round_id)
        assert round_ is not None
        await self.refresh_card(round_id)
        result = await self._round_result(round_)
        team = await self.wiq.storage.teams.by_id(proposal.team_id)
        assert team is not None
        people = await self.wiq.storage.people.by_ids(
            sorted(set(result.stored) | {o.objection.person for o in result.objections})
        )
        lang = self.wiq.default_language
        lines = cards.render_round_result(
            proposal, round_, result.tally, result.stored, result.objections, people, lang
        )
        lines.append(await self._next_text(proposal, lang))

        async def announced(_: Message) -> None:
            await self.store.mark_announced("rounds", round_id, self.now())

        await self.wiq.outbox.send(team.chat_id, Html("\n".join(lines)), on_sent=announced)

    async def _next_text(self, proposal: ProposalRecord, lang: str) -> Html:
        """What happens now, from the proposal's current state."""
        status = ProposalStatus(proposal.status)
        if status is ProposalStatus.CLOSED and proposal.outcome:
            return t(lang, "result.decision", outcome=t(lang, f"outcome.{proposal.outcome}"))
        if status is ProposalStatus.AWAITING_REVISION and proposal.revision_until:
            proposer = await self.wiq.storage.people.by_id(proposal.proposer_id or 0)
            return t(
                lang,
                "result.await_revision",
                id=proposal.id,
                proposer=proposer.display_name if proposer else "?",
                until=self._when(proposal.revision_until),
            )
        if status is ProposalStatus.ROUND_OPEN:
            return t(lang, "result.next_round", round=proposal.round_number)
        if status is ProposalStatus.VOTE_OPEN:
            return t(lang, "result.vote_starts")
        return Html("")

    # -- after any step: post what is new, arm the next deadline -----------------------------

    async def _after(
        self, proposal: ProposalRecord, step: Step, applied: Applied | None, announce: bool = True
    ) -> None:
        team = await self.wiq.storage.teams.by_id(proposal.team_id)
        assert team is not None
        if applied is not None and applied.round_id is not None:
            await self.post_card(applied.round_id, team.chat_id)
        if applied is not None and applied.vote_id is not None:
            await self.post_poll(proposal, applied.vote_id, team.chat_id)
        if isinstance(step, RecordDecision) and announce:
            lang = self.wiq.default_language
            await self.wiq.outbox.send(
                team.chat_id,
                t(
                    lang,
                    "result.closed_by",
                    id=proposal.id,
                    title=proposal.title,
                    outcome=t(lang, f"outcome.{step.outcome.value}"),
                ),
            )
        if isinstance(step, RecordDecision):
            await self._decided(proposal, step.outcome)
        state = await self.state_of(proposal)
        if state.next_deadline is not None:
            self.arm(proposal.id, state.next_deadline)

    async def _decided(self, proposal: ProposalRecord, outcome: DecisionOutcome) -> None:
        """A Beschluss was recorded: what follows from it for its kind of decision (an
        admission, an appointment, a setting) is done by the hook registered for that kind."""
        hook = self.on_decided.get(DecisionKind(proposal.kind))
        if hook is not None:
            await hook(proposal, outcome)  # hooks are idempotent: a restart may repeat one
        await self.store.mark_effects_done(proposal.id, self.now())

    # -- votes -------------------------------------------------------------------------------

    async def post_poll(self, proposal: ProposalRecord, vote_id: int, chat_id: int) -> None:
        lang = self.wiq.default_language
        round_ = await self.store.current_round(proposal.id)
        reply_to = round_.card_message_id if round_ and round_.card_chat_id == chat_id else None
        if round_ is None:
            # Process `majority`: no round, so the proposal's card is posted with the vote.
            vote = await self.store.vote(vote_id)
            proposer = await self.wiq.storage.people.by_id(proposal.proposer_id or 0)
            assert vote is not None
            card = cards.render_vote_card(
                proposal,
                proposer.display_name if proposer else "?",
                self._when(vote.deadline),
                lang,
            )
            delivery = await self.wiq.outbox.send(chat_id, card)
            if delivery.message is not None:
                reply_to = delivery.message.message_id

        async def remember(message: Message) -> None:
            if message.poll is not None:
                await self.store.add_poll(
                    vote_id, message.poll.id, message.chat_id, message.message_id
                )

        kwargs: dict[str, Any] = {
            "chat_id": chat_id,
            "question": cards.poll_question(proposal, lang),
            "options": cards.poll_options(lang),
            "is_anonymous": False,
            "allows_multiple_answers": False,
            "api_kwargs": {"hide_results_until_closes": True},
        }
        if reply_to is not None:
            kwargs["reply_to_message_id"] = reply_to
            kwargs["allow_sending_without_reply"] = True
        await self.wiq.outbox.submit(chat_id, "send_poll", kwargs, Priority.REPLY, on_sent=remember)

    async def ballot(
        self, poll_id: str, telegram_id: int, person_id: int, option_ids: list[int], update_id: int
    ) -> None:
        poll = await self.store.poll(poll_id)
        if poll is None:
            return
        vote = await self.store.vote(poll.vote_id)
        if vote is None or vote.closed_at is not None:
            return
        proposal = await self.store.get(vote.proposal_id)
        assert proposal is not None
        team = await self.wiq.storage.teams.by_id(proposal.team_id)
        assert team is not None
        choice: str | None = None
        if option_ids:
            if len(option_ids) != 1 or not 0 <= option_ids[0] < len(outcomes.BALLOT_OPTIONS):
                return  # cannot come from our poll
            choice = outcomes.BALLOT_OPTIONS[option_ids[0]].value
        electorate = await self.store.vote_electorate(vote.id)
        joins = person_id not in electorate and choice is not None
        if joins and await self._joins_open_electorate(team, telegram_id, person_id):
            await self.store.join_vote(vote.id, person_id, self.now())
        await self.store.record_ballot(vote.id, person_id, choice, update_id, self.now())
        electorate = await self.store.vote_electorate(vote.id)
        ballots = await self.store.ballots(vote.id)
        if tally.everyone_responded(ballots, electorate):
            await self.close_vote(proposal.id)

    async def close_vote(self, proposal_id: int) -> bool:
        """Close the vote now (deadline or everyone voted); claimed first, like a round."""
        vote = await self.store.vote_of(proposal_id)
        if vote is None or vote.outcome is not None:
            return False
        now = self.now()
        if vote.closed_at is None:
            await self.store.claim_vote(vote.id, now)
        proposal = await self.store.get(proposal_id)
        if proposal is None or proposal.status != ProposalStatus.VOTE_OPEN.value:
            return False
        tally = await self._vote_tally(proposal, vote.id)
        step = course.after_vote(tally.outcome)
        state = course.advance(await self.state_of(proposal), step)
        transition = self._transition(
            state,
            step,
            proposal.text,
            (),
            event="vote.closed",
            close_vote=(
                vote.id,
                VoteResult(tally.outcome.value, tally.yes, tally.no, tally.abstain, tally.ignored),
            ),
        )
        applied = await self.store.transition(
            proposal_id, ProposalStatus.VOTE_OPEN.value, None, transition, None, now
        )
        if applied is None:
            return False
        log.info("event=vote_closed proposal=%s outcome=%s", proposal_id, tally.outcome.value)
        refreshed = await self.store.get(proposal_id)
        assert refreshed is not None
        await self._announce_vote(refreshed, vote.id)
        await self._decided(refreshed, step.outcome)
        return True

    async def _vote_tally(self, proposal: ProposalRecord, vote_id: int) -> tally.VoteTally:
        electorate = await self.store.vote_electorate(vote_id)
        ballots = {p: outcomes.Ballot(c) for p, c in (await self.store.ballots(vote_id)).items()}
        return tally.tally_vote(ballots, electorate, policy_from_json(proposal.policy))

    async def _announce_vote(self, proposal: ProposalRecord, vote_id: int) -> None:
        await self._stop_polls(vote_id)
        team = await self.wiq.storage.teams.by_id(proposal.team_id)
        assert team is not None
        tally = await self._vote_tally(proposal, vote_id)

        async def announced(_: Message) -> None:
            await self.store.mark_announced("votes", vote_id, self.now())

        lang = self.wiq.default_language
        await self.wiq.outbox.send(
            team.chat_id, cards.render_vote_result(proposal, tally, lang), on_sent=announced
        )

    async def _stop_polls(self, vote_id: int) -> None:
        """The bot closes its polls itself, so that Telegram's poll and the record agree."""
        for poll in await self.store.polls(vote_id):
            if poll.active:
                await self.wiq.outbox.submit(
                    poll.chat_id,
                    "stop_poll",
                    {"chat_id": poll.chat_id, "message_id": poll.message_id},
                    Priority.REPLY,
                )

    # -- proposer's requests -----------------------------------------------------------------

    async def revise(
        self, proposal: ProposalRecord, actor_id: int, text: str
    ) -> outcomes.Refusal | None:
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
            return outcomes.Refusal.WINDOW_ENDED  # the window's end opened the round first
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
        last = await self.store.current_round(proposal.id)
        carried: tuple[CarriedObjection, ...] = ()
        if last is not None:
            standing = tally.objections_to_carry((await self._round_result(last)).objections)
            carried = tuple(CarriedObjection(o.person, o.reason, o.round_number) for o in standing)
        transition = self._transition(
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
            team = await self.wiq.storage.teams.by_id(proposal.team_id)
            assert team is not None
            await self._post_full_text(team, refreshed)  # the new card links the new text
            refreshed = await self.store.get(proposal.id)
            assert refreshed is not None
        await self._after(refreshed, step, applied)
        return True

    async def request_majority(
        self, proposal: ProposalRecord, actor_id: int
    ) -> outcomes.Refusal | None:
        state = await self.state_of(proposal)
        refusal = course.can_request_majority(state, proposal.proposer_id == actor_id)
        if refusal is not None:
            return refusal
        now = self.now()
        step = course.after_majority_request(state, now)
        new_state = course.advance(state, step)
        round_ = await self.store.current_round(proposal.id)
        superseded = None
        if state.status is ProposalStatus.ROUND_OPEN and round_ is not None:
            superseded = (round_.id, None)
        transition = self._transition(
            new_state, step, proposal.text, (), event="vote.requested", close_round=superseded
        )
        applied = await self.store.transition(
            proposal.id, state.status.value, state.round_number, transition, actor_id, now
        )
        if applied is None:
            return outcomes.Refusal.CLOSED
        if superseded is not None:
            await self.refresh_card(superseded[0])
        refreshed = await self.store.get(proposal.id)
        assert refreshed is not None
        await self._after(refreshed, step, applied)
        return None

    async def withdraw(self, proposal: ProposalRecord, actor_id: int) -> outcomes.Refusal | None:
        state = await self.state_of(proposal)
        refusal = course.can_withdraw(state, proposal.proposer_id == actor_id)
        if refusal is not None:
            return refusal
        if not await self.end(proposal.id, event="proposal.withdrawn", actor_id=actor_id):
            return outcomes.Refusal.CLOSED
        return None

    async def end(self, proposal_id: int, event: str, actor_id: int | None = None) -> bool:
        """End an open decision as Zurückgezogen: by its proposer (/withdraw), or from
        outside (a nomination the candidate declined or the other team rejected)."""
        proposal = await self.store.get(proposal_id)
        if proposal is None or proposal.status == ProposalStatus.CLOSED.value:
            return False
        state = await self.state_of(proposal)
        step = RecordDecision(DecisionOutcome.WITHDRAWN)
        round_ = await self.store.current_round(proposal.id)
        vote = await self.store.vote_of(proposal.id)
        close_round = (round_.id, None) if round_ and round_.closed_at is None else None
        if vote is not None and vote.closed_at is None:
            await self.store.claim_vote(vote.id, self.now())
        transition = self._transition(
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
            await self.refresh_card(close_round[0])
        if vote is not None and vote.outcome is None:
            await self._stop_polls(vote.id)
        refreshed = await self.store.get(proposal.id)
        assert refreshed is not None
        await self._after(refreshed, step, applied)
        return True

    # -- deadlines ---------------------------------------------------------------------------

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
            self.arm(proposal_id, due)
            return
        if state.status is ProposalStatus.ROUND_OPEN:
            round_ = await self.store.current_round(proposal_id)
            if round_ is not None:
                await self.close_round(proposal_id, round_.id)
        elif state.status is ProposalStatus.AWAITING_REVISION:
            step = course.after_revision_window(state, now)
            await self._open_next(
                proposal, state, step, proposal.text, None, event="round.reopened"
            )
        elif state.status is ProposalStatus.VOTE_OPEN:
            await self.close_vote(proposal_id)

    async def run_due(self) -> None:
        """Handle every deadline that has passed (at start: before polling begins)."""
        for proposal in await self.store.open_proposals():
            await self.on_deadline(proposal.id)

    async def finish_interrupted(self) -> None:
        """At start: what a crash interrupted after a commit is done now — a result not yet
        posted, a poll not yet stopped, a Beschluss whose consequences were not carried out."""
        for round_ in await self.store.unannounced_rounds():
            proposal = await self.store.get(round_.proposal_id)
            if proposal is not None:
                await self._announce_round(proposal, round_.id)
        for vote in await self.store.unannounced_votes():
            proposal = await self.store.get(vote.proposal_id)
            if proposal is not None:
                await self._announce_vote(proposal, vote.id)
        for proposal in await self.store.effects_pending():
            if proposal.outcome:
                await self._decided(proposal, DecisionOutcome(proposal.outcome))

    async def rearm_all(self) -> None:
        """At start: arm every open deadline, and post a card or poll that never went out
        (the bot stopped between committing a round or vote and sending it)."""
        for proposal in await self.store.open_proposals():
            team = await self.wiq.storage.teams.by_id(proposal.team_id)
            assert team is not None
            if proposal.status == ProposalStatus.ROUND_OPEN.value:
                round_ = await self.store.current_round(proposal.id)
                if round_ is not None and round_.card_message_id is None:
                    await self.post_card(round_.id, team.chat_id)
            elif proposal.status == ProposalStatus.VOTE_OPEN.value:
                vote = await self.store.vote_of(proposal.id)
                if vote is not None and not await self.store.polls(vote.id):
                    await self.post_poll(proposal, vote.id, team.chat_id)
            state = await self.state_of(proposal)
            if state.next_deadline is not None:
                self.arm(proposal.id, state.next_deadline)

    async def member_left(self, team: Team) -> None:
        """Someone left the team: their open rounds may now be complete, cards change."""
        for proposal in await self.store.open_proposals(team.id):
            round_ = await self.store.current_round(proposal.id)
            if proposal.status == ProposalStatus.ROUND_OPEN.value and round_ is not None:
                await self.round_changed(round_.id)
            elif proposal.status == ProposalStatus.VOTE_OPEN.value:
                vote = await self.store.vote_of(proposal.id)
                if vote is not None:
                    electorate = await self.store.vote_electorate(vote.id)
                    ballots = await self.store.ballots(vote.id)
                    if tally.everyone_responded(ballots, electorate):
                        await self.close_vote(proposal.id)

    # -- a supergroup migration ------------------------------------------------------------

    async def chat_migrated(self, team: Team, old_chat_id: int) -> None:
        """Repost open cards and replace open polls in the new chat (answers carry over)."""
        for proposal in await self.store.open_proposals(team.id):
            round_ = await self.store.current_round(proposal.id)
            if proposal.status == ProposalStatus.ROUND_OPEN.value and round_ is not None:
                await self.post_card(round_.id, team.chat_id)
            if proposal.status == ProposalStatus.VOTE_OPEN.value:
                vote = await self.store.vote_of(proposal.id)
                if vote is not None:
                    await self.post_poll(proposal, vote.id, team.chat_id)
