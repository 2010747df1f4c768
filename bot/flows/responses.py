"""Responses in a consensus round: a press on the card's buttons (the hot path), the early
close when everyone has responded, and the reasons for Einwand and Bedenken."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.charter.outcomes import REASONED_RESPONSES, Response
from storage.rounds import PressContext, Rounds

if TYPE_CHECKING:
    from bot.flows.decisions import Decisions


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
        storage = self.decisions.services.storage
        now = self.decisions.now()
        context = await self.rounds.record_press(
            round_id, chat_id, person_id, choice.value, update_id, now
        )
        if context is not None:
            found = (round_id, context.proposal_id, context.team_name, _card(context))
            if choice in REASONED_RESPONSES:
                await self.rounds.ask_reason(person_id, round_id, now)
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
                return PressOutcome(result, *found)
            await self.rounds.join_round(round_id, person_id, self.decisions.now())
        recorded = await self.rounds.record_response(
            round_id, person_id, choice.value, update_id, self.decisions.now()
        )
        if recorded is None:
            return PressOutcome(PressResult.CLOSED, *found)
        if recorded is False:
            return PressOutcome(PressResult.STALE, *found)  # a newer press is stored
        if choice in REASONED_RESPONSES:
            await self.rounds.ask_reason(person_id, round_id, self.decisions.now())
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
                await self.decisions.everyone_responded(press.proposal_id, newest)
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

    async def attach_reason(self, round_id: int, person_id: int, reason: str) -> bool:
        round_ = await self.rounds.round(round_id)
        if round_ is None:
            return False
        proposal = await self.decisions.store.get(round_.proposal_id)
        assert proposal is not None
        attached = await self.rounds.set_reason(
            round_id, person_id, reason, self.decisions.now(), proposal.team_id
        )
        # The card shows reasons only for objections carried from an earlier round.
        carried = {c.person_id for c in await self.rounds.carried(round_id)}
        if attached and round_.closed_at is None and person_id in carried:
            await self.decisions.cards.refresh_card(round_id)
        return attached
