"""The networks of a deployment, and which one a chat, a poll, a deep link's token or an
object a button names belongs to (SPEC §1): the only queries that look across networks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import Database, Transaction, to_db

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

# What `Networks.remove` deletes, in this order (each table before the ones it references):
# a table and which of its rows are the network's (?1 is its id). A table added later that
# holds a network's rows belongs here too (tests/test_ops_networks.py finds it if it is not).
_PROPOSALS = "SELECT id FROM proposals WHERE network_id = ?1"
_ROUNDS = f"SELECT id FROM rounds WHERE proposal_id IN ({_PROPOSALS})"
_VOTES = f"SELECT id FROM votes WHERE proposal_id IN ({_PROPOSALS})"
_ELECTIONS = "SELECT id FROM elections WHERE network_id = ?1"
_OWN = "network_id = ?1"
_REMOVAL: tuple[tuple[str, str], ...] = (
    ("ballots", f"vote_id IN ({_VOTES})"),
    ("vote_electorate", f"vote_id IN ({_VOTES})"),
    ("vote_polls", f"vote_id IN ({_VOTES})"),
    ("votes", f"proposal_id IN ({_PROPOSALS})"),
    ("responses", f"round_id IN ({_ROUNDS})"),
    ("carried_objections", f"round_id IN ({_ROUNDS})"),
    ("reason_requests", f"round_id IN ({_ROUNDS})"),
    ("round_electorate", f"round_id IN ({_ROUNDS})"),
    ("rounds", f"proposal_id IN ({_PROPOSALS})"),
    ("election_ballots", f"election_id IN ({_ELECTIONS})"),
    ("election_candidates", f"election_id IN ({_ELECTIONS})"),
    ("election_electorate", f"election_id IN ({_ELECTIONS})"),
    ("election_polls", f"election_id IN ({_ELECTIONS})"),
    ("elections", _OWN),
    ("petition_messages", "petition_id IN (SELECT id FROM petitions WHERE network_id = ?1)"),
    ("petitions", _OWN),
    ("nominations", _OWN),
    ("delegations", _OWN),
    ("digest_deliveries", _OWN),
    ("digest_slots", _OWN),
    ("invitations", _OWN),
    ("events", _OWN),
    ("proposals", _OWN),
    ("roster_entries", _OWN),
    # a queue that stays stuck for a chat of the network: its alert episode ends with it
    ("stuck_chats", "chat_id IN (SELECT chat_id FROM teams WHERE network_id = ?1)"),
    ("lt_codes", _OWN),
    ("setup_waits", "chat_id IN (SELECT chat_id FROM teams WHERE network_id = ?1)"),
    ("teams", _OWN),
    ("private_networks", _OWN),
    ("outbox", _OWN),
    ("people", _OWN),
    ("networks", "id = ?1"),
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

    async def wait_in_group(
        self, chat_id: int, telegram_id: int, update: str, now: datetime
    ) -> None:
        """A group's /setup that waits for its admin to pick the network (the latest one)."""
        await self.db.execute(
            "INSERT INTO setup_waits (chat_id, telegram_id, waiting, asked_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (chat_id, telegram_id) DO UPDATE SET waiting = excluded.waiting,"
            " asked_at = excluded.asked_at",
            (chat_id, telegram_id, update, to_db(now)),
        )

    async def take_group_wait(self, chat_id: int, telegram_id: int) -> str | None:
        """The /setup that waited for this admin's pick in this group (once: it is dropped;
        the pick is for that /setup only)."""
        async with self.db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT waiting FROM setup_waits WHERE chat_id = ? AND telegram_id = ?",
                (chat_id, telegram_id),
            )
            await tx.execute(
                "DELETE FROM setup_waits WHERE chat_id = ? AND telegram_id = ?",
                (chat_id, telegram_id),
            )
        return None if row is None else str(row[0])

    async def forget_choice(self, telegram_id: int) -> None:
        await self.db.execute("DELETE FROM private_networks WHERE telegram_id = ?", (telegram_id,))
        await self.db.execute("DELETE FROM setup_waits WHERE telegram_id = ?", (telegram_id,))

    async def counts(self, network_id: int) -> NetworkCounts:
        """What `wiq-bot networks` shows of one network: its bound chats, how many people it
        knows (not the forgotten), how many are on a roster, its proposals, and what is open
        (proposals not closed, elections not closed)."""
        name = await self.db.fetchone("SELECT name FROM networks WHERE id = ?", (network_id,))
        if name is None:
            raise LookupError(f"no network {network_id}")
        chats = await self.db.fetchall(
            "SELECT kind, name, chat_id FROM teams WHERE network_id = ? ORDER BY id",
            (network_id,),
        )
        row = await self.db.fetchone(
            "SELECT"
            " (SELECT COUNT(*) FROM people WHERE network_id = ?1 AND forgotten_at IS NULL),"
            " (SELECT COUNT(DISTINCT person_id) FROM roster_entries"
            "  WHERE network_id = ?1 AND left_at IS NULL),"
            " (SELECT COUNT(*) FROM proposals WHERE network_id = ?1),"
            " (SELECT COUNT(*) FROM proposals WHERE network_id = ?1 AND status != 'closed')"
            " + (SELECT COUNT(*) FROM elections WHERE network_id = ?1 AND status != 'closed')",
            (network_id,),
        )
        assert row is not None
        return NetworkCounts(
            id=network_id,
            name=str(name[0]),
            teams=len(chats),
            chats=[(str(c["kind"]), str(c["name"]), int(c["chat_id"])) for c in chats],
            people=int(row[0]),
            members=int(row[1]),
            proposals=int(row[2]),
            open_items=int(row[3]),
        )

    async def remove(self, network_id: int) -> dict[str, int]:
        """Every row of this network, in one transaction, children before what they name
        (`wiq-bot remove-network`, after its backup): returns how many rows of each table
        went. The record is append-only for the bot (a trigger refuses a DELETE on events);
        for this one statement the trigger is set aside and put back as it was, inside the
        same transaction — on SQLite dropped and created again from its own text, on
        PostgreSQL disabled and enabled (ALTER TABLE is transactional there): a removal that
        fails leaves the guard as it was. The other networks' rows are not touched."""
        removed: dict[str, int] = {}
        async with self.db.transaction() as tx:
            aside, back = await _append_only_guard(tx, self.db.is_postgres)
            for table, where in _REMOVAL:
                if table == "events":
                    for statement in aside:
                        await tx.execute(statement)
                removed[table] = await tx.rowcount(
                    f"DELETE FROM {table} WHERE {where}", (network_id,)
                )
                if table == "events":
                    for statement in back:
                        await tx.execute(statement)
        return removed


async def _append_only_guard(tx: Transaction, postgres: bool) -> tuple[list[str], list[str]]:
    """The statements that set the record's no-DELETE guard aside, and those that put it back
    as it was (the triggers on events that a DELETE meets)."""
    if postgres:
        rows = await tx.fetchall(
            "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " WHERE c.relname = 'events' AND c.relnamespace = current_schema()::regnamespace"
            " AND NOT t.tgisinternal AND t.tgenabled <> 'D' AND (t.tgtype & 8) <> 0"
        )  # tgtype's bit 8: fired by DELETE
        names = [str(row[0]) for row in rows]
        return (
            [f'ALTER TABLE events DISABLE TRIGGER "{name}"' for name in names],
            [f'ALTER TABLE events ENABLE TRIGGER "{name}"' for name in names],
        )
    rows = await tx.fetchall(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
        " AND tbl_name = 'events' AND sql LIKE '%DELETE ON events%'"
    )
    return [f'DROP TRIGGER "{row["name"]}"' for row in rows], [str(row["sql"]) for row in rows]
