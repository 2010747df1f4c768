"""Proposals in a team chat: /propose, /revise, /majority, /withdraw, /open, /decisions, the
card's buttons, the vote's poll answers, and the reasons for Einwand and Bedenken."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from telegram import Update

from bot.charter import course
from bot.charter.deadline_input import MAX_AHEAD, take_deadline
from bot.charter.outcomes import REASONED_RESPONSES, ProposalStatus, Response
from bot.charter.policy import DecisionKind, TeamKind
from bot.charter.refusals import Refusal
from bot.flows import elections, support
from bot.flows.decisions import Decisions
from bot.flows.open_items import open_items
from bot.flows.payloads import GiveReason, Press
from bot.flows.responses import PressOutcome, PressResult, ReasonOutcome, ReasonResult
from bot.flows.round_cards import proposal_people
from bot.telegram_side import callbacks
from bot.texts import cards, naming
from bot.texts.i18n import Html, t
from handlers.common import (
    Context,
    answer_query,
    bound_team,
    current_person,
    lang_of,
    refuse,
    reply,
    reply_html,
    services_of,
)
from storage.proposals import ProposalRecord
from storage.teams import Team

log = logging.getLogger(__name__)

MAX_PROPOSAL = 4000
MAX_REASON = 1000
COUNTED_ADMISSIONS = ("appointed", "delegated", "elected", "decision")
_ID = re.compile(r"^#?(\d{1,9})$")


def command_rest(update: Update) -> str:
    """Everything after the command word, line breaks kept."""
    message = update.effective_message
    text = (message.text if message else None) or ""
    parts = text.split(None, 1)
    return parts[1].strip() if len(parts) > 1 else ""


async def member_of(update: Update, context: Context, team: Team) -> int | None:
    """The person's id if they are on the team's roster; otherwise tell them and None."""
    person = await current_person(update, context)
    if person is None:
        return None
    if not await services_of(context).storage.rosters.is_member(team.id, person.id):
        lang = lang_of(update, context)
        await reply(update, context, "proposal.not_member", team=naming.team(team, lang))
        return None
    return person.id


async def leading_deadline(
    update: Update, context: Context, team: Team, kind: DecisionKind
) -> tuple[datetime | None, str] | None:
    """The optional DEADLINE that starts a command's arguments (one word or several: `3d`,
    `3 Tage`, `01.12.2026 18:00`), and the rest; None after telling the person why the
    deadline cannot be used (bot.charter.deadline_input)."""
    services = services_of(context)
    policy = services.policy(team, kind)
    taken = take_deadline(
        command_rest(update),
        services.clock.now(),
        services.network.timezone,
        policy.min_deadline,
    )
    if isinstance(taken, Refusal):
        lang = lang_of(update, context)
        await refuse(
            update,
            context,
            taken,
            min=services.duration(policy.min_deadline, lang),
            max=services.duration(MAX_AHEAD, lang),
            command=typed_command(update),
        )
        return None
    return taken.deadline, taken.rest


def typed_command(update: Update) -> str:
    """The command as the person typed it, without the bot's name: "/vorschlag"."""
    message = update.effective_message
    words = (message.text or "").split() if message else []
    return words[0].partition("@")[0] if words else ""


async def propose(update: Update, context: Context) -> None:
    """A member puts a proposal to the team: /propose [DEADLINE] TEXT."""
    team = await bound_team(update, context)
    if team is None:
        return
    person_id = await member_of(update, context, team)
    if person_id is None:
        return
    services = services_of(context)
    parsed = await leading_deadline(update, context, team, DecisionKind.PROPOSAL)
    if parsed is None:
        return
    deadline, text = parsed
    if not text.strip():
        await reply(update, context, "proposal.usage")
        return
    if len(text) > MAX_PROPOSAL:
        await reply(update, context, "error.too_long", limit=MAX_PROPOSAL)
        return
    await services.decisions.propose(team, person_id, text, deadline)


