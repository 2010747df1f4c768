"""A round in the team chat: its card (posted with the buttons to respond, edited as
responses come in, closed with its outcome), the full text of a long proposal, and the
messages that say what a round or a decision came to. The texts are bot.texts.cards'."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from bot.charter.outcomes import DecisionOutcome, ProposalStatus
from bot.charter.policy import RosterMode, policy_from_json
from bot.flows.payloads import Press
from bot.flows.port import (
    Button,
    CardPosted,
    FullTextPosted,
    Keyboard,
    Posted,
    Priority,
    RoundAnnounced,
    RoundCard,
    RoundResult,
)
from bot.texts import cards, naming
from bot.texts.cards import RoundView
from bot.texts.i18n import Html
from bot.texts.render import message_link, shorten
from storage.proposals import ProposalRecord
from storage.rounds import RoundRecord
from storage.teams import Team

if TYPE_CHECKING:
    from bot.flows.decisions import Decisions
    from bot.services import Services

# An @username in a text someone typed (Telegram's: 5 to 32 letters, digits, underscores).
HANDLE = re.compile(r"(?<![\w@])@(\w{5,32})(?!\w)", re.ASCII)


async def proposal_people(
    services: Services,
    proposal: ProposalRecord,
    others: Iterable[int | None] = (),
    texts: Iterable[str] = (),
) -> list[int]:
    """The people a message about the proposal names (its `about`, kept with the queued
    message for /forgetme): its proposer, the person it is about, whoever its title and text
    (and `texts`, a round's version) name by @username, and `others`."""
    found = {p for p in (proposal.proposer_id, proposal.subject_id, *others) if p is not None}
    for handle in sorted(set(HANDLE.findall("\n".join((proposal.title, proposal.text, *texts))))):
        person = await services.storage.people.by_username(handle)
        if person is not None:
            found.add(person.id)
    return sorted(found)


def press_keyboard(round_id: int, lang: str) -> Keyboard:
    """The card's buttons: Zustimmung · Bedenken · Enthaltung · Einwand."""
    return Keyboard.of(
        [
            Button(cards.choice_label(choice, lang), Press(round_id, choice))
            for choice in cards.CHOICES
        ]
    )


class RoundCards:
    """The cards and result messages of one engine's rounds (`decisions.cards`)."""

    def __init__(self, decisions: Decisions) -> None:
        self.decisions = decisions

    @property
    def lang(self) -> str:
        return self.decisions.services.default_language

    async def round_view(self, round_: RoundRecord, closed_outcome: str | None = None) -> RoundView:
        services = self.decisions.services
        proposal = await services.storage.proposals.get(round_.proposal_id)
        assert proposal is not None
        result = await self.decisions.round_result(round_)
        # The card lists the objections carried from earlier rounds with where they stand;
        # this round's own Einwände show in the tally.
        carried = [o for o in result.objections if o.objection.round_number < round_.number]
        people_ids = set(result.electorate) | set(result.stored)
        people_ids |= {o.objection.person for o in carried}
        if proposal.proposer_id is not None:
            people_ids.add(proposal.proposer_id)
        people = await services.storage.people.by_ids(sorted(people_ids))
        team = await services.storage.teams.by_id(proposal.team_id)
        return RoundView(
            proposal=proposal,
            round=round_,
            policy=policy_from_json(proposal.policy),
            people=people,
            electorate=result.electorate,
            responses=result.stored,
            objections=carried,
            full_text_link=message_link(proposal.full_text_chat_id, proposal.full_text_message_id),
            closed_outcome=closed_outcome,
            vote=await services.storage.votes.vote_of(proposal.id),
            chat_roster=team is not None and team.roster_mode == RosterMode.CHAT,
        )

    async def _render(
        self, round_: RoundRecord, closed_outcome: str | None = None
    ) -> tuple[Html, Keyboard | None]:
        """The card's text, and its buttons while the round is open."""
        view = await self.round_view(round_, closed_outcome)
        text = cards.render_card(view, self.lang, self.decisions.when)
        keyboard = press_keyboard(round_.id, self.lang) if closed_outcome is None else None
        return text, keyboard

    async def post_card(self, round_id: int, chat_id: int) -> None:
        """A round's new card, rendered when it goes out: it shows the round as it is then,
        and links the full text of a long proposal, which goes out before it (it is queued
        first, in the same unit of work, and has no message id until then)."""
        await self.decisions.services.outbox.send_later(
            chat_id, RoundCard(round_id), priority=Priority.REPLY, on_posted=CardPosted(round_id)
        )

    async def refresh_card(self, round_id: int) -> None:
        """Show the round's current state on its card; rendered when the edit goes out."""
        round_ = await self.decisions.services.storage.rounds.round(round_id)
        if round_ is None or round_.card_message_id is None or round_.card_chat_id is None:
            return
        await self.edit_card(round_.card_chat_id, round_.card_message_id, round_id)

    async def edit_card(self, chat_id: int, message_id: int, round_id: int) -> None:
        await self.decisions.services.outbox.edit_later(chat_id, message_id, RoundCard(round_id))

    async def render_current(self, round_id: int) -> tuple[Html, Keyboard | None] | None:
        """The card of a round as it is now (what a waiting edit shows when it goes out)."""
        current = await self.decisions.services.storage.rounds.round(round_id)
        if current is None:
            return None
        closed = (current.outcome or "superseded") if current.closed_at else None
        text, keyboard = await self._render(current, closed)
        return Html(shorten(text)), keyboard  # a card is one message: its buttons belong to all

    async def post_full_text(self, team: Team, proposal: ProposalRecord) -> None:
        """A text too long for the card goes out in full first; the card links it."""
        services = self.decisions.services
        await services.outbox.send(
            team.chat_id,
            cards.render_full_text(proposal, self.lang),
            on_posted=FullTextPosted(proposal.id),
            about=await proposal_people(services, proposal),
        )

    async def announce_round(self, proposal: ProposalRecord, round_id: int) -> None:
        """The card's final state and the result message (again after a restart, if the
        crash came first: what is marked announced was sent). Once it is posted, `announced`
        records where it went (bot.flows.posting)."""
        services = self.decisions.services
        round_ = await services.storage.rounds.round(round_id)
        assert round_ is not None
        await self.refresh_card(round_id)
        team = await services.storage.teams.by_id(proposal.team_id)
        assert team is not None
        next_step = await self._next_step(proposal)
        text, named = await self._result(round_, next_step)
        await services.outbox.send(
            team.chat_id,
            text,
            on_posted=RoundAnnounced(round_id, next_step),
            about=await proposal_people(services, proposal, named, [round_.text]),
        )

    async def announced(self, round_id: int, next_step: str, post: Posted) -> None:
        """The result is posted: the round is announced, and where it went is kept with the
        line it ended with, so that a reason that comes later edits it in place."""
        rounds = self.decisions.services.storage.rounds
        await rounds.mark_announced(
            round_id, self.decisions.now(), post.chat_id, post.message_id, next_step
        )
        # A reason that came while the result waited for its turn (or was on its way) is not
        # in what went out: the message is brought up to date. (This runs inside the chat's
        # flush; the edit is taken by that flush.)
        current = await rounds.round(round_id)
        if current is not None and await self.result_text(current, next_step) != post.text:
            await self.update_result(round_id)

    async def result_text(self, round_: RoundRecord, next_step: str) -> Html:
        """A closed round's result message, from what is stored, ending with `next_step`
        (what happened next, as it was when the round closed)."""
        return (await self._result(round_, next_step))[0]

    async def _result(self, round_: RoundRecord, next_step: str) -> tuple[Html, list[int]]:
        """The result message, and the people it may name."""
        services = self.decisions.services
        proposal = await services.storage.proposals.get(round_.proposal_id)
        assert proposal is not None
        result = await self.decisions.round_result(round_)
        people = await services.storage.people.by_ids(
            sorted(set(result.stored) | {o.objection.person for o in result.objections})
        )
        lines = cards.render_round_result(
            proposal, round_, result.tally, result.stored, result.objections, people, self.lang
        )
        lines.append(next_step)
        return Html("\n".join(lines)), sorted(people)

    async def update_result(self, round_id: int) -> None:
        """Edit a posted result in place to what is stored now (a reason that came after the
        close, SPEC §3.4); rendered when the edit goes out (`render_result`). Nothing while
        it is not posted: then it goes out as it is by then."""
        round_ = await self.decisions.services.storage.rounds.round(round_id)
        if round_ is None or round_.result_chat_id is None or round_.result_message_id is None:
            return
        await self.decisions.services.outbox.edit_later(
            round_.result_chat_id, round_.result_message_id, RoundResult(round_id)
        )

    async def render_result(self, round_id: int) -> tuple[Html, Keyboard | None] | None:
        """A posted result as it is now (what a waiting edit of it shows when it goes out)."""
        current = await self.decisions.services.storage.rounds.round(round_id)
        if current is None:
            return None
        return await self.result_text(current, current.result_next_step or ""), None

    async def _next_step(self, proposal: ProposalRecord) -> Html:
        """What happens now, from the proposal's current state: who may revise until when,
        or until when the majority vote runs."""
        storage = self.decisions.services.storage
        proposer, until = "", ""
        status = ProposalStatus(proposal.status)
        if status is ProposalStatus.AWAITING_REVISION and proposal.revision_until is not None:
            person = await storage.people.by_id(proposal.proposer_id or 0)
            proposer, until = naming.name(person), self.decisions.when(proposal.revision_until)
        elif status is ProposalStatus.VOTE_OPEN:
            vote = await storage.votes.vote_of(proposal.id)
            until = self.decisions.when(vote.deadline) if vote is not None else ""
        return cards.render_next_step(proposal, proposer, until, self.lang)

    async def announce_closed(
        self, team: Team, proposal: ProposalRecord, outcome: DecisionOutcome
    ) -> None:
        """A decision recorded without a round's or vote's result (withdrawn, ended)."""
        services = self.decisions.services
        await services.outbox.send(
            team.chat_id,
            cards.render_closed_by(proposal, outcome, self.lang),
            about=await proposal_people(services, proposal),
        )
