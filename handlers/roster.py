"""Who is on a team: /members, /admit and /remove (network admins), /leave, and members
leaving or joining the chat (chat_member updates)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from telegram import ChatMember, Update

from bot.charter import refusals
from bot.charter.refusals import Refusal
from bot.charter.teams import (
    MAX_BODY,
    MAX_REASON,
    Leaving,
    decided_by_the_team,
    may_admit_directly,
    parse_seat,
    seat_words,
)
from bot.flows import admissions, rosters
from bot.texts import naming
from bot.texts.i18n import Html, t
from handlers.common import (
    Context,
    bound_team,
    current_person,
    lang_of,
    named_person,
    refuse,
    remember_user,
    reply,
    reply_html,
    reply_naming_problem,
    services_of,
)
from handlers.proposals import member_of
from storage.people import Person
from storage.rosters import Member
from storage.teams import Team

log = logging.getLogger(__name__)

IN_CHAT = {ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER, ChatMember.RESTRICTED}


async def list_members(update: Update, context: Context) -> None:
    """Someone asks who is on this team: /members."""
    team = await bound_team(update, context)
    if team is None:
        return
    services = services_of(context)
    lang = lang_of(update, context)
    members = await services.storage.rosters.members(team.id)
    if not members:
        await reply(
            update, context, f"members.empty.{team.roster_mode}", team=naming.team(team, lang)
        )
        return
    lines = [t(lang, "members.header", name=team.name, count=len(members))]
    admitters = await services.storage.people.by_ids(
        [m.joined_by for m in members if m.joined_by is not None]
    )
    for member in members:
        lines.append(member_line(lang, context, member, admitters))
    await reply_html(update, context, "\n".join(lines))


def member_line(
    lang: str, context: Context, member: Member, admitters: Mapping[int, Person]
) -> Html:
    services = services_of(context)
    person = member.person
    name = naming.name(person, with_username=True)
    by = admitters.get(member.joined_by or 0)
    how = t(
        lang,
        f"members.how.{member.joined_how}",
        by=naming.name(by) if by else t(lang, "members.someone"),
        decisions=f" ({member.body})" if member.body and not member.seat else "",
    )
    line = t(
        lang, "members.line", name=name, how=how, since=services.local_date(member.joined_at, lang)
    )
    if member.seat:
        seat = t(lang, f"seat.{member.seat}")
        line = Html(line + t(lang, "members.seat", seat=seat, body=member.body or "–"))
    return line


async def admit_member(update: Update, context: Context) -> None:
    """A network admin enters an existing member during set-up: /admit PERSON [SEAT BODY]."""
    team = await bound_team(update, context)
    if team is None:
        return
    services = services_of(context)
    actor = await current_person(update, context)
    user = update.effective_user
    is_admin = services.is_network_admin(user.id if user else None)
    if decided_by_the_team(team.kind, team.roster_mode, is_admin, team.in_setup_phase):
        await admit_by_decision(update, context, team)
        return
    refusal = may_admit_directly(is_network_admin=is_admin, in_setup_phase=team.in_setup_phase)
    if refusal is refusals.SETUP_PHASE_OVER:
        await reply(update, context, f"admit.by_charter.{team.kind}")
        return
    if refusal is not None:
        await refuse(update, context, refusal)
        return
    named = await named_person(update, context, context.args or [])
    if named.person is None:
        await reply_naming_problem(update, context, named, "admit.usage")
        return
    seat = body = None
    if team.kind == "ST":
        seat, body = parse_seat(named.rest)
        if seat is None:
            await reply(
                update,
                context,
                "admit.seat_needed",
                seats=" | ".join(seat_words(lang_of(update, context))),
            )
            return
        if body and len(body) > MAX_BODY:
            await reply(update, context, "error.too_long", limit=MAX_BODY)
            return
    admitted = await services.storage.rosters.admit(
        team.id,
        named.person.id,
        "admitted",
        services.clock.now(),
        by=actor.id if actor else None,
        seat=seat,
        body=body,
    )
    if not admitted:
        await reply(update, context, "admit.already", name=naming.name(named.person))
        return
    log.info("event=admitted team=%s person=%s", team.id, named.person.id)
    await reply(
        update,
        context,
        "admit.done",
        name=naming.mention(named.person),
        team=naming.team(team, lang_of(update, context)),
    )


async def admit_by_decision(update: Update, context: Context, team: Team) -> None:
    """An LT with an explicit roster admits by its own decision (SPEC §5)."""
    proposer_id = await member_of(update, context, team)
    if proposer_id is None:
        return
    services = services_of(context)
    named = await named_person(update, context, context.args or [])
    if named.person is None:
        await reply_naming_problem(update, context, named, "admit.usage")
        return
    proposer = await services.storage.people.by_id(proposer_id)
    assert proposer is not None
    try:
        await admissions.propose_admission(services, team, proposer, named.person)
    except Refusal as refusal:
        await refuse(update, context, refusal)


async def remove_member(update: Update, context: Context) -> None:
    """A network admin takes a person off the roster, with a reason: /remove PERSON REASON."""
    team = await bound_team(update, context)
    if team is None:
        return
    services = services_of(context)
    user = update.effective_user
    if not services.is_network_admin(user.id if user else None):
        await refuse(update, context, refusals.NOT_NETWORK_ADMIN)
        return
    named = await named_person(update, context, context.args or [])
    if named.person is None:
        await reply_naming_problem(update, context, named, "remove.usage")
        return
    reason = " ".join(named.rest).strip()
    if not reason:
        await reply(update, context, "remove.reason_needed")
        return
    if len(reason) > MAX_REASON:
        await reply(update, context, "error.too_long", limit=MAX_REASON)
        return
    actor = await current_person(update, context)
    removed = await rosters.leave(
        services, team, named.person, Leaving.REMOVED, by=actor, reason=reason
    )
    if not removed:
        await reply(update, context, "remove.not_member", name=naming.name(named.person))
        return
    await reply(update, context, "remove.done", name=naming.name(named.person), reason=reason)


async def leave_team(update: Update, context: Context) -> None:
    """A member takes themselves off this team's roster: /leave."""
    team = await bound_team(update, context)
    if team is None:
        return
    services = services_of(context)
    person = await current_person(update, context)
    if person is None:
        return
    lang = lang_of(update, context)
    if not await rosters.leave(services, team, person, Leaving.LEFT, by=person):
        await reply(update, context, "leave.not_member", team=naming.team(team, lang))
        return
    await reply(update, context, "leave.done", team=naming.team(team, lang))


async def chat_member_changed(update: Update, context: Context) -> None:
    """Someone joined or left the team's chat: leaving takes them off the roster."""
    change = update.chat_member
    assert change is not None
    user = change.new_chat_member.user
    if user.is_bot:
        return
    services = services_of(context)
    team = await services.storage.teams.by_chat(change.chat.id)
    if team is None:
        return
    was_in = change.old_chat_member.status in IN_CHAT
    is_in = change.new_chat_member.status in IN_CHAT
    if was_in == is_in:
        return
    person = await remember_user(context, user)
    if is_in:
        if team.roster_mode == "chat":
            await services.storage.rosters.admit(team.id, person.id, "chat", services.clock.now())
        return
    by = None
    how = Leaving.LEFT_CHAT
    if change.from_user and change.from_user.id != user.id:
        how = Leaving.REMOVED_FROM_CHAT
        if not change.from_user.is_bot:
            by = await remember_user(context, change.from_user)
    await rosters.leave(services, team, person, how, by=by)