async def _own_proposal(
    update: Update, context: Context, usage: str, needs_text: bool = False
) -> tuple[Team, ProposalRecord, int, str] | None:
    """Common part of /revise, /majority, /withdraw: the team, the proposal, the person."""
    team = await bound_team(update, context)
    if team is None:
        return None
    rest = command_rest(update)
    first, _, text = rest.partition(" ")
    if "\n" in first:
        first, _, more = first.partition("\n")
        text = more + (" " + text if text else "")
    match = _ID.match(first)
    if match is None or (needs_text and not text.strip()):
        await reply(update, context, usage)
        return None
    proposal = await services_of(context).storage.proposals.numbered(int(match.group(1)))
    if proposal is None or proposal.team_id != team.id:
        await reply(update, context, "proposal.unknown", id=match.group(1))
        return None
    person = await current_person(update, context)
    if person is None:
        return None
    return team, proposal, person.id, text.strip()


async def revise(update: Update, context: Context) -> None:
    """The proposer revises after a failed round: /revise ID TEXT."""
    found = await _own_proposal(update, context, "revise.usage", needs_text=True)
    if found is None:
        return
    _, proposal, person_id, text = found
    if len(text) > MAX_PROPOSAL:
        await reply(update, context, "error.too_long", limit=MAX_PROPOSAL)
        return
    refusal = await services_of(context).decisions.revise(proposal, person_id, text)
    if refusal is not None:
        await refuse(update, context, refusal, id=proposal.number)


async def request_majority(update: Update, context: Context) -> None:
    """The proposer asks for the majority vote early: /majority ID."""
    await _proposers_request(update, context, "majority.usage", lambda d: d.request_majority)


async def withdraw(update: Update, context: Context) -> None:
    """The proposer withdraws: /withdraw ID."""
    await _proposers_request(update, context, "withdraw.usage", lambda d: d.withdraw)


async def _proposers_request(
    update: Update, context: Context, usage: str, action: Callable[[Decisions], Any]
) -> None:
    """/majority and /withdraw: the proposal named by its id, asked for by its proposer."""
    found = await _own_proposal(update, context, usage)
    if found is None:
        return
    _, proposal, person_id, _ = found
    refusal = await action(services_of(context).decisions)(proposal, person_id)
    if refusal is not None:
        await refuse(update, context, refusal, id=proposal.number)


async def list_open(update: Update, context: Context) -> None:
    """What is open in this team, with deadlines and who has not responded: /open."""
    team = await bound_team(update, context)
    if team is None:
        return
    services = services_of(context)
    lang = lang_of(update, context)
    items = await open_items(services, team)
    if not items:
        await reply(update, context, "open.none", team=naming.team(team, lang))
        return
    lines = [t(lang, "open.header", team=naming.team(team, lang))]
    for item in items:
        when = services.local_datetime(item.until, lang)
        lines.append(
            t(
                lang,
                f"open.{item.stage}",
                id=item.proposal.number,
                title=item.proposal.title,
                round=item.round_number,
                deadline=when,
                until=when,
            )
        )
        if item.missing:
            lines.append(t(lang, "open.missing", names=", ".join(item.missing)))
    about = [p for item in items for p in item.missing_ids]
    for item in items:
        about += await proposal_people(services, item.proposal)
    await reply_html(update, context, Html("\n".join(lines)), about=about)


async def list_decisions(update: Update, context: Context) -> None:
    """The team's decisions, newest first: /decisions."""
    team = await bound_team(update, context)
    if team is None:
        return
    services = services_of(context)
    lang = lang_of(update, context)
    decided = await services.storage.proposals.decisions(team.id)
    # Who came in by the charter's ways: appointed, delegated, elected, admitted by decision.
    joined = await services.storage.events.admissions(team.id, COUNTED_ADMISSIONS)
    if not decided and not joined:
        await reply(update, context, "decisions.none", team=naming.team(team, lang))
        return
    lines = [t(lang, "decisions.header", team=naming.team(team, lang))]
    for proposal in decided:
        lines.append(
            t(
                lang,
                "decisions.line",
                id=proposal.number,
                title=proposal.title,
                outcome=t(lang, f"outcome.{proposal.outcome}"),
                date=services.local_date(proposal.closed_at or proposal.created_at, lang),
            )
        )
    if joined:
        people = await services.storage.people.by_ids(
            [e.subject_id for e in joined if e.subject_id]
        )
        lines.append(t(lang, "decisions.joined_header"))
        for event in joined:
            person = people.get(event.subject_id or 0)
            lines.append(
                t(
                    lang,
                    "decisions.joined",
                    name=naming.name(person),
                    how=t(lang, f"members.how.{event.data.get('how')}", by="–", decisions=""),
                    date=services.local_date(event.at, lang),
                )
            )
    about = [e.subject_id for e in joined if e.subject_id]
    for proposal in decided:
        about += await proposal_people(services, proposal)
    await reply_html(update, context, Html("\n".join(lines)), about=about)


