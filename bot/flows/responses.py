"""Responses in a consensus round: a press on the card's buttons (the hot path), the early
close when everyone has responded, and the reasons for Einwand and Bedenken."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.charter.outcomes import REASONED_RESPONSES, ProposalStatus, Response
from bot.texts.render import message_link
from storage.reasons import Reasons
from storage.rounds import PressContext, Rounds
from storage.teams import Team

if TYPE_CHECKING:
    from bot.flows.decisions import Decisions


class ReasonResult(StrEnum):
    SAVED = "saved"  # the round is open: its card and result will show it
    ADDED_LATE = "added_late"  # the round had closed: its result now shows it
    NOT_APPLICABLE = "not_applicable"  # no Einwand or Bedenken of theirs to give it to
    DECIDED = "decided"  # the proposal has its Beschluss: nothing was changed


@dataclass(frozen=True, slots=True)
class ReasonOutcome:
    """What became of a reason, for the person who gave it."""

    result: ReasonResult
    proposal_id: int | None = None
    round_number: int | None = None
    result_link: str | None = None  # the round's result message, where the chat has links
    next_round: int | None = None  # the open round whose card lists it with the objection
    outcome: str | None = None  # the Beschluss, when decided
    number: int | None = None  # the proposal's #N in its network, for the text


class PressResult(StrEnum):
    RECORDED = "recorded"
    ASK_REASON = "ask_reason"
    CLOSED = "closed"
    NOT_MEMBER = "not_member"
    INVALID = "invalid"
    STALE = "stale"
    NEXT_ROUND = "next_round"


@dataclass(frozen=True, slots=True)
class PressOutcome:
    result: PressResult
    round_id: int | None = None
    proposal_id: int | None = None
    team_name: str = ""
    card: tuple[int, int] | None = None  # (chat id, message id) of the round's card
    update_id: int | None = None  # the press's update (None: not a press)
    team: Team | None = None  # the round's team, where the person is not on it

    @property
    def counted(self) -> bool:
        return self.result in (PressResult.RECORDED, PressResult.ASK_REASON)


@dataclass
class _RoundChecks:
    """after_press's checks of one round whether everyone has responded."""

    counted: int = 0  # presses that came to after_press
    covered: int = 0  # of those, the ones the newest check started after
    newest: int | None = None  # the newest update among them
    running: asyncio.Event | None = None  # set when the running check is done


def _card(context: PressContext) -> tuple[int, int] | None:
    """(chat id, message id) of the round's card, once it was sent."""
    if context.card_chat_id is None or context.card_message_id is None:
        return None
    return (context.card_chat_id, context.card_message_id)


