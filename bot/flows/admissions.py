"""Admissions decided by a team (SPEC §5): the PT on a declaration of intent (/join), an LT
in roster mode `explicit` on /admit; the invitation into the chat that follows; and the LT's
own settings (/settings), which the LT decides by its current process."""

from __future__ import annotations

import logging

from bot.charter.outcomes import DecisionOutcome, approved
from bot.charter.policy import DecisionKind, Process, RosterMode, TeamKind
from bot.charter.refusals import Refusal
from bot.flows.payloads import SettingField, SettingPress
from bot.flows.port import Button, InvitationDelivered, InviteLinkMade, JoinRefused, Keyboard
from bot.services import Services
from bot.texts import naming
from bot.texts.i18n import Html, t
from storage.people import Person
from storage.proposals import ProposalRecord
from storage.teams import Team

log = logging.getLogger(__name__)

SETTINGS = {
    SettingField.MODE.value: [m.value for m in RosterMode],
    SettingField.PROCESS.value: [p.value for p in Process],
}


async def _no_open_admission(services: Services, team: Team, person: Person) -> None:
    for proposal in await services.storage.proposals.open_proposals(team.id):
        if proposal.kind == DecisionKind.ADMISSION.value and proposal.subject_id == person.id:
            raise Refusal("admission.already_open", id=proposal.number)


async def declare_intent(services: Services, person: Person, text: str) -> ProposalRecord:
    """/join: a person's declaration of intent puts their admission to the PT (consensus
    only, no majority fallback: the charter's "Absichtserklärung und Konsens im PT")."""
    teams = await services.storage.teams.by_kind(TeamKind.PT.value)
    if not teams:
        raise Refusal("join.no_pt")
    pt = teams[0]
    if await services.storage.rosters.is_member(pt.id, person.id):
        raise Refusal("join.already_member", team=pt)
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
) -> ProposalRecord:
    """/admit in an LT with roster mode `explicit`: the LT decides by its own process."""
    if await services.storage.rosters.is_member(team.id, person.id):
        raise Refusal("admit.already", name=naming.name(person))
    await _no_open_admission(services, team, person)
    lang = services.default_language
    text = t(lang, "admission.title", name=naming.name(person), team=naming.team(team, lang))
    return await services.decisions.propose(
        team, proposer.id, text, None, kind=DecisionKind.ADMISSION, subject_id=person.id
    )


def is_setting(field: str, value: str) -> bool:
    """Whether `field` and `value` name a setting an LT can propose (the words of the code,
    which /settings still understands typed: `/settings mode explicit`)."""
    return field in SETTINGS and value in SETTINGS[field]


def _current(services: Services, team: Team) -> dict[str, str]:
    return {"mode": team.roster_mode, "process": services.policy(team).process.value}


def settings_menu(services: Services, team: Team, lang: str) -> tuple[Html, Keyboard]:
    """/settings in an LT: what is set, and a button for every change the team can propose
    (pressing one proposes it: `propose_setting`)."""
    current = _current(services, team)
    text = t(
        lang,
        "settings.show",
        team=naming.team(team, lang),
        mode=t(lang, f"roster_mode.{current['mode']}"),
        process=t(lang, f"process.{current['process']}"),
    )
    rows = [
        [
            Button(
                t(lang, f"settings.option.{field}.{value}"),
                SettingPress(team.id, SettingField(field), value),
            )
        ]
        for field, values in SETTINGS.items()
        for value in values
        if value != current[field]
    ]
    return text, Keyboard.of(*rows)


async def propose_setting(
    services: Services, team: Team, proposer: Person, field: str, value: str
) -> ProposalRecord:
    """A change of an LT's settings, from /settings' buttons (or typed: `/settings mode
    explicit`): the LT decides it by its current process. The card says the change once: its
    title is the new setting, its text what it was until now."""
    if team.kind != TeamKind.LT:
        raise Refusal("settings.lt_only")
    if not is_setting(field, value):
        raise Refusal("settings.usage")
    lang = services.default_language
    current = _current(services, team)[field]
    if current == value:
        raise Refusal("settings.unchanged", value=t(lang, f"{_label(field)}.{value}"))
    for proposal in await services.storage.proposals.open_proposals(team.id):
        if proposal.kind == DecisionKind.SETTINGS.value and proposal.payload.get("field") == field:
            raise Refusal("settings.already_open", id=proposal.number)
    title = t(lang, f"settings.title.{field}", value=t(lang, f"{_label(field)}.{value}"))
    before = t(lang, "settings.before", value=t(lang, f"{_label(field)}.{current}"))
    text = f"{title}\n{before}"
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
    await _make_link(services, team, invitation_id, person.id)


