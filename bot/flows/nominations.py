"""UT/KT nominations (SPEC §5): one joint candidate, a decision in the PT and one in the ST
(each by its own process), and the candidate's own yes — in any order. Appointed exactly
once when all three are there; ended when a team rejects or the candidate declines; lapsed
when the candidate has not accepted within `acceptance_window` after the later decision."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.charter.nominations import has_lapsed, ready_to_appoint
from bot.charter.outcomes import DecisionOutcome, approved
from bot.charter.policy import DecisionKind, TeamKind
from bot.charter.refusals import Refusal
from bot.flows import admissions
from bot.flows.payloads import Acceptance, OpenNomination
from bot.flows.port import Button, Keyboard
from bot.services import Services
from bot.texts import naming
from bot.texts.i18n import t
from storage.nominations import Nomination
from storage.people import Person
from storage.proposals import ProposalRecord
from storage.teams import Team

log = logging.getLogger(__name__)

TARGETS = ("UT", "KT")

# What a nomination that ended before an appointment tells, by how it ended: a team whose
# decision on it was still open (and is withdrawn now), a team that had decided, the candidate.
ENDED_TEXTS = {
    "declined": ("nominate.declined_withdrawn", "nominate.declined_note", "nominate.declined_you"),
    "rejected": ("nominate.rejected_withdrawn", "nominate.rejected_note", "nominate.rejected_you"),
}


async def _team(services: Services, kind: str) -> Team | None:
    teams = await services.storage.teams.by_kind(kind)
    return teams[0] if teams else None


async def nominate(
    services: Services,
    team: Team,
    nominator: Person,
    candidate: Person | None,
    username: str | None,
    target: str,
    reason: str,
    deadline: datetime | None,
) -> Nomination:
    """/nominate: the nomination and its two linked decisions, then the candidate is asked."""
    if team.kind not in (TeamKind.PT, TeamKind.ST):
        raise Refusal("nominate.where")
    target = target.upper()
    if target not in TARGETS:
        raise Refusal("nominate.usage")
    target_team = await _team(services, target)
    pt, st = await _team(services, TeamKind.PT.value), await _team(services, TeamKind.ST.value)
    if target_team is None or pt is None or st is None:
        raise Refusal("nominate.teams_missing", target=target)
    if candidate is not None and await services.storage.rosters.is_member(
        target_team.id, candidate.id
    ):
        raise Refusal("nominate.already_member", name=naming.name(candidate), team=target_team)
    open_one = await services.storage.nominations.open_for(
        target,
        candidate.id if candidate else None,
        username or (candidate.username if candidate else None),
    )
    if open_one is not None:
        number = await services.storage.proposals.number_of(open_one.pt_proposal_id)
        raise Refusal("nominate.duplicate", id=number)
    nomination = await services.storage.nominations.create(
        target, candidate.id if candidate else None, username, nominator.id, services.clock.now()
    )
    lang = services.default_language
    name = naming.name(candidate, username=username)
    lines: list[str] = [t(lang, "nominate.title", name=name, team=naming.team(target_team, lang))]
    if reason:
        lines.append(reason)
    if candidate is None or not candidate.started_bot:
        lines.append(
            t(
                lang,
                "nominate.deep_link",
                name=name,
                link=services.outbox.start_link(OpenNomination(nomination.token)),
            )
        )
    text = "\n".join(lines)
    subject = candidate.id if candidate else None
    payload = {"nomination": nomination.id}
    ids = {}
    for deciding in (pt, st):
        proposed = await services.decisions.propose(
            deciding,
            nominator.id,
            text,
            deadline,
            kind=DecisionKind.NOMINATION,
            subject_id=subject,
            payload=payload,
        )
        ids[deciding.kind] = proposed.id
    await services.storage.nominations.set_proposals(nomination.id, ids["PT"], ids["ST"])
    if candidate is not None and candidate.started_bot:
        await ask_candidate(services, nomination.id, candidate)
    log.info("event=nominated nomination=%s target=%s", nomination.id, target)
    found = await services.storage.nominations.get(nomination.id)
    assert found is not None
    return found


async def ask_candidate(services: Services, nomination_id: int, candidate: Person) -> None:
    nomination = await services.storage.nominations.get(nomination_id)
    target_team = await _team(services, nomination.target_kind) if nomination else None
    if nomination is None or target_team is None or candidate.telegram_id is None:
        return
    lang = services.language_for("private", candidate.language_code)
    keyboard = Keyboard.of(
        [
            Button(t(lang, "nominate.accept"), Acceptance(nomination_id, True)),
            Button(t(lang, "nominate.decline"), Acceptance(nomination_id, False)),
        ]
    )
    await services.outbox.send(
        candidate.telegram_id,
        t(lang, "nominate.ask", team=naming.team(target_team, lang)),
        keyboard=keyboard,
    )


async def open_by_deep_link(services: Services, person: Person, token: str) -> str:
    """/start nom_<token>: bind an unseen @username, then ask. Returns a text key to answer
    with, or "" when the question was sent."""
    nomination = await services.storage.nominations.by_token(token)
    if nomination is None or not nomination.is_open:
        return "nominate.link_stale"
    if nomination.candidate_id is None:
        wanted = (nomination.candidate_username or "").lower()
        if not person.username or person.username.lower() != wanted:
            return "nominate.not_for_you"
        target_team = await _team(services, nomination.target_kind)
        if target_team is not None and await services.storage.rosters.is_member(
            target_team.id, person.id
        ):
            return "nominate.already_in"
        await services.storage.nominations.bind_candidate(
            nomination.id, person.id, services.clock.now()
        )
    elif nomination.candidate_id != person.id:
        return "nominate.not_for_you"
    await ask_candidate(services, nomination.id, person)
    return ""


async def answer(services: Services, nomination_id: int, person: Person, accept: bool) -> str:
    """The candidate pressed Annehmen or Ablehnen; returns the text key of the answer."""
    nomination = await services.storage.nominations.get(nomination_id)
    if nomination is None or nomination.candidate_id != person.id:
        return "nominate.not_for_you"
    if not nomination.is_open:
        return "nominate.link_stale"
    if accept:
        await services.storage.nominations.accept(nomination.id, person.id, services.clock.now())
        await appoint_if_approved(services, nomination.id)
        return "nominate.accepted"
    if await services.storage.nominations.close(nomination.id, "declined", services.clock.now()):
        await _end(services, nomination, "declined")
    return "nominate.declined"


async def team_decided(
    services: Services, proposal: ProposalRecord, outcome: DecisionOutcome
) -> None:
    """One team's Beschluss on the nomination (the on-decided hook; safe to repeat)."""
    nomination = await services.storage.nominations.by_proposal(proposal.id)
    team = await services.storage.teams.by_id(proposal.team_id)
    if nomination is None or team is None or not nomination.is_open:
        return
    nomination = await services.storage.nominations.record_team_outcome(
        nomination.id, team.kind, outcome.value, services.clock.now()
    )
    if nomination is None:
        return
    if not approved(outcome):
        if await services.storage.nominations.close(
            nomination.id, "rejected", services.clock.now()
        ):
            await _end(services, nomination, "rejected", rejecting=team)
        return
    await appoint_if_approved(services, nomination.id)
    lapses = await lapse_moment(services, nomination)
    if lapses is not None:
        services.wake(lapses)  # the candidate's window to accept ends