class Responses:
    """The responses to the rounds of one engine (`decisions.responses`)."""

    def __init__(self, decisions: Decisions) -> None:
        self.decisions = decisions
        # after_press's checks, per round, while presses come in.
        self._checks: dict[int, _RoundChecks] = {}

    @property
    def rounds(self) -> Rounds:
        return self.decisions.services.storage.rounds

    @property
    def reasons(self) -> Reasons:
        return self.decisions.services.storage.reasons

    async def press(
        self,
        round_id: int,
        chat_id: int,
        telegram_id: int,
        person_id: int,
        choice: Response,
        update_id: int,
    ) -> PressOutcome:
        """A button press on a card. Committed (with the press's unit of work) before the
        caller's answer goes out.

        This is the hot path (SPEC §9: every press answered at once): no render, and a press
        by a member of an open round is one statement. Anything else (closed, not in the
        electorate, a newer press stored, a forged round) goes the long way below."""
        storage = self.decisions.services.storage
        now = self.decisions.now()
        context = await self.rounds.record_press(
            round_id, chat_id, person_id, choice.value, update_id, now
        )
        if context is not None:
            found = (round_id, context.proposal_id, context.team_name, _card(context))
            if choice in REASONED_RESPONSES:
                await self.reasons.ask_reason(person_id, round_id, now)
                return PressOutcome(PressResult.ASK_REASON, *found, update_id=update_id)
            return PressOutcome(PressResult.RECORDED, *found, update_id=update_id)
        context = await self.rounds.press_context(round_id)
        if context is None or context.chat_id != chat_id:
            return PressOutcome(PressResult.INVALID)
        if context.card_chat_id not in (None, chat_id):
            return PressOutcome(PressResult.INVALID)
        found = (round_id, context.proposal_id, context.team_name, _card(context))
        if context.closed:
            return PressOutcome(PressResult.CLOSED, *found)
        if not await self.rounds.in_round(round_id, person_id):
            team = await storage.teams.by_id(context.team_id)
            if team is None:
                return PressOutcome(PressResult.INVALID)
            if not await self.decisions.joins_open_electorate(team, telegram_id, person_id):
                # Admitted while the round was open: they take part from the next one.
                on_roster = await storage.rosters.is_member(team.id, person_id)
                result = PressResult.NEXT_ROUND if on_roster else PressResult.NOT_MEMBER
                return PressOutcome(result, *found, team=team)
            await self.rounds.join_round(round_id, person_id, self.decisions.now())
        recorded = await self.rounds.record_response(
            round_id, person_id, choice.value, update_id, self.decisions.now()
        )
        if recorded is None:
            return PressOutcome(PressResult.CLOSED, *found)
        if recorded is False:
            return PressOutcome(PressResult.STALE, *found)  # a newer press is stored
        if choice in REASONED_RESPONSES:
            await self.reasons.ask_reason(person_id, round_id, self.decisions.now())
            return PressOutcome(PressResult.ASK_REASON, *found, update_id=update_id)
        return PressOutcome(PressResult.RECORDED, *found, update_id=update_id)

    async def after_press(self, press: PressOutcome) -> None:
        """Close early if everyone responded (a grace later, counting every press that came
        before this one: `Decisions.everyone_responded`); otherwise show the new state on the
        card (the edit is coalesced and rendered when it goes out).

        One check per round at a time: a press that comes while one runs waits for it, and
        then one check looks at every press that came meanwhile. A burst of presses costs a
        few trips to the database, not one each, and each press is still looked at by a
        check that started after it was stored."""
        if not press.counted or press.round_id is None or press.proposal_id is None:
            return
        round_id = press.round_id
        checks = self._checks.setdefault(round_id, _RoundChecks())
        checks.counted += 1
        if press.update_id is not None:
            checks.newest = max(checks.newest or 0, press.update_id)
        mine = checks.counted
        while checks.covered < mine:
            if checks.running is not None:
                await checks.running.wait()
                continue
            checks.covered, checks.running = checks.counted, asyncio.Event()
            newest = checks.newest
            try:
                # An empty electorate (everyone left) waits for its deadline.
                everyone = await self.rounds.everyone_responded(round_id)
            except BaseException:
                checks.covered = 0  # those waiting check for themselves
                raise
            finally:
                checks.running.set()
                checks.running = None
            if everyone:
                await self.decisions.early_close.everyone_responded(press.proposal_id, newest)
            elif press.card is not None:
                await self.decisions.cards.edit_card(press.card[0], press.card[1], round_id)
        idle = checks.running is None and checks.covered >= checks.counted
        if idle and self._checks.get(round_id) is checks:
            del self._checks[round_id]

    async def round_changed(self, round_id: int) -> None:
        """The electorate changed (someone left): maybe everyone left has responded now."""
        round_ = await self.rounds.round(round_id)
        if round_ is None or round_.closed_at is not None:
            return
        card = None
        if round_.card_chat_id is not None and round_.card_message_id is not None:
            card = (round_.card_chat_id, round_.card_message_id)
        await self.after_press(
            PressOutcome(PressResult.RECORDED, round_id, round_.proposal_id, card=card)
        )

    async def attach_reason(self, round_id: int, person_id: int, reason: str) -> ReasonOutcome:
        """A reason for the person's Einwand or Bedenken in the round (SPEC §3.4). While the
        round is open the card shows it (for an objection it carries); after the close, and
        until the proposal is decided, it goes into the round's result, edited in place, and
        into the objection the next round carries, on that round's card."""
        round_ = await self.rounds.round(round_id)
        if round_ is None:
            return ReasonOutcome(ReasonResult.NOT_APPLICABLE)
        proposal = await self.decisions.store.get(round_.proposal_id)
        assert proposal is not None
        # Storage checks course.takes_reasons in the write itself (a Beschluss has its
        # outcome), so that a reason and the decision racing cannot both win.
        stored = await self.reasons.set_reason(
            round_id, person_id, reason, self.decisions.now(), proposal.team_id
        )
        found = ReasonOutcome(
            ReasonResult.SAVED, proposal.id, round_.number, number=proposal.number
        )
        if stored.decided:
            decided = await self.decisions.store.get(proposal.id)
            outcome = decided.outcome if decided else None
            return replace(found, result=ReasonResult.DECIDED, outcome=outcome)
        if not stored.attached:
            return replace(found, result=ReasonResult.NOT_APPLICABLE)
        if stored.after_close:
            return await self._after_close(found, round_id, person_id, stored.carried_into)
        # The card shows reasons only for objections carried from an earlier round.
        if person_id in {c.person_id for c in await self.rounds.carried(round_id)}:
            await self.decisions.cards.refresh_card(round_id)
        return found

    async def _after_close(
        self, found: ReasonOutcome, round_id: int, person_id: int, carried_into: tuple[int, ...]
    ) -> ReasonOutcome:
        """A reason stored after its round closed: the round's result is edited in place, and
        so is every later round that carries the objection (its card; its result if it closed
        too). Says where it went."""
        cards = self.decisions.cards
        closed = await self.rounds.round(round_id)
        assert closed is not None
        if person_id in {c.person_id for c in await self.rounds.carried(round_id)}:
            await cards.refresh_card(round_id)  # the closed card lists it too
        next_round: int | None = None
        for later_id in carried_into:
            later = await self.rounds.round(later_id)
            if later is None:
                continue
            await cards.refresh_card(later_id)
            if later.closed_at is None:
                next_round = next_round or later.number
            else:
                await cards.update_result(later_id)
        await cards.update_result(round_id)
        proposal = await self.decisions.store.get(closed.proposal_id)
        closing = (  # claimed, its result still being worked out: it will show the reason
            proposal is not None
            and proposal.status == ProposalStatus.ROUND_OPEN.value
            and proposal.round_number == closed.number
        )
        if closed.outcome is None and not closing:
            # Ended without a result (the vote was asked for): stored and in the record.
            return replace(found, next_round=next_round)
        return replace(
            found,
            result=ReasonResult.ADDED_LATE,
            result_link=message_link(closed.result_chat_id, closed.result_message_id),
            next_round=next_round,
        )
