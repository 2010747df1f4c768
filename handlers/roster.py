"""Who is on a team: /members, /admit and /remove (network admins), /leave, and members
leaving or joining the chat (chat_member updates)."""

from __future__ import annotations

import logging

from telegram import ChatMember, Update

from bot.charter.teams import (
    MAX_BODY,
    MAX_REASON,
    Refusal,
    decided_by_the_team,
    may_admit_directly,
    parse_seat,
    seat_words,
)
from bot.flows import admissions
from bot.texts.i18n import Html, t
from bot.texts.render import mention
from handlers.common import (
    Context,
    bound_team,
    current_person,
    lang_of,
    named_person,
    remember_user,
    reply,
    reply_html,
    reply_naming_problem,
    services_of,
)
from handlers.proposals import member_of
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
        await reply(update, context, f"members.empty.{team.roster_mode}", name=team.name)
        return
    lines = [t(lang, "members.header", name=team.name, count=len(members))]
    admitters = await services.storage.people.by_ids(
        [m.joined_by for m in members if m.joined_by is not None]
    )
    for member in members:
        lines.append(member_line(lang, context, member, admitters))
    await reply_html(update, context, "\n".join(lines))


def member_line(lang: str, context: Context, member: Member, admitters: dict) -> Html:
    services = services_of(context)
    person = member.person
    name = person.display_name
    if person.username and person.first_name:
        name = f"{name} (@{person.username})"
    by = admitters.get(member.joined_by)
    how = t(
        lang,
        f"members.how.{member.joined_how}",
        by=by.display_name if by else t(lang, "members.someone"),
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
    is_admin = services.is_network_admin(update.effective_user.id)
    if decided_by_the_team(team.kind, team.roster_mode, is_admin, team.in_setup_phase):
        await admit_by_decision(update, context, team)
        return
    refusal = may_admit_directly(
        is_network_admin=services.is_network_admin(update.effective_user.id),
        in_setup_phase=team.in_setup_phase,
    )
    if refusal is Refusal.SETUP_PHASE_OVER:
        await reply(update, context, f"admit.by_charter.{team.kind}")
        return
    if refusal is not None:
        await reply(update, context, f"refusal.{refusal.value}")
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
        await reply(update, context, "admit.already", name=named.person.display_name)
        return
    log.info("event=admitted team=%s person=%s", team.id, named.person.id)
    await reply(
        update,
        context,
        "admit.done",
        name=mention(named.person.telegram_id, named.person.display_name),
        team=team.name,
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
    except admissions.Refused as refused:
        await reply(update, context, refused.key, **refused.params)


async def remove_member(update: Update, context: Context) -> None:
    """A network admin takes a person off the roster, with a reason: /remove PERSON REASON."""
    team = await bound_team(update, context)
    if team is None:
        return
    services = services_of(context)
    if not services.is_network_admin(update.effective_user.id):
        await reply(update, context, f"refusal.{Refusal.NOT_NETWORK_ADMIN.value}")
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
    removed = await services.storage.rosters.leave(
        team.id,
        named.person.id,
        "removed",
        services.clock.now(),
        by=actor.id if actor else None,
        reason=reason,
    )
    if not removed:
        await reply(update, context, "remove.not_member", name=named.person.display_name)
        return
    log.info("event=removed team=%s person=%s", team.id, named.person.id)
    await services.decisions.member_left(team)
    await reply(update, context, "remove.done", name=named.person.display_name, reason=reason)


async def leave_team(update: Update, context: Context) -> None:
    """A member takes themselves off this team's roster: /leave."""
    team = await bound_team(update, context)
    if team is None:
        return
    services = services_of(context)
    person = await current_person(update, context)
    if person is None:
        return
    left = await services.storage.rosters.leave(
        team.id, person.id, "left", services.clock.now(), by=person.id
    )
    if not left:
        await reply(update, context, "leave.not_member", team=team.name)
        return
    log.info("event=left team=%s person=%s", team.id, person.id)
    await services.decisions.member_left(team)
    await reply(update, context, "leave.done", team=team.name)


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
    how = "left_chat"
    if change.from_user and change.from_user.id != user.id:
        how = "removed_from_chat"
        if not change.from_user.is_bot:
            by_person = await remember_user(context, change.from_user)
            by = by_person.id
    if await services.storage.rosters.leave(team.id, person.id, how, services.clock.now(), by=by):
        log.info("event=left_chat team=%s person=%s how=%s", team.id, person.id, how)
        await services.decisions.member_left(team)
