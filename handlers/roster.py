"""Who is on a team: /members, /admit and /remove (network admins), /leave, and members
leaving or joining the chat (chat_member updates)."""

from __future__ import annotations

from collections.abc import Mapping

from telegram import ChatMember, Update

from bot.charter import refusals
from bot.charter.refusals import Refusal
from bot.charter.teams import (
    MAX_BODY,
    MAX_REASON,
    SEAT_ALIASES,
    SEATS,
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
    Named,
    NamedOne,
    bound_team,
    current_person,
    lang_of,
    named_people,
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

IN_CHAT = {ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER, ChatMember.RESTRICTED}
# The words that end the names of an /admit in the ST: its seat, German or English.
SEAT_WORDS = frozenset(SEATS) | frozenset(SEAT_ALIASES)


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
    about = [m.person.id for m in members] + list(admitters)
    await reply_html(update, context, "\n".join(lines), about=about)


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
    """A network admin enters existing members during set-up, one or several at once:
    /admit PERSON [PERSON …] [SEAT [BODY]] (the seat and body, in the ST, for all of them)."""
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
    named = await named_people(update, context, until=SEAT_WORDS if team.kind == "ST" else ())
    if not named.named:
        await _naming_problem(update, context, NamedOne("", problem="error.name_a_person"))
        return
    if len(named.named) > rosters.MAX_AT_ONCE:
        await reply(
            update, context, "admit.too_many", limit=rosters.MAX_AT_ONCE, count=len(named.named)
        )
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
    people = [one.person for one in named.named if one.person is not None]
    entered = await rosters.enter(services, team, people, by=actor, seat=seat, body=body)
    if len(named.named) == 1:
        await _answer_one(update, context, team, named.named[0], entered, seat, body)
        return
    lang = lang_of(update, context)
    await reply_html(
        update,
        context,
        admitted_text(lang, team, named.named, entered, seat, body),
        about=[person.id for person in people],
    )


async def _answer_one(
    update: Update,
    context: Context,
    team: Team,
    one: NamedOne,
    entered: list[bool],
    seat: str | None,
    body: str | None,
) -> None:
    """One person named: the answer says it in a sentence, as it always did, with the seat
    and the delegating body as stored (in the ST)."""
    if one.person is None:
        await _naming_problem(update, context, one)
    elif entered[0]:
        lang = lang_of(update, context)
        lines = [
            t(lang, "admit.done", name=naming.mention(one.person), team=naming.team(team, lang))
        ]
        if seat is not None:  # in the ST: the seat and the body, as stored
            seat_name = t(lang, f"seat.{seat}")
            if body:
                lines.append(t(lang, "admit.done_seat_body", seat=seat_name, body=body))
            else:
                lines.append(t(lang, "admit.done_seat", seat=seat_name))
        await reply_html(update, context, Html("\n".join(lines)), about=[one.person.id])
    else:
        await reply(
            update, context, "admit.already", about=[one.person.id], name=naming.name(one.person)
        )


# What the answer to /admit says of the people it could not enter, by why.
NOT_ENTERED = {
    "error.unknown_username": "admit.several.unknown",
    "error.person_is_bot": "admit.several.bot",
    "error.name_a_person": "admit.several.not_a_name",
}


def admitted_text(
    lang: str,
    team: Team,
    named: list[NamedOne],
    entered: list[bool],
    seat: str | None,
    body: str | None,
) -> Html:
    """The one answer to an /admit of several people: who is on the roster now, who was
    already, and who was not entered and why — a line for each outcome, naming its people in
    the order typed."""
    people = [one.person for one in named if one.person is not None]
    done = [naming.mention(p) for p, new in zip(people, entered, strict=True) if new]
    already = [naming.name(p) for p, new in zip(people, entered, strict=True) if not new]
    where = ""
    if seat is not None:
        seat_name = t(lang, f"seat.{seat}")
        where = (
            t(lang, "members.seat", seat=seat_name, body=body)
            if body
            else t(lang, "admit.several.seat", seat=seat_name)
        )
    lines = [t(lang, "admit.several.header", team=naming.team(team, lang), seat=Html(where))]
    if done:
        lines.append(t(lang, "admit.several.done", count=len(done), names=Html(", ".join(done))))
    if already:
        lines.append(t(lang, "admit.several.already", count=len(already), names=", ".join(already)))
    for problem, key in NOT_ENTERED.items():
        words = [_shown(one.word) for one in named if one.problem == problem]
        if words:
            lines.append(t(lang, key, count=len(words), names=", ".join(words)))
    return Html("\n".join(lines))


async def _naming_problem(update: Update, context: Context, one: NamedOne) -> None:
    """Why the one word named nobody, and how to name someone for /admit."""
    username = _shown(one.word).removeprefix("@")
    await reply_naming_problem(
        update, context, Named(None, [], one.problem, username), "admit.usage"
    )


def _shown(word: str, limit: int = 40) -> str:
    """A word as typed, for the answer: a 10,000-character word does not come back whole."""
    return word if len(word) <= limit else word[: limit - 1] + "…"


async def admit_by_decision(update: Update, context: Context, team: Team) -> None:
    """An LT with an explicit roster admits by its own decision (SPEC §5), one person (and so
    one decision) at a time."""
    proposer_id = await member_of(update, context, team)
    if proposer_id is None:
        return
    services = services_of(context)
    named = await named_people(update, context)
    if len(named.named) > 1:
        await reply(update, context, "admit.one_by_decision")
        return
    one = named.named[0] if named.named else NamedOne("", problem="error.name_a_person")
    if one.person is None:
        await _naming_problem(update, context, one)
        return
    proposer = await services.storage.people.by_id(proposer_id)
    assert proposer is not None
    try:
        await admissions.propose_admission(services, team, proposer, one.person)
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
        await reply(
            update,
            context,
            "remove.not_member",
            about=[named.person.id],
            name=naming.name(named.person),
        )
        return
    await reply(
        update,
        context,
        "remove.done",
        about=[named.person.id],
        name=naming.name(named.person),
        reason=reason,
    )


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
