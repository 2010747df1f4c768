"""Binding a group chat to a team (/setup), showing it (/team), and following the chat's
life: the bot's own rights (my_chat_member) and the upgrade to a supergroup."""

from __future__ import annotations

import logging

from telegram import ChatMember, ChatMemberUpdated, Update
from telegram.error import TelegramError

from bot.charter import refusals
from bot.charter.policy import DecisionKind, Process, RosterMode, TeamKind
from bot.charter.teams import (
    LT_CODE_ALPHABET,
    LT_CODE_LENGTH,
    LT_CODE_VALID,
    MAX_TEAM_NAME,
    SetupWords,
    bot_rights_refusal,
    kind_taken,
    lt_code_is_good,
    lt_code_of_link,
    lt_code_shown,
    may_bind,
    read_setup,
    roster_mode_for,
)
from bot.flows import admissions
from bot.flows.payloads import BindLt
from bot.flows.port import Priority
from bot.services import Deployment
from bot.telegram_side import deep_links
from bot.texts import naming
from bot.texts.i18n import Html, t
from handlers import networks
from handlers.common import (
    Context,
    bound_team,
    current_person,
    deployment_of,
    lang_of,
    refuse,
    remember_user,
    reply,
    reply_html,
    services_of,
)
from handlers.routing import named_network
from storage.lt_codes import LtCode, code_hash
from storage.teams import AlreadyBound, KindTaken, Team

log = logging.getLogger(__name__)

ADMIN_STATUSES = {ChatMember.ADMINISTRATOR, ChatMember.OWNER}


async def setup_team(update: Update, context: Context) -> None:
    """An admin binds this group chat to a team: /setup KIND NAME; in a bot of several
    networks /setup KIND [NETWORK] NAME, and an LT's /setup LT [CODE] NAME (SPEC §1)."""
    deployment = deployment_of(context)
    chat = update.effective_chat
    user = update.effective_user
    assert chat is not None and user is not None
    if chat.type not in ("group", "supergroup"):
        await reply(update, context, "setup.group_only")
        return
    several = not deployment.single
    read = read_setup(
        list(context.args or []),
        (lambda word: named_network(deployment, word) is not None) if several else None,
    )
    if read.kind is None or not read.name:
        await _usage(update, context)
        return
    kind, name = read.kind, read.name
    if len(name) > MAX_TEAM_NAME:
        await reply(update, context, "setup.name_too_long", limit=MAX_TEAM_NAME)
        return
    services = deployment.placed()
    if services is None:  # several networks, and nothing names one
        await _no_network_named(update, context, read)
        return
    existing = await services.storage.teams.by_chat(chat.id)
    if existing is not None:
        await refuse(update, context, refusals.ALREADY_BOUND, team=existing)
        return
    now = services.clock.now()
    is_network_admin = services.is_network_admin(user.id)
    code: LtCode | None = None
    if several and kind is TeamKind.LT:
        codes = services.storage.lt_codes
        hashed = code_hash(read.code) if read.code else await codes.attached(chat.id, now)
        code = await codes.valid_by_hash(hashed, now) if hashed else None
        if read.code is not None and code is None:  # spent, lapsed, forged, or elsewhere
            await refuse(update, context, refusals.LT_CODE_INVALID)
            return
    is_chat_admin = False
    if kind is TeamKind.LT and not is_network_admin:
        member = await chat.get_member(user.id)
        is_chat_admin = member.status in ADMIN_STATUSES
    refusal = may_bind(
        kind,
        is_network_admin=is_network_admin,
        is_chat_admin=is_chat_admin,
        needs_code=several,
        has_code=code is not None,
    )
    if refusal == refusals.NOT_NETWORK_ADMIN and deployment.of_admin(user.id):
        # an admin of another network: not of this one
        refusal = refusals.NOT_ADMIN_OF_NETWORK.with_params(network=services.network.name)
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
            now,
        )
    except AlreadyBound:  # bound a moment ago, by someone else
        bound = await services.storage.teams.by_chat(chat.id)
        await refuse(update, context, refusals.ALREADY_BOUND, team=bound or name)
        return
    except KindTaken:
        await refuse(update, context, refusals.KIND_TAKEN, kind=kind.value)
        return
    if code is not None:  # the whole update is one unit: the code is spent with the binding
        await services.storage.lt_codes.use(code.id, team.id, now)
    log.info(
        "event=team_bound team=%s kind=%s chat=%s network=%s code=%s",
        team.id,
        kind.value,
        chat.id,
        services.storage.network_id,
        code is not None,
    )
    if mode is RosterMode.CHAT:
        await add_chat_admins(context, team)
        if person is not None:
            await services.storage.rosters.admit(team.id, person.id, "chat", now)
    lang = lang_of(update, context)
    parts = [t(lang, "setup.done", team=naming.team(team, lang))]
    if several:
        parts[0] = t(
            lang, "setup.done_in", team=naming.team(team, lang), network=services.network.name
        )
    # The steps in the order that works; in the ST every entry needs its seat.
    seat = t(lang, "setup.next.seat") if kind is TeamKind.ST else ""
    parts.append(t(lang, f"setup.next.{mode.value}", seat=seat))
    if chat.type == "group":
        parts.append(t(lang, "setup.recommend_supergroup"))
    message = update.effective_message
    await services.outbox.send(
        chat.id, Html("\n\n".join(parts)), reply_to=message.message_id if message else None
    )