async def appoint_if_approved(services: Services, nomination_id: int) -> None:
    """Appoint if PT and ST approved and the candidate accepted (exactly once)."""
    nomination = await services.storage.nominations.get(nomination_id)
    if nomination is None or not nomination.is_open:
        return
    if not ready_to_appoint(
        both_approved_at=nomination.both_approved_at, accepted_at=nomination.accepted_at
    ):
        return
    target_team = await _team(services, nomination.target_kind)
    candidate = await services.storage.people.by_id(nomination.candidate_id or 0)
    if target_team is None or candidate is None:
        return
    # The roster entry first (it names both decisions), then the close that makes it final
    # exactly once: a crash in between leaves the nomination open, and the next pass
    # (lapse_due at start and every minute) finishes it — the entry is not made twice.
    decided = [
        await services.storage.proposals.number_of(proposal_id)
        for proposal_id in (nomination.pt_proposal_id, nomination.st_proposal_id)
    ]
    await services.storage.rosters.admit(
        target_team.id,
        candidate.id,
        "appointed",
        services.clock.now(),
        body=", ".join([f"#{number}" for number in decided]),
    )
    if not await services.storage.nominations.close(
        nomination.id, "appointed", services.clock.now()
    ):
        return
    log.info("event=appointed nomination=%s", nomination.id)
    await _tell(services, nomination, "nominate.appointed", include_target=True)
    await admissions.invite(services, target_team, candidate)


async def lapse_moment(services: Services, nomination: Nomination) -> datetime | None:
    """When a nomination both teams approved lapses if its candidate does not accept."""
    if nomination.both_approved_at is None or nomination.accepted_at is not None:
        return None
    pt = await _team(services, TeamKind.PT.value)
    window = services.policy(pt, DecisionKind.NOMINATION).acceptance_window if pt else None
    return nomination.both_approved_at + window if window is not None else None