async def _make_link(services: Services, team: Team, invitation_id: int, person_id: int) -> None:
    """The link is an outbox action: made at once, or retried while Telegram cannot be reached
    (after a restart too), so nobody loses a seat to a moment's outage; `link_made` follows."""
    await services.outbox.create_invite_link(
        team.chat_id,
        f"wiq-{invitation_id}",
        on_posted=InviteLinkMade(invitation_id),
        subject=person_id,
    )


async def link_made(services: Services, invitation_id: int, link: str) -> None:
    """Telegram made the invitation's link: kept (the first one made, if a retry made a second),
    then sent to the person."""
    invitation = await services.storage.invitations.set_link(invitation_id, link)
    if invitation is None:
        return  # gone meanwhile (the person was forgotten)
    person = await services.storage.people.by_id(invitation.person_id)
    if person is not None:
        await deliver_invitations(services, person)


async def links_again(services: Services, team: Team) -> None:
    """The bot may make links in the team's chat again (it was refused before: no rights)."""
    for invitation in await services.storage.invitations.without_link(team.id):
        await _make_link(services, team, invitation.id, invitation.person_id)


async def deliver_invitations(services: Services, person: Person) -> None:
    """Send every invitation the person has not received yet (after /start too). Each goes
    once: one waiting message per invitation, marked delivered once Telegram took it."""
    if not person.started_bot or person.telegram_id is None:
        return
    lang = services.language_for("private", person.language_code)
    for invitation in await services.storage.invitations.undelivered(person.id):
        team = await services.storage.teams.by_id(invitation.team_id)
        if team is None or invitation.link is None:
            continue
        await services.outbox.send(
            person.telegram_id,
            t(lang, "invitation.text", team=naming.team(team, lang), link=invitation.link),
            on_posted=InvitationDelivered(invitation.id),
        )


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
    if allowed:
        assert invitation is not None
        # Used in this unit (a second request meanwhile is declined); if Telegram refuses the
        # approval, the invitation is the person's again and they are told (`join_refused`).
        await services.storage.invitations.use(invitation.id, services.clock.now())
        await services.outbox.approve_join_request(
            chat_id, telegram_id, on_failed=JoinRefused(invitation.id)
        )
    else:
        await services.outbox.decline_join_request(chat_id, telegram_id)
    log.info("event=join_request chat=%s approved=%s", chat_id, allowed)
    return allowed


async def join_refused(services: Services, invitation_id: int, error: str) -> None:
    """Telegram refused to approve a join request made with the person's own link: the
    invitation is unused again, and the person is told that their link still works."""
    log.warning("event=join_request_failed invitation=%s error=%s", invitation_id, error)
    invitation = await services.storage.invitations.release(invitation_id, services.clock.now())
    if invitation is None or invitation.link is None:
        return
    person = await services.storage.people.by_id(invitation.person_id)
    team = await services.storage.teams.by_id(invitation.team_id)
    if person is None or person.telegram_id is None or team is None:
        return
    lang = services.language_for("private", person.language_code)
    await services.outbox.send(
        person.telegram_id,
        t(lang, "invitation.join_refused", team=naming.team(team, lang), link=invitation.link),
    )


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
                person.telegram_id, t(lang, "admission.not_admitted", team=naming.team(team, lang))
            )
        return
    # Idempotent: a restart after a crash may run this again.
    if await services.storage.rosters.admit(team.id, person.id, "decision", services.clock.now()):
        group_lang = services.default_language
        await services.outbox.send(
            team.chat_id,
            t(
                group_lang,
                "admission.welcome",
                name=naming.name(person),
                team=naming.team(team, group_lang),
            ),
            about=[person.id],
        )
        if person.telegram_id is not None and person.started_bot:
            await services.outbox.send(
                person.telegram_id, t(lang, "admission.admitted", team=naming.team(team, lang))
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