async def _usage(update: Update, context: Context) -> None:
    """How /setup is written; in a bot of several networks, how to name one, and an LT's code."""
    deployment = deployment_of(context)
    lang = lang_of(update, context)
    kinds = ", ".join(kind.value for kind in TeamKind)
    parts = [t(lang, "setup.usage", kinds=kinds)]
    if not deployment.single:
        parts.append(setup_usage_networks(deployment, lang))
    await reply_html(update, context, "\n\n".join(parts))


def setup_usage_networks(deployment: Deployment, lang: str) -> Html:
    """In a bot of several networks: /setup names the network after the kind (its key)."""
    keys = ", ".join(f"{s.network.key} ({s.network.name})" for s in deployment.networks)
    return t(lang, "setup.usage_networks", keys=keys, key=deployment.networks[-1].network.key)


async def _no_network_named(update: Update, context: Context, read: SetupWords) -> None:
    """A /setup in a bot of several networks that names none (no key, no code of a network,
    and the sender is an admin of none or of several): an admin of several is asked which;
    anyone else is refused as always."""
    deployment = deployment_of(context)
    chat = update.effective_chat
    user = update.effective_user
    assert chat is not None and user is not None
    theirs = deployment.of_admin(user.id)
    if read.code is not None:
        await refuse(update, context, refusals.LT_CODE_INVALID)
    elif len(theirs) > 1:
        await networks.ask_in_group(update, context, theirs)
    elif read.kind is TeamKind.LT:
        member = await chat.get_member(user.id)
        is_chat_admin = member.status in ADMIN_STATUSES
        await refuse(
            update, context, refusals.LT_CODE_NEEDED if is_chat_admin else refusals.NOT_CHAT_ADMIN
        )
    else:
        await refuse(update, context, refusals.NOT_NETWORK_ADMIN)


async def lt_code(update: Update, context: Context) -> None:
    """/ltcode: a network admin gets a one-time code (and a startgroup link) with which a
    group joins their network as an LT (SPEC §1). Only a bot of several networks needs one."""
    deployment = deployment_of(context)
    chat = update.effective_chat
    user = update.effective_user
    assert chat is not None and user is not None
    if deployment.single:
        await reply(update, context, "ltcode.not_needed")
        return
    services = deployment.placed()
    if services is None or not services.is_network_admin(user.id):
        if services is not None and deployment.of_admin(user.id):
            refusal = refusals.NOT_ADMIN_OF_NETWORK.with_params(network=services.network.name)
        elif deployment.of_admin(user.id):  # an unbound group, and an admin of several
            refusal = refusals.LT_CODE_PRIVATELY
        else:
            refusal = refusals.NOT_NETWORK_ADMIN
        await refuse(update, context, refusal, bot=services.bot_username if services else "")
        return
    private = chat.type == "private"
    if not private:
        person = await services.storage.people.by_telegram_id(user.id)
        if person is None or not person.started_bot:
            await refuse(update, context, refusals.LT_CODE_PRIVATELY, bot=services.bot_username)
            return
    now = services.clock.now()
    until = now + LT_CODE_VALID
    code = await services.storage.lt_codes.issue(
        LT_CODE_ALPHABET, LT_CODE_LENGTH, lt_code_is_good, now, until
    )
    log.info("event=lt_code_issued network=%s", services.storage.network_id)
    lang = services.language_for("private", user.language_code)
    text = t(
        lang,
        "ltcode.issued",
        network=services.network.name,
        code=lt_code_shown(code),
        until=services.local_datetime(until, lang, zone=True),
        link=deep_links.group_url(services.bot_username, BindLt(code)),
    )
    await services.outbox.send(user.id, text)
    if not private:
        await reply(update, context, "ltcode.sent_privately")