async def press_response(update: Update, context: Context) -> None:
    """A member pressed Zustimmung, Bedenken, Enthaltung or Einwand on a card."""
    query = update.callback_query
    assert query is not None
    services = services_of(context)
    lang = lang_of(update, context)
    press = callbacks.decode(query.data)
    message = query.message
    person = await current_person(update, context)
    if not isinstance(press, Press) or message is None or person is None:
        await answer_query(query, t(lang, "press.invalid"), alert=True)
        return
    outcome = await services.decisions.responses.press(
        press.round_id,
        message.chat.id,
        query.from_user.id,
        person.id,
        press.choice,
        update.update_id,
    )
    choice = t(lang, f"choice.{press.choice.value}")
    match outcome.result:
        case PressResult.INVALID:
            await answer_query(query, t(lang, "press.invalid"), alert=True)
            return
        case PressResult.CLOSED:
            await answer_query(query, t(lang, "press.closed"), alert=True)
            return
        case PressResult.NEXT_ROUND:
            await answer_query(query, t(lang, "press.next_round"), alert=True)
            return
        case PressResult.STALE:
            await answer_query(query, t(lang, "press.stale"))
            return
        case PressResult.NOT_MEMBER:
            await answer_query(
                query, t(lang, "press.not_member", team=_team_of(outcome, lang)), alert=True
            )
            return
        case PressResult.ASK_REASON:
            if person.started_bot:
                await answer_query(query, t(lang, "press.reason_private", choice=choice))
                await ask_for_reason(
                    context, person.telegram_id, outcome.proposal_id or 0, press.choice, lang
                )
            else:
                # The bot may not write first: the link opens the private chat, and "Starten"
                # there lands them in the question (/start reason_<round>).
                url = services.outbox.start_link(GiveReason(press.round_id))
                await answer_query(query, t(lang, "press.reason_start", choice=choice), url=url)
        case PressResult.RECORDED:
            await answer_query(query, t(lang, "press.recorded", choice=choice))
    await services.decisions.responses.after_press(outcome)


def _team_of(outcome: PressOutcome, lang: str) -> str:
    """The team a press's person is not on, as a sentence names it."""
    return naming.team(outcome.team, lang) if outcome.team else outcome.team_name


async def ask_for_reason(
    context: Context, telegram_id: int | None, proposal_id: int, choice: Response, lang: str
) -> None:
    """The private question for the reason of an Einwand or Bedenken: which proposal (by its
    title), and that the team will see the reason with the person's name."""
    if telegram_id is None:
        return
    services = services_of(context)
    proposal = await services.storage.proposals.get(proposal_id)
    if proposal is None:
        return
    title = cards.title_of(proposal.text)  # as revised
    await services.outbox.send(
        telegram_id, t(lang, f"reason.ask.{choice.value}", id=proposal.number, title=title)
    )


async def reason_by_deep_link(update: Update, context: Context, round_id: int) -> None:
    """/start reason_<round>: the person came from the card to give their reason."""
    services = services_of(context)
    person = await current_person(update, context)
    lang = lang_of(update, context)
    round_ = await services.storage.rounds.round(round_id)
    if person is None or round_ is None:
        await reply(update, context, "reason.nothing_pending")
        return
    response = (await services.storage.rounds.responses(round_id)).get(person.id)
    if response is None or response.choice not in REASONED_RESPONSES:
        await reply(update, context, "reason.nothing_pending")
        return
    proposal = await services.storage.proposals.get(round_.proposal_id)
    if proposal is not None and not course.takes_reasons(ProposalStatus(proposal.status)):
        await reply_html(
            update,
            context,
            reason_reply(
                lang,
                ReasonOutcome(
                    ReasonResult.DECIDED,
                    proposal.id,
                    round_.number,
                    outcome=proposal.outcome,
                    number=proposal.number,
                ),
            ),
        )
        return
    await services.storage.reasons.ask_reason(person.id, round_id, services.clock.now())
    await ask_for_reason(
        context, person.telegram_id, round_.proposal_id, Response(response.choice), lang
    )