async def lapse_due(services: Services) -> None:
    """Nominations both teams approved whose candidate did not accept in time."""
    now = services.clock.now()
    for nomination in await services.storage.nominations.open_nominations():
        if nomination.both_approved_at is None:
            continue
        if nomination.accepted_at is not None:
            async with services.storage.unit():  # an appointment not made yet
                await appoint_if_approved(services, nomination.id)
            continue
        pt = await _team(services, TeamKind.PT.value)
        window = services.policy(pt, DecisionKind.NOMINATION).acceptance_window if pt else None
        if not has_lapsed(
            both_approved_at=nomination.both_approved_at,
            accepted_at=nomination.accepted_at,
            acceptance_window=window,
            now=now,
        ):
            continue
        async with services.storage.unit():  # the close and what it tells, together
            if await services.storage.nominations.close(nomination.id, "lapsed", now):
                await _tell(services, nomination, "nominate.lapsed")


async def _end(
    services: Services, nomination: Nomination, how: str, rejecting: Team | None = None
) -> None:
    """The nomination ended before an appointment (`how`: "declined" by the candidate, or
    "rejected" by the `rejecting` team): the teams' decisions still open are withdrawn, and
    PT and ST each learn it in one message (SPEC §5) — where their decision was still open,
    that message is the withdrawal too, with why and what now (a group's budget is 20
    messages and edits a minute; the closed card is the other write). The candidate learns
    it privately."""
    candidate = await services.storage.people.by_id(nomination.candidate_id or 0)
    target_team = await _team(services, nomination.target_kind)
    lang = services.default_language
    params: dict[str, object] = {
        "name": naming.name(candidate, username=nomination.candidate_username),
        "team": "",
        **_teams(lang, target_team, rejecting),
    }
    withdrawn_key, note_key, private_key = ENDED_TEXTS[how]
    about = [candidate.id] if candidate is not None else []
    for kind, proposal_id in (
        (TeamKind.PT.value, nomination.pt_proposal_id),
        (TeamKind.ST.value, nomination.st_proposal_id),
    ):
        withdrawn = proposal_id is not None and await services.decisions.end(
            proposal_id, "nomination.ended", announce=False
        )
        team = await _team(services, kind)
        if team is None:
            continue
        if withdrawn:
            number = await services.storage.proposals.number_of(proposal_id)
            text = t(lang, withdrawn_key, id=number, **params)
        else:  # this team had decided already
            text = t(lang, note_key, **params)
        await services.outbox.send(team.chat_id, text, about=about)
    if candidate is not None and candidate.started_bot and candidate.telegram_id is not None:
        private = services.language_for("private", candidate.language_code)
        await services.outbox.send(candidate.telegram_id, t(private, private_key, **params))


async def _tell(
    services: Services,
    nomination: Nomination,
    key: str,
    include_target: bool = False,
    team: Team | None = None,
    **params: object,
) -> None:
    """PT, ST (and the target team where it concerns it) and the candidate learn it; `team`
    is the team the text names (the one that rejected)."""
    candidate = await services.storage.people.by_id(nomination.candidate_id or 0)
    name = naming.name(candidate, username=nomination.candidate_username)
    target_team = await _team(services, nomination.target_kind)
    kinds = [TeamKind.PT.value, TeamKind.ST.value]
    if include_target:
        kinds.append(nomination.target_kind)
    lang = services.default_language
    for kind in kinds:
        chat_team = await _team(services, kind)
        if chat_team is not None:
            await services.outbox.send(
                chat_team.chat_id,
                t(lang, key, name=name, **_teams(lang, target_team, team), **params),
                about=[candidate.id] if candidate is not None else (),
            )
    if candidate is not None and candidate.started_bot and candidate.telegram_id is not None:
        private = services.language_for("private", candidate.language_code)
        await services.outbox.send(
            candidate.telegram_id,
            t(private, key, name=name, **_teams(private, target_team, team), **params),
        )


def _teams(lang: str, target: Team | None, team: Team | None) -> dict[str, str]:
    """The teams a nomination's note names: the target team, and the one that decided."""
    named = {"target": naming.team(target, lang) if target else "?"}
    if team is not None:
        named["team"] = naming.team(team, lang)
    return named


def register(services: Services) -> None:
    async def hook(proposal: ProposalRecord, outcome: DecisionOutcome) -> None:
        await team_decided(services, proposal, outcome)

    services.decisions.on_decided[DecisionKind.NOMINATION] = hook
