"""Anliegen: concerns raised privately with the PT, and the messages of their conversation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from storage import events
from storage.db import Database, from_db, to_db

# A /concern that was never finished stops waiting for its text after this long: a stray
# message a day later is not taken for a concern.
TEXT_WAIT = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Concern:
    id: int
    sender_id: int | None
    text: str | None
    anonymous: bool | None
    status: str
    team_id: int | None
    created_at: datetime
    posted_at: datetime | None


class Concerns:
    def __init__(self, db: Database, network_id: int) -> None:
        self.db = db
        self.network_id = network_id

    async def start(self, sender_id: int, text: str | None, now: datetime) -> Concern:
        """A new concern; the sender's unfinished ones are dropped (one draft at a time)."""
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE concerns SET status = 'cancelled' WHERE sender_id = ?"
                " AND status IN ('awaiting_text', 'awaiting_choice')",
                (sender_id,),
            )
            concern_id = await tx.execute(
                "INSERT INTO concerns (network_id, sender_id, text, status, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    self.network_id,
                    sender_id,
                    text,
                    "awaiting_choice" if text else "awaiting_text",
                    to_db(now),
                ),
            )
            row = await tx.fetchone("SELECT * FROM concerns WHERE id = ?", (concern_id,))
        return _concern(row)

    async def get(self, concern_id: int) -> Concern | None:
        row = await self.db.fetchone(
            "SELECT * FROM concerns WHERE id = ? AND network_id = ?", (concern_id, self.network_id)
        )
        return _concern(row) if row else None

    async def posting(self) -> list[Concern]:
        """Concerns whose sender chose but whose post never went out (the bot stopped)."""
        rows = await self.db.fetchall(
            "SELECT * FROM concerns WHERE network_id = ? AND status = 'posting' ORDER BY id",
            (self.network_id,),
        )
        return [_concern(row) for row in rows]

    async def awaiting_text(self, sender_id: int, now: datetime) -> Concern | None:
        """The sender's concern that waits for its text — unless the bot has asked them for
        a reason since (the newer question is the one their next message answers)."""
        row = await self.db.fetchone(
            "SELECT * FROM concerns c WHERE c.sender_id = ? AND c.status = 'awaiting_text'"
            " AND c.created_at > ? AND NOT EXISTS (SELECT 1 FROM reason_requests r"
            " WHERE r.person_id = c.sender_id AND r.asked_at >= c.created_at)"
            " ORDER BY c.id DESC LIMIT 1",
            (sender_id, to_db(now - TEXT_WAIT)),
        )
        return _concern(row) if row else None

    async def set_text(self, concern_id: int, text: str) -> bool:
        changed = await self.db.change(
            "UPDATE concerns SET text = ?, status = 'awaiting_choice'"
            " WHERE id = ? AND status = 'awaiting_text'",
            (text, concern_id),
        )
        return changed == 1

    async def claim(self, concern_id: int, sender_id: int, anonymous: bool, team_id: int) -> bool:
        """The sender chose: one atomic step, so a second press posts nothing."""
        changed = await self.db.change(
            "UPDATE concerns SET status = 'posting', anonymous = ?, team_id = ?"
            " WHERE id = ? AND sender_id = ? AND status = 'awaiting_choice'",
            (int(anonymous), team_id, concern_id, sender_id),
        )
        return changed == 1

    async def unclaim(self, concern_id: int) -> None:
        """Posting failed: the sender may choose again."""
        await self.db.change(
            "UPDATE concerns SET status = 'awaiting_choice', anonymous = NULL, team_id = NULL"
            " WHERE id = ? AND status = 'posting'",
            (concern_id,),
        )

    async def cancel(self, concern_id: int, sender_id: int) -> bool:
        changed = await self.db.change(
            "UPDATE concerns SET status = 'cancelled' WHERE id = ? AND sender_id = ?"
            " AND status IN ('awaiting_text', 'awaiting_choice')",
            (concern_id, sender_id),
        )
        return changed == 1

    async def posted(self, concern_id: int, chat_id: int, message_id: int, now: datetime) -> None:
        """The post is in the PT chat: replies to it find the concern from now on."""
        async with self.db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT sender_id, anonymous, team_id FROM concerns WHERE id = ?", (concern_id,)
            )
            await tx.execute(
                "UPDATE concerns SET status = 'posted', posted_at = ? WHERE id = ?",
                (to_db(now), concern_id),
            )
            await tx.execute(
                "INSERT INTO concern_messages (concern_id, side, chat_id, message_id, at)"
                " VALUES (?, 'team', ?, ?, ?)",
                (concern_id, chat_id, message_id, to_db(now)),
            )
            # The record names the sender only where the PT saw the name too.
            await events.append(
                tx,
                self.network_id,
                "concern.posted",
                now,
                team_id=row["team_id"],
                actor_id=None if row["anonymous"] else row["sender_id"],
                data={"concern": concern_id, "anonymous": bool(row["anonymous"])},
            )

    async def by_team_message(self, chat_id: int, message_id: int) -> Concern | None:
        row = await self.db.fetchone(
            "SELECT c.* FROM concern_messages m JOIN concerns c ON c.id = m.concern_id"
            " WHERE m.side = 'team' AND m.chat_id = ? AND m.message_id = ?",
            (chat_id, message_id),
        )
        return _concern(row) if row else None

    async def by_sender_message(self, sender_id: int, message_id: int) -> Concern | None:
        row = await self.db.fetchone(
            "SELECT c.* FROM concern_messages m JOIN concerns c ON c.id = m.concern_id"
            " WHERE m.side = 'sender' AND c.sender_id = ? AND m.message_id = ?",
            (sender_id, message_id),
        )
        return _concern(row) if row else None

    async def first_team_message(self, concern_id: int) -> tuple[int, int] | None:
        """(chat id, message id) of the post in the PT chat."""
        row = await self.db.fetchone(
            "SELECT chat_id, message_id FROM concern_messages WHERE concern_id = ?"
            " AND side = 'team' ORDER BY id LIMIT 1",
            (concern_id,),
        )
        return (row["chat_id"], row["message_id"]) if row else None

    async def answered(
        self, concern_id: int, author_id: int, team_id: int | None, message_id: int, now: datetime
    ) -> None:
        """A PT member's answer was delivered to the sender as this private message."""
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO concern_messages (concern_id, side, message_id, author_id, at)"
                " VALUES (?, 'sender', ?, ?, ?)",
                (concern_id, message_id, author_id, to_db(now)),
            )
            await events.append(
                tx,
                self.network_id,
                "concern.answered",
                now,
                team_id=team_id,
                actor_id=author_id,
                data={"concern": concern_id},
            )

    async def sender_message(self, concern_id: int, message_id: int, now: datetime) -> None:
        """A message of the bot's in the sender's private chat that a reply may answer."""
        await self.db.execute(
            "INSERT INTO concern_messages (concern_id, side, message_id, at)"
            " VALUES (?, 'sender', ?, ?)",
            (concern_id, message_id, to_db(now)),
        )

    async def followed_up(
        self, concern: Concern, chat_id: int, message_id: int, now: datetime
    ) -> None:
        """The sender's follow-up is in the PT chat: replies to it reach them as well."""
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO concern_messages (concern_id, side, chat_id, message_id, at)"
                " VALUES (?, 'team', ?, ?, ?)",
                (concern.id, chat_id, message_id, to_db(now)),
            )
            await events.append(
                tx,
                self.network_id,
                "concern.followed_up",
                now,
                team_id=concern.team_id,
                actor_id=None if concern.anonymous else concern.sender_id,
                data={"concern": concern.id},
            )


def _concern(row: Any) -> Concern:
    return Concern(
        id=row["id"],
        sender_id=row["sender_id"],
        text=row["text"],
        anonymous=None if row["anonymous"] is None else bool(row["anonymous"]),
        status=row["status"],
        team_id=row["team_id"],
        created_at=from_db(row["created_at"]),  # type: ignore[arg-type]
        posted_at=from_db(row["posted_at"]),
    )
