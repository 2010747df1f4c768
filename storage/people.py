"""People the bot has seen: the one table with names, usernames and Telegram ids."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from storage.db import Database, Row, to_db


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    telegram_id: int | None
    first_name: str | None
    last_name: str | None
    username: str | None
    language_code: str | None
    pseudonym: str
    started_bot: bool
    # How a text names a person (name, @username or pseudonym) is bot.texts.naming's.


def new_pseudonym() -> str:
    return f"Person-{secrets.token_hex(3)}"


# How often a person's last_seen_at is rewritten when nothing else about them changed.
SEEN_REFRESH = timedelta(hours=1)


class People:
    def __init__(self, db: Database, network_id: int) -> None:
        self.db = db
        self.network_id = network_id
        # Every update names its sender; most senders are unchanged since the last one, so
        # `seen` answers them from memory instead of writing the same row again.
        self._known: dict[int, tuple[Person, datetime]] = {}
        # People forgotten in this process: an update that read them just before is not
        # allowed to put them back into `_known`.
        self._dropped: set[int] = set()

    async def seen(
        self,
        telegram_id: int,
        first_name: str,
        last_name: str | None,
        username: str | None,
        language_code: str | None,
        now: datetime,
    ) -> Person:
        """Remember (or refresh) a user the bot has seen; usernames move between people."""
        known = self._known.get(telegram_id)
        if known is not None and known[0].id in self._dropped:
            known = None
        if known is not None:
            person, written = known
            same = (person.first_name, person.last_name, person.username) == (
                first_name,
                last_name,
                username,
            ) and (language_code is None or language_code == person.language_code)
            if same and now - written < SEEN_REFRESH:
                return person
        async with self.db.transaction() as tx:
            if username and (known is None or known[0].username != username):
                # A username belongs to one account at a time; whoever had it before lost it.
                await tx.execute(
                    "UPDATE people SET username = NULL WHERE network_id = ?"
                    " AND username = ? COLLATE NOCASE AND telegram_id IS NOT ?",
                    (self.network_id, username, telegram_id),
                )
            row = await tx.fetchone(
                "SELECT id FROM people WHERE network_id = ? AND telegram_id = ?",
                (self.network_id, telegram_id),
            )
            if row is None:
                person_id = await tx.execute(
                    "INSERT INTO people (network_id, telegram_id, first_name, last_name,"
                    " username, language_code, pseudonym, first_seen_at, last_seen_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        self.network_id,
                        telegram_id,
                        first_name,
                        last_name,
                        username,
                        language_code,
                        new_pseudonym(),
                        to_db(now),
                        to_db(now),
                    ),
                )
            else:
                person_id = row["id"]
                await tx.execute(
                    "UPDATE people SET first_name = ?, last_name = ?, username = ?,"
                    " language_code = COALESCE(?, language_code), last_seen_at = ?"
                    " WHERE id = ?",
                    (first_name, last_name, username, language_code, to_db(now), person_id),
                )
            fresh = await tx.fetchone("SELECT * FROM people WHERE id = ?", (person_id,))
        assert fresh is not None  # written just now, in the same transaction
        person = _person(fresh)
        if username:
            self._forget_username(username, keep=telegram_id)
        # Kept once committed: a unit of work rolled back leaves nobody in memory it undid.
        await self.db.after_commit(lambda: self._remember(telegram_id, person, now))
        return person

    def _remember(self, telegram_id: int, person: Person, written: datetime) -> None:
        if person.id not in self._dropped:
            self._known[telegram_id] = (person, written)

    def _forget_username(self, username: str, keep: int) -> None:
        for telegram_id, (person, _) in list(self._known.items()):
            if telegram_id != keep and (person.username or "").lower() == username.lower():
                del self._known[telegram_id]

    async def mark_started(self, person_id: int, started: bool = True) -> None:
        """Whether the bot may write to this person privately (they sent it a message)."""
        await self.db.execute(
            "UPDATE people SET started_bot = ? WHERE id = ?", (int(started), person_id)
        )

        def remember() -> None:  # once committed
            for telegram_id, (person, written) in list(self._known.items()):
                if person.id == person_id:
                    self._known[telegram_id] = (replace(person, started_bot=started), written)

        await self.db.after_commit(remember)

    def drop_cached(self, person_id: int) -> None:
        """After /forgetme: their next update must not find them here, only in the table,
        where nobody has their Telegram id any more — so they are a new person."""
        self._dropped.add(person_id)
        for telegram_id, (person, _) in list(self._known.items()):
            if person.id == person_id:
                del self._known[telegram_id]

    async def by_id(self, person_id: int) -> Person | None:
        row = await self.db.fetchone(
            "SELECT * FROM people WHERE id = ? AND network_id = ?", (person_id, self.network_id)
        )
        return _person(row) if row else None

    async def by_telegram_id(self, telegram_id: int) -> Person | None:
        row = await self.db.fetchone(
            "SELECT * FROM people WHERE network_id = ? AND telegram_id = ?",
            (self.network_id, telegram_id),
        )
        return _person(row) if row else None

    async def by_username(self, username: str) -> Person | None:
        row = await self.db.fetchone(
            "SELECT * FROM people WHERE network_id = ? AND username = ? COLLATE NOCASE",
            (self.network_id, username.lstrip("@")),
        )
        return _person(row) if row else None

    async def by_ids(self, person_ids: list[int]) -> dict[int, Person]:
        if not person_ids:
            return {}
        marks = ",".join("?" * len(person_ids))
        rows = await self.db.fetchall(
            f"SELECT * FROM people WHERE network_id = ? AND id IN ({marks})",
            (self.network_id, *person_ids),
        )
        return {row["id"]: _person(row) for row in rows}


def _person(row: Row) -> Person:
    return Person(
        id=row["id"],
        telegram_id=row["telegram_id"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        username=row["username"],
        language_code=row["language_code"],
        pseudonym=row["pseudonym"],
        started_bot=bool(row["started_bot"]),
    )