async def code_by_link(update: Update, context: Context, text: str) -> bool:
    """/start lt_<code> in a group (a startgroup link added the bot): the code waits for the
    group's /setup LT NAME, which binds the group into the code's network. False where this
    is no group of a bot of several networks (then /start is just /start)."""
    deployment = deployment_of(context)
    chat = update.effective_chat
    if chat is None or chat.type == "private" or deployment.single:
        return False
    services = deployment.placed()
    if services is not None:
        existing = await services.storage.teams.by_chat(chat.id)
        if existing is not None:
            await refuse(update, context, refusals.ALREADY_BOUND, team=existing)
            return True
    code = lt_code_of_link(text)
    found = (
        await services.storage.lt_codes.valid(code, services.clock.now())
        if services is not None and code is not None
        else None
    )
    if services is None or found is None:
        await refuse(update, context, refusals.LT_CODE_INVALID)
        return True
    await services.storage.lt_codes.attach(found.id, chat.id)
    await reply(
        update,
        context,
        "setup.code_brought",
        network=services.network.name,
        bot=services.bot_username,
    )
    return True


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
    chat = change.chat
    deployment = deployment_of(context)
    if chat.type == "private":  # blocked or unblocked: in every network that knows them
        may_write = change.new_chat_member.status == ChatMember.MEMBER
        for each in deployment.networks:
            person = await each.storage.people.by_telegram_id(chat.id)
            if person is not None and person.started_bot != may_write:
                await each.storage.people.mark_started(person.id, may_write)
        return
    if deployment.placed() is None:  # several networks, a group none of them has bound yet
        if _still_in(change) and _was_outside(change):
            first = deployment.first()
            names = " · ".join(each.network.name for each in deployment.networks)
            await first.outbox.send(
                chat.id,
                t(first.default_language, "setup.hello", bot=first.bot_username, network=names),
            )
        return
    services = services_of(context)
    team = await services.storage.teams.by_chat(chat.id)
    new = change.new_chat_member
    is_admin = new.status in ADMIN_STATUSES and bool(getattr(new, "can_invite_users", False))
    still_in_chat = new.status not in (ChatMember.LEFT, ChatMember.BANNED)
    lang = services.default_language
    if team is None:
        if still_in_chat and _was_outside(change):
            # Added to a group that is no team yet: say how to bind it.
            hello = t(lang, "setup.hello", bot=services.bot_username, network=services.network.name)
            await services.outbox.send(chat.id, hello)
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


def _still_in(change: ChatMemberUpdated) -> bool:
    return change.new_chat_member.status not in (ChatMember.LEFT, ChatMember.BANNED)


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
    services = deployment_of(context).placed()
    if services is None:
        return  # several networks, and no team of any has this chat: nothing to move
    team = await services.storage.teams.move_chat(old, new, services.clock.now())
    if team is None:
        return  # not bound, or the other half of the migration already moved it
    log.info("event=chat_migrated team=%s from=%s to=%s", team.id, old, new)
    lang = services.default_language
    await services.outbox.send(new, t(lang, "setup.migrated", team=naming.team(team, lang)))
    await services.decisions.chat_migrated(team, old)
