"""LT codes (SPEC §1): one-time codes a network admin hands out, with which a group joins
that network as an LT. Only a hash is stored; a code is used once and lapses. `owner` and
`attached_to` look across networks (the code decides the network: handlers.routing); the
rest is this network's."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from storage.db import Database, to_db


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode("ascii", "replace")).hexdigest()


@dataclass(frozen=True, slots=True)
class LtCode:
    id: int
    network_id: int


class LtCodes:
    def __init__(self, db: Database, network_id: int) -> None:
        self.db = db
        self.network_id = network_id

    async def issue(
        self,
        alphabet: str,
        length: int,
        good: Callable[[str], bool],
        now: datetime,
        until: datetime,
    ) -> str:
        """A new code of this network, valid until `until`: drawn until `good` takes one."""
        while True:
            code = "".join(secrets.choice(alphabet) for _ in range(length))
            if good(code):
                break
        await self.db.execute(
            "INSERT INTO lt_codes (network_id, code_hash, issued_at, expires_at)"
            " VALUES (?, ?, ?, ?)",
            (self.network_id, code_hash(code), to_db(now), to_db(until)),
        )
        return code

    async def valid(self, code: str, now: datetime) -> LtCode | None:
        """This network's code, if it is still unused and has not lapsed."""
        return await self.valid_by_hash(code_hash(code), now)

    async def attach(self, code_id: int, chat_id: int) -> None:
        """A startgroup link brought the code to this group: its /setup LT NAME uses it."""
        await self.db.execute(
            "UPDATE lt_codes SET chat_id = ? WHERE id = ? AND network_id = ?",
            (chat_id, code_id, self.network_id),
        )

    async def attached(self, chat_id: int, now: datetime) -> str | None:
        """The hash of the valid code a link brought to this group (the latest)."""
        row = await self.db.fetchone(
            "SELECT code_hash FROM lt_codes WHERE chat_id = ? AND network_id = ?"
            " AND used_at IS NULL AND expires_at > ? ORDER BY id DESC LIMIT 1",
            (chat_id, self.network_id, to_db(now)),
        )
        return None if row is None else str(row[0])

    async def valid_by_hash(self, hashed: str, now: datetime) -> LtCode | None:
        row = await self.db.fetchone(
            "SELECT id, network_id FROM lt_codes WHERE code_hash = ? AND network_id = ?"
            " AND used_at IS NULL AND expires_at > ?",
            (hashed, self.network_id, to_db(now)),
        )
        return None if row is None else LtCode(int(row["id"]), int(row["network_id"]))

    async def use(self, code_id: int, team_id: int, now: datetime) -> bool:
        """The code bound this team: it is spent (False if it was already)."""
        changed = await self.db.change(
            "UPDATE lt_codes SET used_at = ?, team_id = ? WHERE id = ? AND network_id = ?"
            " AND used_at IS NULL",
            (to_db(now), team_id, code_id, self.network_id),
        )
        return changed == 1

    # -- across networks: which network a code, or a group a link brought one to, is for ---

    async def owner(self, code: str, now: datetime) -> int | None:
        """The network of a valid code (of any network)."""
        row = await self.db.fetchone(
            "SELECT network_id FROM lt_codes WHERE code_hash = ? AND used_at IS NULL"
            " AND expires_at > ?",
            (code_hash(code), to_db(now)),
        )
        return None if row is None else int(row[0])

    async def attached_to(self, chat_id: int, now: datetime) -> int | None:
        """The network of the valid code a link brought to this group (of any network)."""
        row = await self.db.fetchone(
            "SELECT network_id FROM lt_codes WHERE chat_id = ? AND used_at IS NULL"
            " AND expires_at > ? ORDER BY id DESC LIMIT 1",
            (chat_id, to_db(now)),
        )
        return None if row is None else int(row[0])
