"""A stuck queue (SPEC §9): a chat whose oldest queued message has waited longer than
`[limits] stuck_after` — the bot may no longer write there, or Telegram holds it back or keeps
failing — is told to the network admins privately, through the outbox, once per stuck episode
(claimed in the database, so a restart or a second process does not tell it again); the
episode ends when nothing there has waited that long any more, and a later one is told again.

A team chat is told by its team. The private chats are told together, as counts (how many
messages wait, in how many private chats, the oldest since when): who they are for stays
private (SPEC §8), and one person's chat is one episode with all the others. A person who
blocked the bot is not stuck: Telegram refuses those messages, and they wait for nothing.
A due-work entry (bot.app.DUE_WORK): the sweep runs it at least once a minute."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from bot.services import Services
from bot.texts import naming
from bot.texts.i18n import Html, t
from storage.figures import Figures, Queued
from storage.stuck_chats import PRIVATE, StuckChats

log = logging.getLogger(__name__)


async def check(services: Services) -> None:
    now = services.clock.now()
    limit = services.config.limits.stuck_after
    stuck = [
        queued
        for queued in await Figures(services.storage.db).queued_by_chat()
        if now - queued.oldest >= limit
    ]
    groups = [queued for queued in stuck if queued.key < 0]
    private = [queued for queued in stuck if queued.key > 0]  # a person's id is the chat's
    episodes = StuckChats(services.storage.db)
    async with services.storage.unit():
        await episodes.end_except(
            {queued.key for queued in groups} | ({PRIVATE} if private else set())
        )
    for queued in groups:
        owner = await services.storage.networks.of_chat(queued.key)
        if owner is not None and owner != services.storage.network_id:
            continue  # another network's chat: its admins are told (SPEC §1)
        async with services.storage.unit():  # the claim and the admins' messages
            if not await episodes.claim(queued.key, queued.oldest, now):
                continue
            minutes = _minutes(now, queued.oldest)
            log.warning(
                "event=queue_stuck chat=%s queued=%d minutes=%d", queued.key, queued.count, minutes
            )
            await _tell_admins(services, await _group_text(services, queued, minutes))
    if private:
        oldest = min(queued.oldest for queued in private)
        count = sum(queued.count for queued in private)
        async with services.storage.unit():
            if not await episodes.claim(PRIVATE, oldest, now):
                return
            minutes = _minutes(now, oldest)
            log.warning(
                "event=queue_stuck chat=private chats=%d queued=%d minutes=%d",
                len(private),
                count,
                minutes,
            )
            await _tell_admins(
                services,
                lambda lang: t(
                    lang, "stuck.admins_private", count=count, chats=len(private), minutes=minutes
                ),
            )


async def _group_text(services: Services, queued: Queued, minutes: int) -> Callable[[str], Html]:
    team = await services.storage.teams.by_chat(queued.key)

    def text(lang: str) -> Html:
        where = naming.team(team, lang) if team is not None else str(queued.key)
        return t(lang, "stuck.admins", team=where, minutes=minutes, count=queued.count)

    return text


async def _tell_admins(services: Services, text: Callable[[str], Html]) -> None:
    """Each network admin who has started the bot, in their language."""
    for admin_id in sorted(services.network.admins):
        person = await services.storage.people.by_telegram_id(admin_id)
        if person is None or not person.started_bot:
            continue  # the bot may not write to them first
        lang = services.language_for("private", person.language_code)
        await services.outbox.send(admin_id, text(lang))


def _minutes(now: datetime, since: datetime) -> int:
    return int((now - since).total_seconds() // 60)
