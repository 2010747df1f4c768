"""Binding a group chat to a team (/setup), showing it (/team), and following the chat's
life: the bot's own rights (my_chat_member) and the upgrade to a supergroup."""

from __future__ import annotations

import logging

from telegram import ChatMember, ChatMemberUpdated, Update
from telegram.error import TelegramError

from bot.charter import refusals
from bot.charter.policy import DecisionKind, Process, RosterMode, TeamKind
from bot.charter.teams import (
    MAX_TEAM_NAME,
    bot_rights_refusal,
    kind_taken,
    may_bind,
    roster_mode_for,
)
from bot.flows import admissions
from bot.flows.port import Priority
from bot.texts import naming
from bot.texts.i18n import Html, t
from handlers.common import (
    Context,
    bound_team,
    current_person,
    lang_of,
    refuse,
    remember_user,
    reply,
    services_of,
)
from storage.teams import AlreadyBound, KindTaken, Team

log = logging.getLogger(__name__)

ADMIN_STATUSES = {ChatMember.ADMINISTRATOR, ChatMember.OWNER}


async def setup_team(update: Update, context: Context) -> None:
    """An admin binds this group chat to a team: /setup KIND NAME."""
    services = services_of(context)
    chat = update.effective_chat
    user = update.effective_user
    assert chat is not None and user is not None
    if chat.type not in ("group", "supergroup"):
        await reply(update, context, "setup.group_only")
        return
    args = context.args or []
    kinds = ", ".join(kind.value for kind in TeamKind)
    if not args or args[0].upper() not in TeamKind.__members__:
        await reply(update, context, "setup.usage", kinds=kinds)
        return
    kind = TeamKind(args[0].upper())
    name = " ".join(" ".join(args[1:]).split())
    if not name:
        await reply(update, context, "setup.usage", kinds=kinds)
        return
    if len(name) > MAX_TEAM_NAME:
        await reply(update, context, "setup.name_too_long", limit=MAX_TEAM_NAME)
        return
    existing = await services.storage.teams.by_chat(chat.id)
    if existing is not None:
        await refuse(update, context, refusals.ALREADY_BOUND, team=existing)
        return
    is_chat_admin = False
    if kind is TeamKind.LT and not services.is_network_admin(user.id):
        member = await chat.get_member(user.id)
        is_chat_admin = member.status in ADMIN_STATUSES
    refusal = may_bind(
        kind, is_network_admin=services.is_network_admin(user.id), is_chat_admin=is_chat_admin
    )
    if refusal is None:
        me = await chat.get_member(context.bot.id)
        refusal = bot_rights_refusal(
            is_admin=me.status in ADMIN_STATUSES,
            can_invite_users=bool(getattr(me, "can_invite_users", False)),
        )
    if refusal is None:
        teams = await services.storage.teams.all()
        if kind_taken(kind, {team.kind for team in teams}):
            refusal = refusals.KIND_TAKEN
    if refusal is not None:
        await refuse(update, context, refusal, kind=kind.value, bot=services.bot_username)
        return
    person = await current_person(update, context)
    mode = roster_mode_for(kind)
    try:
        team = await services.storage.teams.bind(
            kind.value,
            name,
            chat.id,
            chat.type,
            mode.value,
            person.id if person else None,
            services.clock.now(),
        )
    except AlreadyBound:  # bound a moment ago, by someone else
        bound = await services.storage.teams.by_chat(chat.id)
        await refuse(update, context, refusals.ALREADY_BOUND, team=bound or name)
        return
    except KindTaken:
        await refuse(update, context, refusals.KIND_TAKEN, kind=kind.value)
        return
    log.info("event=team_bound team=%s kind=%s chat=%s", team.id, kind.value, chat.id)
    if mode is RosterMode.CHAT:
        await add_chat_admins(context, team)
        if person is not None:
            await services.storage.rosters.admit(team.id, person.id, "chat", services.clock.now())
    lang = lang_of(update, context)
    parts = [t(lang, "setup.done", team=naming.team(team, lang))]
    # The steps in the order that works; in the ST every entry needs its seat.
    seat = t(lang, "setup.next.seat") if kind is TeamKind.ST else ""
    parts.append(t(lang, f"setup.next.{mode.value}", seat=seat))
    if chat.type == "group":
        parts.append(t(lang, "setup.recommend_supergroup"))
    message = update.effective_message
    await services_of(context).outbox.send(
        chat.id, Html("\n\n".join(parts)), reply_to=message.message_id if message else None
    )


async def add_chat_admins(context: Context, team: Team) -> None:
    """Roster mode `chat`: the chat's human admins belong to the team from the start."""
    services = services_of(context)
    try:
        admins = await context.bot.get_chat_administrators(team.chat_id)
    except TelegramError as exc:
        log.warning("event=admins_unavailable chat=%s error=%s", team.chat_id, exc)
        return
    for admin in admins:
        if admin.user.is_bot:
            continue
        person = await remember_user(context, admin.user)
        await services.storage.rosters.admit(team.id, person.id, "chat_admin", services.clock.now())


