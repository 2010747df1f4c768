"""The networks of a deployment, and which one a chat, a poll, a deep link's token or an
object a button names belongs to (SPEC §1): the only queries that look across networks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import Database, to_db

# The tables whose rows a button or a deep link names, and how to reach their network.
_OWNER_OF = {
    "round": "SELECT p.network_id FROM rounds r JOIN proposals p ON p.id = r.proposal_id"
    " WHERE r.id = ?",
    "nomination": "SELECT network_id FROM nominations WHERE id = ?",
    "delegation": "SELECT network_id FROM delegations WHERE id = ?",
    "election": "SELECT network_id FROM elections WHERE id = ?",
    "petition": "SELECT network_id FROM petitions WHERE id = ?",
    "person": "SELECT network_id FROM people WHERE id = ?",
    "team": "SELECT network_id FROM teams WHERE id = ?",
}
_TOKEN_OF = (
    "SELECT network_id FROM nominations WHERE token = ?"
    " UNION ALL SELECT network_id FROM delegations WHERE token = ?"
    " UNION ALL SELECT e.network_id FROM election_candidates c"
    " JOIN elections e ON e.id = c.election_id WHERE c.token = ?"
)


@dataclass(frozen=True, slots=True)
class NetworkRow:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class NetworkCounts:
    """What `wiq-bot networks` shows of one network."""

    id: int
    name: str
    teams: int
    chats: list[tuple[str, str, int]]  # kind, name, chat id
    people: int
    members: int
    proposals: int
    open_items: int


class Networks:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def ensure(self, names: list[str], now: datetime) -> list[int]:
        """The ids of these networks, in this order; a name the database does not know yet
        is a new network — except that one network in the config and one in the database
        with another name is a rename (the record stays the network's)."""
        async with self.db.transaction() as tx:
            known = {
                str(row["name"]): int(row["id"])
                for row in await tx.fetchall("SELECT id, name FROM networks ORDER BY id")
            }
            if len(names) == 1 and len(known) == 1 and names[0] not in known:
                await tx.execute(
                    "UPDATE networks SET name = ? WHERE id = ?", (names[0], *known.values())
                )
                known = {names[0]: next(iter(known.values()))}
            ids = []
            for name in names:
                if name not in known:
                    row = await tx.fetchone(
                        "INSERT INTO networks (name, created_at) VALUES (?, ?) RETURNING id",
                        (name, to_db(now)),
                    )
                    assert row is not None
                    known[name] = int(row["id"])
                ids.append(known[name])
        return ids

    async def all(self) -> list[NetworkRow]:
        rows = await self.db.fetchall("SELECT id, name FROM networks ORDER BY id")
        return [NetworkRow(int(row["id"]), str(row["name"])) for row in rows]

    async def of_chat(self, chat_id: int) -> int | None:
        """The network of the team bound to this chat (a chat belongs to one)."""
        row = await self.db.fetchone("SELECT network_id FROM teams WHERE chat_id = ?", (chat_id,))
        return None if row is None else int(row[0])

    async def of_poll(self, poll_id: str) -> int | None:
        """The network of a vote's or an election's poll (a poll answer names no chat)."""
        row = await self.db.fetchone(
            "SELECT p.network_id FROM vote_polls vp JOIN votes v ON v.id = vp.vote_id"
            " JOIN proposals p ON p.id = v.proposal_id WHERE vp.poll_id = ?"
            " UNION ALL SELECT network_id FROM elections WHERE poll_id = ?"
            " UNION ALL SELECT e.network_id FROM election_polls ep"
            " JOIN elections e ON e.id = ep.election_id WHERE ep.poll_id = ?",
            (poll_id, poll_id, poll_id),
        )
        return None if row is None else int(row[0])

    async def of_object(self, kind: str, object_id: int) -> int | None:
        """The network of the row a button names: a round, a nomination, …"""
        row = await self.db.fetchone(_OWNER_OF[kind], (object_id,))
        return None if row is None else int(row[0])

    async def of_token(self, token: str) -> int | None:
        """The network of the request a deep link's token opens."""
        row = await self.db.fetchone(_TOKEN_OF, (token, token, token))
        return None if row is None else int(row[0])

    async def of_message(self, chat_id: int, message_id: int) -> int | None:
        """The network of a message the bot sent (a reply to it belongs there). The outbox
        forgets a private chat's message once it is sent: what a reply in a private chat may
        answer — an Anliegen's messages to its sender — is found by its petition."""
        row = await self.db.fetchone(
            "SELECT network_id FROM outbox WHERE chat_id = ? AND message_id = ?"
            " ORDER BY id DESC LIMIT 1",
            (chat_id, message_id),
        )
        if row is None and chat_id > 0:  # a private chat's id is its person's
            row = await self.db.fetchone(
                "SELECT c.network_id FROM petition_messages m"
                " JOIN petitions c ON c.id = m.petition_id JOIN people p ON p.id = c.sender_id"
                " WHERE m.side = 'sender' AND m.message_id = ? AND p.telegram_id = ?",
                (message_id, chat_id),
            )
        return None if row is None or row[0] is None else int(row[0])

    async def of_member(self, telegram_id: int) -> list[int]:
        """The networks this person is on a roster of, in order."""
        rows = await self.db.fetchall(
            "SELECT DISTINCT p.network_id FROM people p"
            " JOIN roster_entries r ON r.person_id = p.id AND r.left_at IS NULL"
            " WHERE p.telegram_id = ? ORDER BY p.network_id",
            (telegram_id,),
        )
        return [int(row[0]) for row in rows]

    async def known_to(self, telegram_id: int) -> list[int]:
        """The networks that have seen this person at all (a row in people)."""
        rows = await self.db.fetchall(
            "SELECT network_id FROM people WHERE telegram_id = ? ORDER BY network_id",
            (telegram_id,),
        )
        return [int(row[0]) for row in rows]

    async def chosen(self, telegram_id: int) -> int | None:
        """The network this person chose last for their private chat."""
        row = await self.db.fetchone(
            "SELECT network_id FROM private_networks WHERE telegram_id = ?", (telegram_id,)
        )
        return None if row is None else int(row[0])

    async def choose(self, telegram_id: int, network_id: int, now: datetime) -> str | None:
        """Remember the choice; returns the update that waited for it (once: it is dropped)."""
        async with self.db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT waiting FROM private_networks WHERE telegram_id = ?", (telegram_id,)
            )
            await tx.execute(
                "INSERT INTO private_networks (telegram_id, network_id, chosen_at)"
                " VALUES (?, ?, ?) ON CONFLICT (telegram_id) DO UPDATE SET"
                " network_id = excluded.network_id, chosen_at = excluded.chosen_at,"
                " waiting = NULL, asked_at = NULL",
                (telegram_id, network_id, to_db(now)),
            )
        return None if row is None or row[0] is None else str(row[0])

    async def wait_for_choice(self, telegram_id: int, update: str, now: datetime) -> None:
        """The update to run once the person chose their network (the latest one only)."""
        await self.db.execute(
            "INSERT INTO private_networks (telegram_id, waiting, asked_at) VALUES (?, ?, ?)"
            " ON CONFLICT (telegram_id) DO UPDATE SET waiting = excluded.waiting,"
            " asked_at = excluded.asked_at",
            (telegram_id, update, to_db(now)),
        )

    async def forget_choice(self, telegram_id: int) -> None:
        await self.db.execute("DELETE FROM private_networks WHERE telegram_id = ?", (telegram_id,))
