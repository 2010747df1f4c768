"""Rendering of what a decision looks like in the chat: the round's card, the vote's poll,
and the result messages. One renderer per message; texts from the catalogue."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.charter.outcomes import BALLOT_OPTIONS, DecisionOutcome, ProposalStatus, Response
from bot.charter.policy import Policy, ShowTally
from bot.charter.tally import (
    RoundTally,
    TrackedObjection,
    VoteTally,
    quorum_needed,
    silence_consents,
)
from bot.texts.i18n import Html, escape, t
from bot.texts.naming import name
from bot.texts.render import shorten_plain
from storage.people import Person
from storage.proposals import ProposalRecord
from storage.rounds import RoundRecord, StoredResponse
from storage.votes import VoteRecord

CARD_TEXT_LIMIT = 1500  # longer texts are shortened on the card and posted in full
TITLE_LIMIT = 80
REASON_ON_CARD = 200  # the result message gives reasons in full
POLL_QUESTION_LIMIT = 300
CHOICES = (Response.AGREE, Response.CONCERN, Response.ABSTAIN, Response.OBJECT)
REASONED = (Response.CONCERN, Response.OBJECT)  # the two the card's one line explains

FormatTime = Callable[[datetime], str]


def title_of(text: str) -> str:
    first_line = next((line for line in text.splitlines() if line.strip()), text)
    return shorten_plain(first_line, TITLE_LIMIT)


def body_after_title(text: str) -> str:
    """What the card shows under the bold title: the rest, or all of it if the title had to
    be shortened."""
    stripped = text.strip()
    first, _, rest = stripped.partition("\n")
    if title_of(stripped) != first.strip():
        return stripped
    return rest.strip()


@dataclass(frozen=True, slots=True)
class RoundView:
    """Everything a round's card shows, gathered by the service."""

    proposal: ProposalRecord
    round: RoundRecord
    policy: Policy
    people: Mapping[int, Person]
    electorate: frozenset[int]
    responses: Mapping[int, StoredResponse]
    objections: list[TrackedObjection]
    full_text_link: str | None = None
    closed_outcome: str | None = None
    vote: VoteRecord | None = None  # the proposal's majority vote, once it has one
    chat_roster: bool = False  # roster mode `chat`: who responds from the chat joins


MAX_NAMES = 30  # a card of a large team lists the first names and counts the rest


def names(people: Mapping[int, Person], person_ids: Iterable[int], lang: str) -> str:
    listed = sorted(name(people.get(p)) for p in person_ids)
    if len(listed) <= MAX_NAMES:
        return ", ".join(listed)
    rest = len(listed) - MAX_NAMES
    return ", ".join(listed[:MAX_NAMES]) + " " + t(lang, "card.more", count=rest)


def render_card(view: RoundView, lang: str, when: FormatTime) -> Html:
    """The card's text; its buttons (while the round is open) are the flow's to add.

    Read on a phone: each group once, with its count and its names; one line that says how
    many may respond and how many are needed; while open, one line on Bedenken and Einwand;
    once closed, where the whole proposal stands (the vote and its deadline, the Beschluss)."""
    proposal, round_ = view.proposal, view.round
    lines: list[str] = [
        t(
            lang,
            "card.header",
            id=proposal.number,
            round=round_.number,
            rounds=view.policy.max_consensus_rounds,
        ),
        Html(f"<b>{escape(title_of(round_.text))}</b>"),
    ]
    body = body_after_title(round_.text)
    if len(body) > CARD_TEXT_LIMIT:
        lines.append(escape(shorten_plain(body, CARD_TEXT_LIMIT)))
        if view.full_text_link:
            lines.append(t(lang, "card.full_text_link", url=view.full_text_link))
        else:
            lines.append(t(lang, "card.full_text_above"))
    elif body:
        lines.append(escape(body))
    lines.append(
        t(
            lang,
            "card.meta",
            proposer=name(view.people.get(proposal.proposer_id or 0)),
            deadline=when(round_.deadline),
        )
    )
    if view.objections:
        lines.append("")
        lines.append(t(lang, "card.objections_header"))
        for item in view.objections:
            lines.append(
                t(
                    lang,
                    "card.objection_line",
                    person=name(view.people.get(item.objection.person)),
                    reason=shorten_plain(item.objection.reason, REASON_ON_CARD)
                    if item.objection.reason
                    else t(lang, "result.no_reason"),
                    status=t(lang, f"objection.{item.status.value}"),
                )
            )
    lines.append("")
    lines.extend(_responses(view, lang))
    if view.closed_outcome is None:
        concern, objection = (t(lang, f"choice.{c.value}") for c in REASONED)
        lines.append(t(lang, "card.explain", concern=concern, object=objection))
    else:
        lines.append("")
        lines.extend(_where_it_stands(view, lang, when))
    return Html("\n".join(lines))