async def show_team(update: Update, context: Context) -> None:
    """Someone asks what this chat's team is and how it decides: /team."""
    team = await bound_team(update, context)
    if team is None:
        return
    services = services_of(context)
    lang = lang_of(update, context)
    policy = services.policy(team)
    admission = t(lang, f"admission.{team.kind}")
    if team.kind == TeamKind.LT and team.roster_mode == RosterMode.CHAT:
        admission = t(lang, "admission.LT_chat")
    await reply(
        update,
        context,
        "team.info",
        team=naming.team(team, lang, start=True),
        process=describe_process(lang, policy.process),
        rounds=policy.max_consensus_rounds,
        round_length=services.duration(policy.consensus_deadline, lang),
        vote_length=services.duration(policy.majority_deadline, lang),
        quorum=round(policy.quorum * 100),
        admission=admission,
        admission_process=describe_process(
            lang, services.policy(team, DecisionKind.ADMISSION).process
        ),
        roster_mode=t(lang, f"roster_mode.{team.roster_mode}"),
        size=await services.storage.rosters.size(team.id),
        phase=t(lang, "team.setup_phase" if team.in_setup_phase else "team.deciding"),
    )


def describe_process(lang: str, process: Process) -> str:
    return t(lang, f"process.{process.value}")


async def bot_rights_changed(update: Update, context: Context) -> None:
    """The bot was promoted, demoted or removed in a chat (my_chat_member); in a private
    chat: the person blocked the bot, or let it write again."""
    change = update.my_chat_member
    assert change is not None
    services = services_of(context)
    chat = change.chat
    if chat.type == "private":
        person = await services.storage.people.by_telegram_id(chat.id)
        if person is not None:
            may_write = change.new_chat_member.status == ChatMember.MEMBER
            if person.started_bot != may_write:
                await services.storage.people.mark_started(person.id, may_write)
        return
    team = await services.storage.teams.by_chat(chat.id)
    new = change.new_chat_member
    is_admin = new.status in ADMIN_STATUSES and bool(getattr(new, "can_invite_users", False))
    still_in_chat = new.status not in (ChatMember.LEFT, ChatMember.BANNED)
    lang = services.default_language
    if team is None:
        if still_in_chat and _was_outside(change):
            # Added to a group that is no team yet: say how to bind it.
            await services.outbox.send(chat.id, t(lang, "setup.hello", bot=services.bot_username))
        return
    changed = await services.storage.teams.set_bot_admin(team.id, is_admin, services.clock.now())
    # Removed after a demotion: no change of rights, but news for the admins all the same.
    removed = not still_in_chat and not _was_outside(change)
    if not changed and not removed:
        return
    log.info("event=bot_rights team=%s admin=%s", team.id, is_admin)
    if is_admin:
        if still_in_chat:
            await services.outbox.send(chat.id, t(lang, "rights.restored"))
            await admissions.links_again(services, team)  # refused while it had no rights
        return
    if still_in_chat:
        await services.outbox.send(chat.id, t(lang, "rights.lost_chat"), priority=Priority.REPLY)
    key = "rights.lost_admins" if still_in_chat else "rights.removed_admins"
    await tell_network_admins(context, key, team)


def _was_outside(change: ChatMemberUpdated) -> bool:
    return change.old_chat_member.status in (ChatMember.LEFT, ChatMember.BANNED)


async def tell_network_admins(context: Context, key: str, team: Team) -> None:
    """A private note about a team to every network admin who has started the bot."""
    services = services_of(context)
    for admin_id in sorted(services.network.admins):
        person = await services.storage.people.by_telegram_id(admin_id)
        if person is None or not person.started_bot:
            continue
        lang = person.language_code if person.language_code in ("de", "en") else None
        lang = lang or services.default_language
        await services.outbox.send(admin_id, t(lang, key, team=naming.team(team, lang)))


async def chat_migrated(update: Update, context: Context) -> None:
    """A group became a supergroup: the team's binding follows the new chat id."""
    message = update.effective_message
    assert message is not None
    if message.migrate_to_chat_id:
        old, new = message.chat_id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id:
        old, new = message.migrate_from_chat_id, message.chat_id
    else:
        return
    services = services_of(context)
    team = await services.storage.teams.move_chat(old, new, services.clock.now())
    if team is None:
        return  # not bound, or the other half of the migration already moved it
    log.info("event=chat_migrated team=%s from=%s to=%s", team.id, old, new)
    lang = services.default_language
    await services.outbox.send(new, t(lang, "setup.migrated", team=naming.team(team, lang)))
    await services.decisions.chat_migrated(team, old)
