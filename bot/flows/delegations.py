"""ST seats by delegation (SPEC §5): politics and administration are delegated by bodies
outside the network — the bot records it once the delegate has confirmed; the UT seat is
filled by a PT decision (decision kind `delegation`)."""

from __future__ import annotations

import logging

from bot.charter.outcomes import DecisionOutcome, approved
from bot.charter.policy import DecisionKind, TeamKind
from bot.charter.refusals import Refusal
from bot.flows.payloads import Confirmation
from bot.flows.port import Button, Keyboard
from bot.services import Services
from bot.texts import naming
from bot.texts.i18n import t
from storage.delegations import Delegation
from storage.people import Person
from storage.proposals import ProposalRecord
from storage.teams import Team

log = logging.getLogger(__name__)

OUTSIDE_SEATS = ("politik", "verwaltung")
UT_SEAT = "ut"
MAX_BODY = 100


async def _st(services: Services) -> Team:
    teams = await services.storage.teams.by_kind(TeamKind.ST.value)
    if not teams:
        raise Refusal("delegate.no_st")
    return teams[0]


async def may_record(services: Services, telegram_id: int | None, person_id: int) -> bool:
    """Network admins and KT members record delegations from outside bodies."""
    if services.is_network_admin(telegram_id):
        return True
    for kt in await services.storage.teams.by_kind(TeamKind.KT.value):
        if await services.storage.rosters.is_member(kt.id, person_id):
            return True
    return False


async def record(
    services: Services,
    recorder: Person,
    person: Person | None,
    username: str | None,
    seat: str,
    body: str,
) -> Delegation:
    """Record a delegation; it takes effect when the delegate confirms."""
    st = await _st(services)
    if seat not in OUTSIDE_SEATS:
        raise Refusal("delegate.usage")
    if not body.strip():
        raise Refusal("delegate.body_needed")
    if len(body) > MAX_BODY:
        raise Refusal("error.too_long", limit=MAX_BODY)
    if person is not None and await services.storage.rosters.is_member(st.id, person.id):
        raise Refusal("admit.already", name=naming.name(person))
    delegation = await services.storage.delegations.create(
        person.id if person else None,
        username,
        seat,
        body.strip(),
        recorder.id,
        services.clock.now(),
    )
    if person is not None and person.started_bot:
        await ask(services, delegation, person)
    return delegation


async def ask(services: Services, delegation: Delegation, person: Person) -> None:
    if person.telegram_id is None:
        return
    lang = services.language_for("private", person.language_code)
    keyboard = Keyboard.of(
        [
            Button(t(lang, "delegate.confirm"), Confirmation(delegation.id, True)),
            Button(t(lang, "nominate.decline"), Confirmation(delegation.id, False)),
        ]
    )
    await services.outbox.send(
        person.telegram_id,
        t(lang, "delegate.ask", seat=t(lang, f"seat.{delegation.seat}"), body=delegation.body),
        keyboard=keyboard,
    )


async def open_by_deep_link(services: Services, person: Person, token: str) -> str:
    delegation = await services.storage.delegations.by_token(token)
    if delegation is None or delegation.status != "pending":
        return "delegate.stale"
    if delegation.person_id is None:
        if not person.username or person.username.lower() != (delegation.username or "").lower():
            return "nominate.not_for_you"
        await services.storage.delegations.bind(delegation.id, person.id)
    elif delegation.person_id != person.id:
        return "nominate.not_for_you"
    fresh = await services.storage.delegations.get(delegation.id)
    assert fresh is not None
    await ask(services, fresh, person)
    return ""


async def answer(services: Services, delegation_id: int, person: Person, confirm: bool) -> str:
    delegation = await services.storage.delegations.get(delegation_id)
    if delegation is None or delegation.person_id != person.id:
        return "nominate.not_for_you"
    status = "confirmed" if confirm else "declined"
    if not await services.storage.delegations.close(delegation.id, status, services.clock.now()):
        return "delegate.stale"
    if not confirm:
        return "delegate.declined"
    st = await _st(services)
    if not await _seat(
        services, st, person, delegation.seat, delegation.body, by=delegation.recorded_by
    ):
        return "delegate.already_seated"
    log.info("event=delegated delegation=%s", delegation.id)
    return "delegate.confirmed"


async def _seat(
    services: Services, st: Team, person: Person, seat: str, body: str, *, by: int | None = None
) -> bool:
    """Seat a delegate in the ST and tell the ST chat; False if they sit there already."""
    if not await services.storage.rosters.admit(
        st.id, person.id, "delegated", services.clock.now(), by=by, seat=seat, body=body
    ):
        return False
    lang = services.default_language
    await services.outbox.send(
        st.chat_id,
        t(
            lang,
            "delegate.seated",
            name=naming.name(person),
            seat=t(lang, f"seat.{seat}"),
            body=body,
        ),
        about=[person.id],
    )
    return True


async def propose_ut_seat(
    services: Services, pt: Team, proposer: Person, person: Person
) -> ProposalRecord:
    """/delegate PERSON ut in the PT chat: the PT decides who sits in the ST's UT seat."""
    st = await _st(services)
    if await services.storage.rosters.is_member(st.id, person.id):
        raise Refusal("admit.already", name=naming.name(person))
    lang = services.default_language
    return await services.decisions.propose(
        pt,
        proposer.id,
        t(lang, "delegate.ut_title", name=naming.name(person)),
        None,
        kind=DecisionKind.DELEGATION,
        subject_id=person.id,
    )


async def ut_seat_decided(
    services: Services, proposal: ProposalRecord, outcome: DecisionOutcome
) -> None:
    if not approved(outcome):
        return
    person = await services.storage.people.by_id(proposal.subject_id or 0)
    st = await _st(services)
    if person is None:
        return
    await _seat(services, st, person, UT_SEAT, "PT")


def register(services: Services) -> None:
    async def hook(proposal: ProposalRecord, outcome: DecisionOutcome) -> None:
        await ut_seat_decided(services, proposal, outcome)

    services.decisions.on_decided[DecisionKind.DELEGATION] = hook