def _responses(view: RoundView, lang: str) -> list[str]:
    """Who chose what (each group once: its count and its names), who has not responded,
    and how many responded of how many who may respond now, against what is needed."""
    counted = {p: r for p, r in view.responses.items() if p in view.electorate}
    missing = view.electorate - counted.keys()
    closed = view.closed_outcome is not None
    lines: list[str] = []
    if view.policy.show_tally is ShowTally.LIVE or closed:
        for choice in CHOICES:
            chose = [p for p, r in counted.items() if r.choice == choice.value]
            if chose:
                lines.append(
                    t(
                        lang,
                        "card.group",
                        choice=t(lang, f"choice.{choice.value}"),
                        count=len(chose),
                        names=names(view.people, chose, lang),
                    )
                )
    else:
        lines.append(t(lang, "card.tally_hidden"))
    if missing:
        lines.append(
            t(
                lang,
                "card.missing_closed" if closed else "card.missing",
                count=len(missing),
                names=names(view.people, missing, lang),
            )
        )
    size = len(view.electorate)
    if silence_consents(view.policy):
        count = t(lang, "card.count_consent", responded=len(counted), electorate=size)
    else:
        needed = quorum_needed(view.policy.quorum, size)
        count = t(lang, "card.count", responded=len(counted), electorate=size, quorum=needed)
    if view.chat_roster and not closed:
        count = Html(f"{count} {t(lang, 'card.count_chat')}")
    lines.append(count)
    return lines


def _where_it_stands(view: RoundView, lang: str, when: FormatTime) -> list[str]:
    """A closed round's last lines: how the round ended and, on the proposal's last round,
    where the whole proposal stands — the majority vote until its deadline, the Beschluss
    (by the vote: with its counts)."""
    proposal, vote = view.proposal, view.vote
    outcome = view.closed_outcome
    early = outcome == "superseded"
    ended = t(lang, "card.closed_early") if early else _round_closed(outcome, lang)
    if view.round.number != proposal.round_number:
        return [ended]  # a later round took over: its card tells the rest
    status = ProposalStatus(proposal.status)
    if status is ProposalStatus.VOTE_OPEN and vote is not None:
        return [ended, t(lang, "card.vote_open", deadline=when(vote.deadline))]
    if status is not ProposalStatus.CLOSED or not proposal.outcome:
        return [ended]
    if (vote is not None and vote.outcome is not None) or early or outcome == proposal.outcome:
        return [_decision(proposal, vote, lang)]  # by the vote; withdrawn; Konsens said once
    return [
        t(
            lang,
            "card.decided_after",
            round_outcome=t(lang, f"round_outcome.{outcome}"),
            outcome=t(lang, f"outcome.{proposal.outcome}"),
        )
    ]


def _decision(proposal: ProposalRecord, vote: VoteRecord | None, lang: str) -> Html:
    """The Beschluss as a card shows it: by the majority vote with its counts, or as it is."""
    decision = t(lang, f"outcome.{proposal.outcome}")
    if vote is not None and vote.outcome is not None:
        return t(
            lang,
            "card.decided_by_vote",
            outcome=decision,
            yes=vote.yes or 0,
            no=vote.no or 0,
            abstain=vote.abstain or 0,
        )
    return t(lang, "card.decided", outcome=decision)


def _round_closed(outcome: str | None, lang: str) -> Html:
    return t(lang, "card.closed", outcome=t(lang, f"round_outcome.{outcome}"))


def choice_label(choice: Response, lang: str) -> Html:
    """A card's button: Zustimmung, Bedenken, Enthaltung, Einwand."""
    return t(lang, f"choice.{choice.value}")


def render_full_text(proposal: ProposalRecord, lang: str) -> Html:
    """A text too long for the card, posted in full before it (the card links it)."""
    return Html(t(lang, "card.full_text", id=proposal.number) + "\n\n" + escape(proposal.text))


def render_vote_card(
    proposal: ProposalRecord, vote: VoteRecord, proposer: str, lang: str, when: FormatTime
) -> Html:
    """The card of a proposal that goes straight to the vote (process `majority`): until
    when the vote runs, and once the proposal is decided, its Beschluss."""
    lines: list[str] = [
        t(lang, "card.vote_header", id=proposal.number),
        Html(f"<b>{escape(title_of(proposal.text))}</b>"),
    ]
    body = body_after_title(proposal.text)
    if body:
        lines.append(escape(shorten_plain(body, CARD_TEXT_LIMIT)))
    lines.append(t(lang, "card.meta", proposer=proposer, deadline=when(vote.deadline)))
    if ProposalStatus(proposal.status) is ProposalStatus.CLOSED and proposal.outcome:
        lines.append("")
        lines.append(_decision(proposal, vote, lang))
    return Html("\n".join(lines))


