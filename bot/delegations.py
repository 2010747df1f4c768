"""ST seats by delegation (SPEC §5): politics and administration are delegated by bodies
outside the network — the bot records it once the delegate has confirmed; the UT seat is
filled by a PT decision (decision kind `delegation`)."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.admissions import Refused
from bot.callbacks import encode_confirmation
from bot.i18n import t
from bot.policy import DecisionKind, TeamKind
from bot.rules import DecisionOutcome, approved
from bot.services import Services
from storage.delegations import Delegation
from storage.people import Person
from storage.proposals import ProposalRecord
from storage.teams import Team

log = logging.getLogger(__name__)

DEEP_LINK = "del_"
OUTSIDE_SEATS = ("politik", "verwaltung")
UT_SEAT = "ut"
MAX_BODY = 100


async def _st(wiq: Services) -> Team:
    teams = await wiq.storage.teams.by_kind(TeamKind.ST.value)
    if not teams:
        raise Refused("delegate.no_st")
    return teams[0]


async def may_record(wiq: Services, telegram_id: int, person_id: int) -> bool:
    """Network admins and KT members record delegations from outside bodies."""
    if wiq.is_network_admin(telegram_id):
        return True
    for kt in await wiq.storage.teams.by_kind(TeamKind.KT.value):
        if await wiq.storage.rosters.is_member(kt.id, person_id):
            return True
    return False


async def record(
    wiq: Services,
    recorder: Person,
    person: Person | None,
    username: str | None,
    seat: str,
    body: str,
) -> Delegation:
    """Record a delegation; it takes effect when the delegate confirms."""
    st = await _st(wiq)
    if seat not in OUTSIDE_SEATS:
        raise Refused("delegate.usage")
    if not body.strip():
        raise Refused("delegate.body_needed")
    if len(body) > MAX_BODY:
        raise Refused("error.too_long", limit=MAX_BODY)
    if person is not None and await wiq.storage.rosters.is_member(st.id, person.id):
        raise Refused("admit.already", name=person.display_name)
    delegation = await wiq.storage.delegations.create(
        person.id if person else None,
        username,
        seat,
        body.strip(),
        recorder.id,
        wiq.clock.now(),
    )
    if person is not None and person.started_bot:
        await ask(wiq, delegation, person)
    return delegation


async def ask(wiq: Services, delegation: Delegation, person: Person) -> None:
    if person.telegram_id is None:
        return
    lang = wiq.language_for("private", person.language_code)
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t(lang, "delegate.confirm"),
                    callback_data=encode_confirmation(delegation.id, True),
                ),
                InlineKeyboardButton(
                    t(lang, "nominate.decline"),
                    callback_data=encode_confirmation(delegation.id, False),
                ),
            ]
        ]
    )
    await wiq.outbox.send(
        person.telegram_id,
        t(lang, "delegate.ask", seat=t(lang, f"seat.{delegation.seat}"), body=delegation.body),
        reply_markup=keyboard,
    )


async def open_by_deep_link(wiq: Services, person: Person, token: str) -> str:
    delegation = await wiq.storage.delegations.by_token(token)
    if delegation is None or delegation.status != "pending":
        return "delegate.stale"
    if delegation.person_id is None:
        if not person.username or person.username.lower() != (delegation.username or "").lower():
            return "nominate.not_for_you"
        await wiq.storage.delegations.bind(delegation.id, person.id)
    elif delegation.person_id != person.id:
        return "nominate.not_for_you"
    fresh = await wiq.storage.delegations.get(delegation.id)
    assert fresh is not None
    await ask(wiq, fresh, person)
    return ""


async def answer(wiq: Services, delegation_id: int, person: Person, confirm: bool) -> str:
    delegation = await wiq.storage.delegations.get(delegation_id)
    if delegation is None or delegation.person_id != person.id:
        return "nominate.not_for_you"
    status = "confirmed" if confirm else "declined"
    if not await wiq.storage.delegations.close(delegation.id, status, wiq.clock.now()):
        return "delegate.stale"
    if not confirm:
        return "delegate.declined"
    st = await _st(wiq)
    if not await wiq.storage.rosters.admit(
        st.id,
        person.id,
        "delegated",
        wiq.clock.now(),
        by=delegation.recorded_by,
        seat=delegation.seat,
        body=delegation.body,
    ):
        return "delegate.already_seated"
    lang = wiq.default_language
    await wiq.outbox.send(
        st.chat_id,
        t(
            lang,
            "delegate.seated",
            name=person.display_name,
            seat=t(lang, f"seat.{delegation.seat}"),
            body=delegation.body,
        ),
    )
    log.info("event=delegated delegation=%s", delegation.id)
    return "delegate.confirmed"


async def propose_ut_seat(wiq: Services, pt: Team, proposer: Person, person: Person) -> int:
    """/delegate PERSON ut in the PT chat: the PT decides who sits in the ST's UT seat."""
    st = await _st(wiq)
    if await wiq.storage.rosters.is_member(st.id, person.id):
        raise Refused("admit.already", name=person.display_name)
    lang = wiq.default_language
    return await wiq.decisions.propose(
        pt,
        proposer.id,
        t(lang, "delegate.ut_title", name=person.display_name),
        None,
        kind=DecisionKind.DELEGATION,
        subject_id=person.id,
    )


async def ut_seat_decided(
    wiq: Services, proposal: ProposalRecord, outcome: DecisionOutcome
) -> None:
    if not approved(outcome):
        return
    person = await wiq.storage.people.by_id(proposal.subject_id or 0)
    st = await _st(wiq)
    if person is None:
        return
    if await wiq.storage.rosters.admit(
        st.id, person.id, "delegated", wiq.clock.now(), seat=UT_SEAT, body="PT"
    ):
        lang = wiq.default_language
        await wiq.outbox.send(
            st.chat_id,
            t(
                lang,
                "delegate.seated",
                name=person.display_name,
                seat=t(lang, "seat.ut"),
                body="PT",
            ),
        )


def register(wiq: Services) -> None:
    async def hook(proposal: ProposalRecord, outcome: DecisionOutcome) -> None:
        await ut_seat_decided(wiq, proposal, outcome)

    wiq.decisions.on_decided[DecisionKind.DELEGATION] = hook
