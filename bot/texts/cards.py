"""Rendering of what a decision looks like in the chat: the round's card, the vote's poll,
and the result messages. One renderer per message; texts from the catalogue."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.charter.outcomes import BALLOT_OPTIONS, DecisionOutcome, ProposalStatus, Response
from bot.charter.policy import Policy, ShowTally
from bot.charter.tally import RoundTally, TrackedObjection, VoteTally
from bot.texts.i18n import Html, escape, t
from bot.texts.naming import name
from bot.texts.render import shorten_plain
from storage.people import Person
from storage.proposals import ProposalRecord
from storage.rounds import RoundRecord, StoredResponse

CARD_TEXT_LIMIT = 1500  # longer texts are shortened on the card and posted in full
TITLE_LIMIT = 80
REASON_ON_CARD = 200  # the result message gives reasons in full
POLL_QUESTION_LIMIT = 300
CHOICES = (Response.AGREE, Response.CONCERN, Response.ABSTAIN, Response.OBJECT)

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


MAX_NAMES = 30  # a card of a large team lists the first names and counts the rest


def names(people: Mapping[int, Person], person_ids: Iterable[int], lang: str) -> str:
    listed = sorted(name(people.get(p)) for p in person_ids)
    if len(listed) <= MAX_NAMES:
        return ", ".join(listed)
    rest = len(listed) - MAX_NAMES
    return ", ".join(listed[:MAX_NAMES]) + " " + t(lang, "card.more", count=rest)


def render_card(view: RoundView, lang: str, when: FormatTime) -> Html:
    """The card's text; its buttons (while the round is open) are the flow's to add."""
    proposal, round_ = view.proposal, view.round
    lines: list[str] = [
        t(
            lang,
            "card.header",
            id=proposal.id,
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
    counted = {p: r for p, r in view.responses.items() if p in view.electorate}
    missing = view.electorate - counted.keys()
    lines.append("")
    show = view.policy.show_tally is ShowTally.LIVE or view.closed_outcome is not None
    if show:
        counts = {choice: 0 for choice in CHOICES}
        for response in counted.values():
            counts[Response(response.choice)] += 1
        lines.append(
            t(
                lang,
                "card.tally",
                agree=counts[Response.AGREE],
                concern=counts[Response.CONCERN],
                abstain=counts[Response.ABSTAIN],
                object=counts[Response.OBJECT],
                electorate=len(view.electorate),
            )
        )
        for choice in CHOICES:
            chose = [p for p, r in counted.items() if r.choice == choice.value]
            if chose:
                lines.append(
                    t(
                        lang,
                        "card.who",
                        choice=t(lang, f"choice.{choice.value}"),
                        names=names(view.people, chose, lang),
                    )
                )
    else:
        lines.append(
            t(lang, "card.tally_hidden", responded=len(counted), electorate=len(view.electorate))
        )
    if missing:
        lines.append(t(lang, "card.missing", names=names(view.people, missing, lang)))
    if view.closed_outcome is not None:
        lines.append("")
        lines.append(
            t(lang, "card.closed", outcome=t(lang, f"round_outcome.{view.closed_outcome}"))
        )
    return Html("\n".join(lines))


def choice_label(choice: Response, lang: str) -> Html:
    """A card's button: Zustimmung, Bedenken, Enthaltung, Einwand."""
    return t(lang, f"choice.{choice.value}")


def render_full_text(proposal: ProposalRecord, lang: str) -> Html:
    """A text too long for the card, posted in full before it (the card links it)."""
    return Html(t(lang, "card.full_text", id=proposal.id) + "\n\n" + escape(proposal.text))


def render_vote_card(proposal: ProposalRecord, proposer: str, deadline: str, lang: str) -> Html:
    """The card of a proposal that goes straight to the vote (process `majority`)."""
    lines: list[str] = [
        t(lang, "card.vote_header", id=proposal.id),
        Html(f"<b>{escape(title_of(proposal.text))}</b>"),
    ]
    body = body_after_title(proposal.text)
    if body:
        lines.append(escape(shorten_plain(body, CARD_TEXT_LIMIT)))
    lines.append(t(lang, "card.meta", proposer=proposer, deadline=deadline))
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
            id=proposal.id,
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
    (`proposer` and `until` matter while it waits for a revision)."""
    status = ProposalStatus(proposal.status)
    if status is ProposalStatus.CLOSED and proposal.outcome:
        return t(lang, "result.decision", outcome=t(lang, f"outcome.{proposal.outcome}"))
    if status is ProposalStatus.AWAITING_REVISION and proposal.revision_until:
        return t(lang, "result.await_revision", id=proposal.id, proposer=proposer, until=until)
    if status is ProposalStatus.ROUND_OPEN:
        return t(lang, "result.next_round", round=proposal.round_number)
    if status is ProposalStatus.VOTE_OPEN:
        return t(lang, "result.vote_starts")
    return Html("")


def render_closed_by(proposal: ProposalRecord, outcome: DecisionOutcome, lang: str) -> Html:
    """A decision recorded without a round's or vote's result (withdrawn, ended)."""
    return t(
        lang,
        "result.closed_by",
        id=proposal.id,
        title=proposal.title,
        outcome=t(lang, f"outcome.{outcome.value}"),
    )


def render_vote_result(proposal: ProposalRecord, tally: VoteTally, lang: str) -> Html:
    lines: list[str] = [
        t(
            lang,
            "result.vote",
            id=proposal.id,
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


def poll_question(proposal: ProposalRecord, lang: str) -> str:
    prefix = t(lang, "poll.question", id=proposal.id)
    title = title_of(proposal.text)
    if body_after_title(proposal.text) and not title.endswith("…"):
        title += " …"  # the card, which the poll replies to, holds the full text
    return f"{prefix} {shorten_plain(title, POLL_QUESTION_LIMIT - len(prefix) - 1)}"


def poll_options(lang: str) -> list[str]:
    return [t(lang, f"ballot.{ballot.value}") for ballot in BALLOT_OPTIONS]