def render_round_result(
    proposal: ProposalRecord,
    round_: RoundRecord,
    tally: RoundTally,
    responses: Mapping[int, StoredResponse],
    objections: list[TrackedObjection],
    people: Mapping[int, Person],
    lang: str,
) -> list[str]:
    """A round's result: outcome, participation, the Bedenken and the Einwände with their
    reasons — a reason that came after the close is marked as added (SPEC §3.4)."""
    lines: list[str] = [
        t(
            lang,
            "result.round",
            id=proposal.number,
            round=round_.number,
            title=title_of(proposal.text),
            outcome=t(lang, f"round_outcome.{tally.outcome.value}"),
        ),
        t(
            lang,
            "result.participation",
            responded=tally.responses,
            electorate=len(tally.responded | tally.missing),
            quorum=tally.quorum_needed,
        ),
    ]

    def reason_line(person: int, reason: str | None, limit: int | None = None) -> Html:
        response = responses.get(person)
        late = (
            reason is not None
            and response is not None
            and response.reason == reason
            and response.reason_at is not None
            and round_.closed_at is not None
            and response.reason_at > round_.closed_at
        )
        shown = reason if reason is None or limit is None else shorten_plain(reason, limit)
        return t(
            lang,
            "result.reason_line_late" if late else "result.reason_line",
            person=name(people.get(person)),
            reason=shown or t(lang, "result.no_reason"),
        )

    concerns = [
        (p, r)
        for p, r in responses.items()
        if r.choice == Response.CONCERN.value and p in tally.responded
    ]
    if concerns:
        lines.append(t(lang, "result.concerns"))
        for person, response in sorted(concerns, key=lambda item: name(people.get(item[0]))):
            lines.append(reason_line(person, response.reason))
    standing = [item for item in objections if item.stands]
    if standing:
        lines.append(t(lang, "result.objections"))
        for item in standing:
            lines.append(reason_line(item.objection.person, item.objection.reason, REASON_ON_CARD))
    return lines


def render_next_step(proposal: ProposalRecord, proposer: str, until: str, lang: str) -> Html:
    """What happens now, under a round's result, from the proposal's current state
    (`proposer` and `until` matter while it waits for a revision; `until` is the vote's
    deadline when the majority vote starts)."""
    status = ProposalStatus(proposal.status)
    if status is ProposalStatus.CLOSED and proposal.outcome:
        return t(lang, "result.decision", outcome=t(lang, f"outcome.{proposal.outcome}"))
    if status is ProposalStatus.AWAITING_REVISION and proposal.revision_until:
        return t(lang, "result.await_revision", id=proposal.number, proposer=proposer, until=until)
    if status is ProposalStatus.ROUND_OPEN:
        return t(lang, "result.next_round", round=proposal.round_number)
    if status is ProposalStatus.VOTE_OPEN:
        return t(lang, "result.vote_starts", deadline=until)
    return Html("")


def render_closed_by(proposal: ProposalRecord, outcome: DecisionOutcome, lang: str) -> Html:
    """A decision recorded without a round's or vote's result (withdrawn, ended)."""
    return t(
        lang,
        "result.closed_by",
        id=proposal.number,
        title=proposal.title,
        outcome=t(lang, f"outcome.{outcome.value}"),
    )


def render_vote_result(proposal: ProposalRecord, tally: VoteTally, lang: str) -> Html:
    lines: list[str] = [
        t(
            lang,
            "result.vote",
            id=proposal.number,
            title=title_of(proposal.text),
            outcome=t(lang, f"outcome.{tally.outcome.value}"),
        ),
        t(
            lang,
            "result.vote_counts",
            yes=tally.yes,
            no=tally.no,
            abstain=tally.abstain,
            cast=tally.cast,
            quorum=tally.quorum_needed,
        ),
    ]
    if tally.ignored:
        lines.append(t(lang, "result.vote_ignored", ignored=tally.ignored))
    return Html("\n".join(lines))


def poll_question(proposal: ProposalRecord, deadline: str, lang: str) -> str:
    """ "Mehrheitsabstimmung zu #7 bis Do., 05.11.2026, 18:00 Uhr: Straßenfest …" — plain
    text (a poll has no HTML), within Telegram's 300 characters."""
    prefix = html.unescape(t(lang, "poll.question", id=proposal.number, deadline=deadline))
    title = title_of(proposal.text)
    if body_after_title(proposal.text) and not title.endswith("…"):
        title += " …"  # the card, which the poll replies to, holds the full text
    return f"{prefix} {shorten_plain(title, POLL_QUESTION_LIMIT - len(prefix) - 1)}"


def poll_options(lang: str) -> list[str]:
    return [t(lang, f"ballot.{ballot.value}") for ballot in BALLOT_OPTIONS]
