"""A stuck queue (SPEC §9): a group chat whose oldest queued message has waited longer than
`[limits] stuck_after` — the bot may no longer write there, or Telegram holds it back — is
told to the network admins privately, through the outbox, once per stuck episode (claimed in
the database, so a restart or a second process does not tell it again); the episode ends when
nothing in that chat has waited that long any more, and a later one is told again. A due-work
entry (bot.app.DUE_WORK): the sweep runs it at least once a minute."""

from __future__ import annotations

import logging

from bot.services import Services
from bot.texts import naming
from bot.texts.i18n import t
from storage.figures import Figures
from storage.stuck_chats import StuckChats

log = logging.getLogger(__name__)


async def check(services: Services) -> None:
    now = services.clock.now()
    limit = services.config.limits.stuck_after
    stuck = [
        queued
        for queued in await Figures(services.storage.db).queued_by_chat()
        # A private chat's queue is one person's; a group's holds up a team.
        if queued.key < 0 and now - queued.oldest >= limit
    ]
    episodes = StuckChats(services.storage.db)
    async with services.storage.unit():
        await episodes.end_except({queued.key for queued in stuck})
    for queued in stuck:
        owner = await services.storage.networks.of_chat(queued.key)
        if owner is not None and owner != services.storage.network_id:
            continue  # another network's chat: its admins are told (SPEC §1)
        async with services.storage.unit():  # the claim and the admins' messages
            if not await episodes.claim(queued.key, queued.oldest, now):
                continue
            minutes = int((now - queued.oldest).total_seconds() // 60)
            log.warning(
                "event=queue_stuck chat=%s queued=%d minutes=%d", queued.key, queued.count, minutes
            )
            team = await services.storage.teams.by_chat(queued.key)
            for admin_id in sorted(services.network.admins):
                person = await services.storage.people.by_telegram_id(admin_id)
                if person is None or not person.started_bot:
                    continue  # the bot may not write to them first
                lang = services.language_for("private", person.language_code)
                where = naming.team(team, lang) if team is not None else str(queued.key)
                await services.outbox.send(
                    admin_id,
                    t(lang, "stuck.admins", team=where, minutes=minutes, count=queued.count),
                )
