"""Admissions decided by a team (SPEC §5): the PT on a declaration of intent (/join), an LT
in roster mode `explicit` on /admit; the invitation into the chat that follows; and the LT's
own settings (/settings), which the LT decides by its current process."""

from __future__ import annotations

import logging

from bot.charter.outcomes import DecisionOutcome, approved
from bot.charter.policy import DecisionKind, Process, RosterMode, TeamKind
from bot.charter.refusals import Refusal
from bot.flows.port import ChatActionFailed
from bot.services import Services
from bot.texts import naming
from bot.texts.i18n import t
from storage.people import Person
from storage.proposals import ProposalRecord
from storage.teams import Team

log = logging.getLogger(__name__)

SETTINGS = {"mode": [m.value for m in RosterMode], "process": [p.value for p in Process]}


async def _no_open_admission(services: Services, team: Team, person: Person) -> None:
    for proposal in await services.storage.proposals.open_proposals(team.id):
        if proposal.kind == DecisionKind.ADMISSION.value and proposal.subject_id == person.id:
            raise Refusal("admission.already_open", id=proposal.id)


async def declare_intent(services: Services, person: Person, text: str) -> int:
    """/join: a person's declaration of intent puts their admission to the PT (consensus
    only, no majority fallback: the charter's "Absichtserklärung und Konsens im PT")."""
    teams = await services.storage.teams.by_kind(TeamKind.PT.value)
    if not teams:
        raise Refusal("join.no_pt")
    pt = teams[0]
    if await services.storage.rosters.is_member(pt.id, person.id):
        raise Refusal("join.already_member", team=pt.name)
    await _no_open_admission(services, pt, person)
    lang = services.default_language
    title = t(lang, "join.title", name=naming.name(person))
    return await services.decisions.propose(
        pt,
        person.id,
        f"{title}\n{text}",
        None,
        kind=DecisionKind.ADMISSION,
        subject_id=person.id,
    )


async def propose_admission(
    services: Services, team: Team, proposer: Person, person: Person
) -> int:
    """/admit in an LT with roster mode `explicit`: the LT decides by its own process."""
    if await services.storage.rosters.is_member(team.id, person.id):
        raise Refusal("admit.already", name=naming.name(person))
    await _no_open_admission(services, team, person)
    lang = services.default_language
    text = t(lang, "admission.title", name=naming.name(person), team=team.name)
    return await services.decisions.propose(
        team, proposer.id, text, None, kind=DecisionKind.ADMISSION, subject_id=person.id
    )


async def propose_setting(
    services: Services, team: Team, proposer: Person, field: str, value: str
) -> int:
    """/settings mode explicit, /settings process majority: the LT decides the change."""
    if team.kind != TeamKind.LT:
        raise Refusal("settings.lt_only")
    if field not in SETTINGS or value not in SETTINGS[field]:
        raise Refusal("settings.usage")
    current = team.roster_mode if field == "mode" else services.policy(team).process.value
    if current == value:
        raise Refusal("settings.unchanged", value=value)
    lang = services.default_language
    text = t(
        lang, f"settings.title.{field}", team=team.name, value=t(lang, f"{_label(field)}.{value}")
    )
    return await services.decisions.propose(
        team,
        proposer.id,
        text,
        None,
        kind=DecisionKind.SETTINGS,
        payload={"field": field, "value": value},
    )


def _label(field: str) -> str:
    return "roster_mode" if field == "mode" else "process"


async def invite(services: Services, team: Team, person: Person) -> None:
    """An invite link that creates a join request, which the bot approves for this person
    only; sent privately, or when the person next opens the bot."""
    if await services.storage.invitations.exists(team.id, person.id):
        return
    invitation_id = await services.storage.invitations.create(
        team.id, person.id, services.clock.now()
    )
    await _make_link(services, invitation_id, team, person)


async def _make_link(services: Services, invitation_id: int, team: Team, person: Person) -> None:
    try:
        link = await services.outbox.create_invite_link(team.chat_id, name=f"wiq-{invitation_id}")
    except ChatActionFailed as exc:
        # Retried by retry_invitations (at start and every minute): nobody loses a seat
        # because Telegram was unreachable for a moment.
        log.warning("event=invite_link_failed team=%s error=%s", team.id, exc)
        return
    await services.storage.invitations.set_link(invitation_id, link)
    await deliver_invitations(services, person)


async def retry_invitations(services: Services) -> None:
    """Invitations whose link could not be made yet."""
    for invitation in await services.storage.invitations.without_link():
        team = await services.storage.teams.by_id(invitation.team_id)
        person = await services.storage.people.by_id(invitation.person_id)
        if team is not None and person is not None:
            async with services.storage.unit():  # the link stored and the invitation's row
                await _make_link(services, invitation.id, team, person)


