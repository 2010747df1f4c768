"""/digest (/rueckblick): this chat's Wochenrückblick now, for the past seven days."""

from __future__ import annotations

from telegram import Update

from handlers.common import Context, bound_team, lang_of, reply_html, services_of


async def show_digest(update: Update, context: Context) -> None:
    team = await bound_team(update, context)
    if team is None:
        return
    digest = await services_of(context).digests.current(team.chat_id, lang_of(update, context))
    if digest is not None:
        text, about = digest
        await reply_html(update, context, text, about=about)
