"""The stuck episodes of chats' outbox queues (bot/flows/stuck.py): which chats the network
admins were told about, so that each episode is told once, also with several processes. The
private chats have one episode together, under `PRIVATE` (no chat has the id 0)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from storage.db import Database, to_db

PRIVATE = 0  # the key of the private chats' episode: they are told together, as counts


class StuckChats:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def claim(self, chat_id: int, since: datetime, now: datetime) -> bool:
        """Note a stuck episode of the chat; False when it was noted already (told)."""
        return (
            await self.db.change(
                "INSERT OR IGNORE INTO stuck_chats (chat_id, since, told_at) VALUES (?, ?, ?)",
                (chat_id, to_db(since), to_db(now)),
            )
            == 1
        )

    async def end_except(self, still_stuck: Collection[int]) -> int:
        """The episodes of the chats not in `still_stuck` are over."""
        rows = await self.db.fetchall("SELECT chat_id FROM stuck_chats")
        over = [int(row["chat_id"]) for row in rows if int(row["chat_id"]) not in still_stuck]
        for chat_id in over:
            await self.db.change("DELETE FROM stuck_chats WHERE chat_id = ?", (chat_id,))
        return len(over)