async def deliver_invitations(services: Services, person: Person) -> None:
    """Send every invitation the person has not received yet (after /start too)."""
    if not person.started_bot or person.telegram_id is None:
        return
    lang = services.language_for("private", person.language_code)
    for invitation in await services.storage.invitations.undelivered(person.id):
        team = await services.storage.teams.by_id(invitation.team_id)
        if team is None or invitation.link is None:
            continue
        delivery = await services.outbox.send(
            person.telegram_id, t(lang, "invitation.text", team=team.name, link=invitation.link)
        )
        if delivery.status != "failed":
            await services.storage.invitations.mark_delivered(invitation.id, services.clock.now())


async def join_request(
    services: Services, chat_id: int, telegram_id: int, link: str | None
) -> bool:
    """Approve a join request made with a person's own link, by that person; decline others
    (a forwarded link lets nobody else in)."""
    invitation = await services.storage.invitations.by_link(link) if link else None
    team = await services.storage.teams.by_chat(chat_id)
    if invitation is None and (team is None or team.roster_mode == RosterMode.CHAT):
        return False  # not ours to decide: the chat's own links, an LT or the NET chat
    person = await services.storage.people.by_id(invitation.person_id) if invitation else None
    allowed = (
        invitation is not None
        and invitation.used_at is None
        and person is not None
        and person.telegram_id == telegram_id
        and team is not None
        and invitation.team_id == team.id
        # a link of someone removed or gone since lets nobody in
        and await services.storage.rosters.is_member(team.id, person.id)
    )
    try:
        if allowed:
            assert invitation is not None
            await services.outbox.approve_join_request(chat_id, telegram_id)
            await services.storage.invitations.use(invitation.id, services.clock.now())
        else:
            await services.outbox.decline_join_request(chat_id, telegram_id)
    except ChatActionFailed as exc:
        log.warning("event=join_request_failed chat=%s error=%s", chat_id, exc)
        return False
    log.info("event=join_request chat=%s approved=%s", chat_id, allowed)
    return allowed


async def admission_decided(
    services: Services, proposal: ProposalRecord, outcome: DecisionOutcome
) -> None:
    """Konsens (or a majority, where the team's process has one): on the roster, invited."""
    team = await services.storage.teams.by_id(proposal.team_id)
    person = await services.storage.people.by_id(proposal.subject_id or 0)
    if team is None or person is None:
        return
    lang = services.language_for("private", person.language_code)
    if not approved(outcome):
        if person.telegram_id is not None and person.started_bot:
            await services.outbox.send(
                person.telegram_id, t(lang, "admission.not_admitted", team=team.name)
            )
        return
    # Idempotent: a restart after a crash may run this again.
    if await services.storage.rosters.admit(team.id, person.id, "decision", services.clock.now()):
        group_lang = services.default_language
        await services.outbox.send(
            team.chat_id,
            t(group_lang, "admission.welcome", name=naming.name(person), team=team.name),
        )
        if person.telegram_id is not None and person.started_bot:
            await services.outbox.send(
                person.telegram_id, t(lang, "admission.admitted", team=team.name)
            )
    if team.kind == TeamKind.PT:
        await invite(services, team, person)


async def settings_decided(
    services: Services, proposal: ProposalRecord, outcome: DecisionOutcome
) -> None:
    if not approved(outcome):
        return
    team = await services.storage.teams.by_id(proposal.team_id)
    field, value = proposal.payload.get("field"), proposal.payload.get("value")
    if team is None or field not in SETTINGS or value not in SETTINGS[field]:
        return
    if field == "mode":
        await services.storage.teams.change_settings(
            team.id, services.clock.now(), roster_mode=value, decision_id=proposal.id
        )
    else:
        await services.storage.teams.change_settings(
            team.id, services.clock.now(), policy={"process": value}, decision_id=proposal.id
        )
    lang = services.default_language
    await services.outbox.send(
        team.chat_id,
        t(lang, f"settings.changed.{field}", value=t(lang, f"{_label(field)}.{value}")),
    )


def register(services: Services) -> None:
    async def admission(proposal: ProposalRecord, outcome: DecisionOutcome) -> None:
        await admission_decided(services, proposal, outcome)

    async def settings(proposal: ProposalRecord, outcome: DecisionOutcome) -> None:
        await settings_decided(services, proposal, outcome)

    services.decisions.on_decided[DecisionKind.ADMISSION] = admission
    services.decisions.on_decided[DecisionKind.SETTINGS] = settings
