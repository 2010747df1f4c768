"""Anliegen: petitions raised privately with the PT, and the messages of their conversation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from storage import events
from storage.db import Database, Row, from_db, from_db_required, to_db

# A /petition that was never finished stops waiting for its text after this long: a stray
# message a day later is not taken for a petition.
TEXT_WAIT = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Petition:
    id: int
    number: int  # the network's Anliegen #N (migration 029)
    sender_id: int | None
    text: str | None
    anonymous: bool | None
    status: str
    team_id: int | None
    created_at: datetime
    posted_at: datetime | None


class Petitions:
    def __init__(self, db: Database, network_id: int) -> None:
        self.db = db
        self.network_id = network_id

    async def start(self, sender_id: int, text: str | None, now: datetime) -> Petition:
        """A new petition; the sender's unfinished ones are dropped (one draft at a time)."""
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE petitions SET status = 'cancelled' WHERE sender_id = ?"
                " AND status IN ('awaiting_text', 'awaiting_choice')",
                (sender_id,),
            )
            petition_id = await tx.execute(
                "INSERT INTO petitions (network_id, sender_id, text, status, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    self.network_id,
                    sender_id,
                    text,
                    "awaiting_choice" if text else "awaiting_text",
                    to_db(now),
                ),
            )
            row = await tx.fetchone("SELECT * FROM petitions WHERE id = ?", (petition_id,))
        assert row is not None  # inserted just now, in the same transaction
        return _petition(row)

    async def get(self, petition_id: int) -> Petition | None:
        row = await self.db.fetchone(
            "SELECT * FROM petitions WHERE id = ? AND network_id = ?",
            (petition_id, self.network_id),
        )
        return _petition(row) if row else None

    async def awaiting_text(self, sender_id: int, now: datetime) -> Petition | None:
        """The sender's petition that waits for its text — unless the bot has asked them for
        a reason since (the newer question is the one their next message answers)."""
        row = await self.db.fetchone(
            "SELECT * FROM petitions c WHERE c.sender_id = ? AND c.status = 'awaiting_text'"
            " AND c.created_at > ? AND NOT EXISTS (SELECT 1 FROM reason_requests r"
            " WHERE r.person_id = c.sender_id AND r.asked_at >= c.created_at)"
            " ORDER BY c.id DESC LIMIT 1",
            (sender_id, to_db(now - TEXT_WAIT)),
        )
        return _petition(row) if row else None

    async def set_text(self, petition_id: int, text: str) -> bool:
        changed = await self.db.change(
            "UPDATE petitions SET text = ?, status = 'awaiting_choice'"
            " WHERE id = ? AND status = 'awaiting_text'",
            (text, petition_id),
        )
        return changed == 1

    async def claim(self, petition_id: int, sender_id: int, anonymous: bool, team_id: int) -> bool:
        """The sender chose: one atomic step, so a second press posts nothing."""
        changed = await self.db.change(
            "UPDATE petitions SET status = 'posting', anonymous = ?, team_id = ?"
            " WHERE id = ? AND sender_id = ? AND status = 'awaiting_choice'",
            (int(anonymous), team_id, petition_id, sender_id),
        )
        return changed == 1

    async def unclaim(self, petition_id: int) -> None:
        """Posting failed: the sender may choose again."""
        await self.db.change(
            "UPDATE petitions SET status = 'awaiting_choice', anonymous = NULL, team_id = NULL"
            " WHERE id = ? AND status = 'posting'",
            (petition_id,),
        )

    async def cancel(self, petition_id: int, sender_id: int) -> bool:
        changed = await self.db.change(
            "UPDATE petitions SET status = 'cancelled' WHERE id = ? AND sender_id = ?"
            " AND status IN ('awaiting_text', 'awaiting_choice')",
            (petition_id, sender_id),
        )
        return changed == 1

    async def posted(self, petition_id: int, chat_id: int, message_id: int, now: datetime) -> None:
        """The post is in the PT chat: replies to it find the petition from now on."""
        async with self.db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT sender_id, anonymous, team_id FROM petitions WHERE id = ?", (petition_id,)
            )
            assert row is not None, f"no petition {petition_id}"
            await tx.execute(
                "UPDATE petitions SET status = 'posted', posted_at = ? WHERE id = ?",
                (to_db(now), petition_id),
            )
            await tx.execute(
                "INSERT INTO petition_messages (petition_id, side, chat_id, message_id, at)"
                " VALUES (?, 'team', ?, ?, ?)",
                (petition_id, chat_id, message_id, to_db(now)),
            )
            # The record names the sender only where the PT saw the name too.
            await events.append(
                tx,
                self.network_id,
                "concern.posted",
                now,
                team_id=row["team_id"],
                actor_id=None if row["anonymous"] else row["sender_id"],
                data={"concern": petition_id, "anonymous": bool(row["anonymous"])},
            )

    async def by_team_message(self, chat_id: int, message_id: int) -> Petition | None:
        row = await self.db.fetchone(
            "SELECT c.* FROM petition_messages m JOIN petitions c ON c.id = m.petition_id"
            " WHERE m.side = 'team' AND m.chat_id = ? AND m.message_id = ?",
            (chat_id, message_id),
        )
        return _petition(row) if row else None

    async def by_sender_message(self, sender_id: int, message_id: int) -> Petition | None:
        row = await self.db.fetchone(
            "SELECT c.* FROM petition_messages m JOIN petitions c ON c.id = m.petition_id"
            " WHERE m.side = 'sender' AND c.sender_id = ? AND m.message_id = ?",
            (sender_id, message_id),
        )
        return _petition(row) if row else None

    async def first_team_message(self, petition_id: int) -> tuple[int, int] | None:
        """(chat id, message id) of the post in the PT chat."""
        row = await self.db.fetchone(
            "SELECT chat_id, message_id FROM petition_messages WHERE petition_id = ?"
            " AND side = 'team' ORDER BY id LIMIT 1",
            (petition_id,),
        )
        return (row["chat_id"], row["message_id"]) if row else None

    async def answered(
        self, petition_id: int, author_id: int, team_id: int | None, message_id: int, now: datetime
    ) -> None:
        """A PT member's answer was delivered to the sender as this private message."""
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO petition_messages (petition_id, side, message_id, author_id, at)"
                " VALUES (?, 'sender', ?, ?, ?)",
                (petition_id, message_id, author_id, to_db(now)),
            )
            await events.append(
                tx,
                self.network_id,
                "concern.answered",
                now,
                team_id=team_id,
                actor_id=author_id,
                data={"concern": petition_id},
            )

    async def sender_message(self, petition_id: int, message_id: int, now: datetime) -> None:
        """A message of the bot's in the sender's private chat that a reply may answer."""
        await self.db.execute(
            "INSERT INTO petition_messages (petition_id, side, message_id, at)"
            " VALUES (?, 'sender', ?, ?)",
            (petition_id, message_id, to_db(now)),
        )

    async def followed_up(
        self, petition: Petition, chat_id: int, message_id: int, now: datetime
    ) -> None:
        """The sender's follow-up is in the PT chat: replies to it reach them as well."""
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO petition_messages (petition_id, side, chat_id, message_id, at)"
                " VALUES (?, 'team', ?, ?, ?)",
                (petition.id, chat_id, message_id, to_db(now)),
            )
            await events.append(
                tx,
                self.network_id,
                "concern.followed_up",
                now,
                team_id=petition.team_id,
                actor_id=None if petition.anonymous else petition.sender_id,
                data={"concern": petition.id},
            )


def _petition(row: Row) -> Petition:
    return Petition(
        id=row["id"],
        number=row["number"],
        sender_id=row["sender_id"],
        text=row["text"],
        anonymous=None if row["anonymous"] is None else bool(row["anonymous"]),
        status=row["status"],
        team_id=row["team_id"],
        created_at=from_db_required(row["created_at"]),
        posted_at=from_db(row["posted_at"]),
    )