def reason_reply(lang: str, outcome: ReasonOutcome) -> Html:
    """What the person who gave a reason is told: that it is stored, and where it went when
    its round had closed (with a link to the result where the chat has links); or, kindly,
    why nothing was stored."""
    match outcome.result:
        case ReasonResult.SAVED:
            return t(lang, "reason.saved", id=outcome.number)
        case ReasonResult.NOT_APPLICABLE:
            return t(lang, "reason.not_applicable", id=outcome.number or "?")
        case ReasonResult.DECIDED:
            decision = t(lang, f"outcome.{outcome.outcome}") if outcome.outcome else "–"
            return t(lang, "reason.decided", id=outcome.number, outcome=decision)
    found = {"id": outcome.number, "round": outcome.round_number}
    if outcome.result_link:
        lines = [t(lang, "reason.added_late_link", url=outcome.result_link, **found)]
    else:
        lines = [t(lang, "reason.added_late", **found)]
    if outcome.next_round is not None:
        lines.append(t(lang, "reason.added_late_next_round", round=outcome.next_round))
    return Html(" ".join(lines))


async def private_reason(update: Update, context: Context) -> None:
    """A private message: the answer to our question for a reason, if one is open."""
    services = services_of(context)
    person = await current_person(update, context)
    if person is None:
        return
    round_id = await services.storage.reasons.pending_reason(person.id)
    message = update.effective_message
    text = ((message.text if message else None) or "").strip()
    if round_id is None:
        await reply(update, context, "reason.nothing_pending")
        return
    if len(text) > MAX_REASON:
        await reply(update, context, "error.too_long", limit=MAX_REASON)
        return
    outcome = await services.decisions.responses.attach_reason(round_id, person.id, text)
    await reply_html(update, context, reason_reply(lang_of(update, context), outcome))


async def reply_to_card(update: Update, context: Context) -> None:
    """A reply to a card in the group: the reason for the replier's Einwand or Bedenken."""
    message = update.effective_message
    if message is None or message.reply_to_message is None or not message.text:
        return
    services = services_of(context)
    round_ = await services.storage.rounds.round_by_card(
        message.chat_id, message.reply_to_message.message_id
    )
    if round_ is None:
        return
    person = await current_person(update, context)
    if person is None:
        return
    response = (await services.storage.rounds.responses(round_.id)).get(person.id)
    if response is None or response.choice not in REASONED_RESPONSES:
        return  # an ordinary reply in the conversation
    reason = message.text[:MAX_REASON]
    outcome = await services.decisions.responses.attach_reason(round_.id, person.id, reason)
    if outcome.result is ReasonResult.NOT_APPLICABLE:
        return
    await services.outbox.send(
        message.chat_id,
        reason_reply(lang_of(update, context), outcome),
        reply_to=message.message_id,
        silent=True,
    )


async def poll_answer(update: Update, context: Context) -> None:
    """Someone answered (or retracted) a majority vote's poll."""
    answer = update.poll_answer
    if answer is None or answer.user is None or answer.user.is_bot:
        return  # answers on behalf of a chat cannot be attributed to a person
    person = await current_person(update, context)
    if person is None:
        return
    services = services_of(context)
    options = list(answer.option_ids)
    if await elections.ballot(
        services, answer.poll_id, answer.user.id, person, options, update.update_id
    ):
        return
    await services.decisions.votes.ballot(
        answer.poll_id, answer.user.id, person.id, options, update.update_id
    )


async def request_support(update: Update, context: Context) -> None:
    """An LT asks the ST for support: /request_support TEXT."""
    team = await bound_team(update, context)
    if team is None:
        return
    if team.kind != TeamKind.LT:  # where first, whoever asks (SPEC §10)
        await reply(update, context, "support.lt_only")
        return
    person_id = await member_of(update, context, team)
    if person_id is None:
        return
    text = command_rest(update)
    if not text:
        await reply(update, context, "support.usage")
        return
    if len(text) > MAX_PROPOSAL:
        await reply(update, context, "error.too_long", limit=MAX_PROPOSAL)
        return
    try:
        proposal = await support.request_support(services_of(context), team, person_id, text)
    except Refusal as refusal:
        await refuse(update, context, refusal)
        return
    await reply(update, context, "support.sent", id=proposal.number)
