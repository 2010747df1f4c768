"""The one-time catch-up of a database from before the outbox (schema < 018): the note that
it is due (`upgrade_catch_up`, written by the migrations that crossed 018, storage/db.py) and
what such a database left unposted, read from the state (bot/flows/upgrade.py posts it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import Database, from_db_required


@dataclass(frozen=True, slots=True)
class UnsentDigest:
    slot: datetime
    target: str
    chat_id: int
    team_id: int | None


class CatchUp:
    def __init__(self, db: Database, network_id: int) -> None:
        self.db = db
        self.network_id = network_id

    async def due_from(self) -> int | None:
        """The schema the database had before the migrations that crossed 018, if its
        catch-up has not been done."""
        row = await self.db.fetchone("SELECT MIN(from_schema) FROM upgrade_catch_up")
        return None if row is None or row[0] is None else int(row[0])

    async def done(self) -> None:
        """The catch-up is done: it never runs again (in the catch-up's unit of work)."""
        await self.db.change("DELETE FROM upgrade_catch_up")

    async def rounds_without_card(self) -> list[int]:
        """Open rounds whose card never went out (the stop came between the commit and the
        send)."""
        return await self._ids(
            "SELECT r.id FROM rounds r JOIN proposals p ON p.id = r.proposal_id"
            " WHERE p.network_id = ? AND r.card_message_id IS NULL AND r.closed_at IS NULL"
            " AND p.status = 'round_open' AND p.round_number = r.number ORDER BY r.id"
        )

    async def votes_without_poll(self) -> list[int]:
        """Open votes whose poll never went out."""
        return await self._ids(
            "SELECT v.id FROM votes v JOIN proposals p ON p.id = v.proposal_id"
            " WHERE p.network_id = ? AND v.closed_at IS NULL AND p.status = 'vote_open'"
            " AND NOT EXISTS (SELECT 1 FROM vote_polls vp WHERE vp.vote_id = v.id)"
            " ORDER BY v.id"
        )

    async def unannounced_rounds(self) -> list[int]:
        """Closed rounds whose result was never posted."""
        return await self._ids(
            "SELECT r.id FROM rounds r JOIN proposals p ON p.id = r.proposal_id"
            " WHERE p.network_id = ? AND r.outcome IS NOT NULL AND r.announced_at IS NULL"
            " ORDER BY r.id"
        )

    async def unannounced_votes(self) -> list[int]:
        """Closed votes whose result was never posted (nor their polls stopped)."""
        return await self._ids(
            "SELECT v.id FROM votes v JOIN proposals p ON p.id = v.proposal_id"
            " WHERE p.network_id = ? AND v.outcome IS NOT NULL AND v.announced_at IS NULL"
            " ORDER BY v.id"
        )

    async def effects_pending(self) -> list[int]:
        """Proposals decided whose consequences were not carried out."""
        return await self._ids(
            "SELECT id FROM proposals WHERE network_id = ? AND status = 'closed'"
            " AND effects_done_at IS NULL ORDER BY id"
        )

    async def petitions_posting(self) -> list[int]:
        """Petitions whose sender chose, but whose post never went out."""
        return await self._ids(
            "SELECT id FROM petitions WHERE network_id = ? AND status = 'posting' ORDER BY id"
        )

    async def unsent_digests(self) -> list[UnsentDigest]:
        """Digests claimed but never sent."""
        rows = await self.db.fetchall(
            "SELECT slot, target, chat_id, team_id FROM digest_deliveries"
            " WHERE network_id = ? AND sent_at IS NULL ORDER BY slot, chat_id",
            (self.network_id,),
        )
        return [
            UnsentDigest(
                from_db_required(row["slot"]), row["target"], row["chat_id"], row["team_id"]
            )
            for row in rows
        ]

    async def _ids(self, sql: str) -> list[int]:
        return [int(row[0]) for row in await self.db.fetchall(sql, (self.network_id,))]
