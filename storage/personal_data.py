"""A person's data across every table (SPEC §8): all of it for /mydata, and /forgetme's
blanking of everything that identifies them while the record's counts stay as they were.

Tables are found from the schema (every column that refers to people, every username column),
so a table added later is covered without changing this module."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from storage import events, outbox
from storage.db import Database, JsonObject, Row, Transaction, to_db
from storage.outbox import Rename

# Columns holding JSON: shown as JSON in /mydata, not as a string inside a string.
JSON_COLUMNS = {("events", "data"), ("proposals", "payload"), ("proposals", "policy")}


@dataclass(frozen=True, slots=True)
class PersonColumns:
    """Where the schema refers to people: (table, column) by foreign key, and the columns
    that hold a username outside the people table."""

    references: list[tuple[str, str]]
    usernames: list[tuple[str, str, bool]]  # (table, column, NOT NULL)


@dataclass(frozen=True, slots=True)
class OpenQuestions:
    nominations: list[int]
    delegations: list[int]
    candidacies: list[tuple[int, int]]  # (election id, position)
    proposals: list[int]  # open decisions about the person (admission, UT seat)


class PersonalData:
    def __init__(self, db: Database, network_id: int) -> None:
        self.db = db
        self.network_id = network_id

    async def columns(self) -> PersonColumns:
        tables = [
            row["name"]
            for row in await self.db.fetchall(self.db.dialect.tables_sql())
            if row["name"] != "people"
        ]
        references: list[tuple[str, str]] = []
        usernames: list[tuple[str, str, bool]] = []
        for table in tables:
            for key in await self.db.fetchall(*self.db.dialect.references_sql(table)):
                if key["table"] == "people":
                    references.append((table, key["from"]))
            for column in await self.db.fetchall(*self.db.dialect.columns_sql(table)):
                if "username" in column["name"].lower():
                    usernames.append((table, column["name"], bool(column["notnull"])))
        return PersonColumns(references, usernames)

    async def personal_data(self, person_id: int) -> JsonObject:
        """Every row that refers to the person, by table; their own row under "person"."""
        person = await self.db.fetchone("SELECT * FROM people WHERE id = ?", (person_id,))
        if person is None:
            return {}
        found = await self.columns()
        tables: dict[str, list[JsonObject]] = {}
        for table, column in found.references:
            rows = await self.db.fetchall(
                f"SELECT * FROM {_quote(table)} WHERE {_quote(column)} = ?", (person_id,)
            )
            _add(tables, table, rows)
        if person["username"]:
            for table, column, _ in found.usernames:
                rows = await self.db.fetchall(
                    f"SELECT * FROM {_quote(table)} WHERE {_quote(column)} = ? COLLATE NOCASE",
                    (person["username"],),
                )
                _add(tables, table, rows)
        # The messages of their petitions' conversations, which name no person themselves.
        rows = await self.db.fetchall(
            "SELECT m.* FROM petition_messages m JOIN petitions c ON c.id = m.petition_id"
            " WHERE c.sender_id = ?",
            (person_id,),
        )
        _add(tables, "petition_messages", rows)
        team_ids = sorted(
            {row["team_id"] for rows in tables.values() for row in rows if row.get("team_id")}
        )
        teams = {}
        for team_id in team_ids:
            team = await self.db.fetchone("SELECT kind, name FROM teams WHERE id = ?", (team_id,))
            if team is not None:
                teams[str(team_id)] = {"kind": team["kind"], "name": team["name"]}
        return {
            "person": dict(person),
            "teams": teams,
            "tables": {name: tables[name] for name in sorted(tables)},
        }

    async def open_questions(self, person_id: int, username: str | None) -> OpenQuestions:
        """What is still open about the person and ends when they are forgotten."""
        # Also what names them by an @username they never confirmed (not bound to them yet).
        nominations = await self.db.fetchall(
            "SELECT id FROM nominations WHERE network_id = ? AND status = 'open' AND"
            " (candidate_id = ? OR (candidate_id IS NULL AND candidate_username = ?"
            " COLLATE NOCASE)) ORDER BY id",
            (self.network_id, person_id, username or ""),
        )
        delegations = await self.db.fetchall(
            "SELECT id FROM delegations WHERE network_id = ? AND status = 'pending' AND"
            " (person_id = ? OR (person_id IS NULL AND username = ? COLLATE NOCASE))"
            " ORDER BY id",
            (self.network_id, person_id, username or ""),
        )
        candidacies = await self.db.fetchall(
            "SELECT c.election_id, c.position FROM election_candidates c"
            " JOIN elections e ON e.id = c.election_id WHERE e.network_id = ?"
            " AND e.status = 'asking' AND c.status IN ('asked', 'standing')"
            " AND (c.person_id = ? OR (c.person_id IS NULL AND c.username = ? COLLATE NOCASE))",
            (self.network_id, person_id, username or ""),
        )
        proposals = await self.db.fetchall(
            "SELECT id FROM proposals WHERE network_id = ? AND subject_id = ?"
            " AND status != 'closed' ORDER BY id",
            (self.network_id, person_id),
        )
        return OpenQuestions(
            nominations=[row[0] for row in nominations],
            delegations=[row[0] for row in delegations],
            candidacies=[(row[0], row[1]) for row in candidacies],
            proposals=[row[0] for row in proposals],
        )

    async def forget(
        self,
        person_id: int,
        pseudonym: str,
        now: datetime,
        renames_html: Sequence[Rename] = (),
        renames_plain: Sequence[Rename] = (),
    ) -> bool:
        """Blank every name, username, Telegram id and private message id of the person, in
        one transaction; rows that count (responses, ballots, the record) stay, now pointing
        at a person who is only `pseudonym`. What waits in the outbox about them is dropped or
        re-rendered (`storage.outbox.forget_person`, with the forms a text named them by).
        False if they were forgotten already."""
        found = await self.columns()
        async with self.db.transaction() as tx:
            person = await tx.fetchone(
                "SELECT * FROM people WHERE id = ? AND forgotten_at IS NULL", (person_id,)
            )
            if person is None:
                return False
            await _replace_names(tx, person, pseudonym)
            if person["username"]:
                for table, column, not_null in found.usernames:
                    await tx.execute(
                        f"UPDATE {_quote(table)} SET {_quote(column)} = ?"
                        f" WHERE {_quote(column)} = ? COLLATE NOCASE",
                        ("" if not_null else None, person["username"]),
                    )
            await outbox.forget_person(
                tx, person_id, person["telegram_id"], renames_html, renames_plain
            )
            # Their invite links and open questions to them lead nowhere now.
            await tx.execute("DELETE FROM invitations WHERE person_id = ?", (person_id,))
            await tx.execute("DELETE FROM reason_requests WHERE person_id = ?", (person_id,))
            # Their petitions stay with the PT, unlinked from them; the private messages that
            # carried the conversation are theirs and go.
            await tx.execute(
                "DELETE FROM petition_messages WHERE side = 'sender' AND petition_id IN"
                " (SELECT id FROM petitions WHERE sender_id = ?)",
                (person_id,),
            )
            await tx.execute(
                "UPDATE petitions SET sender_id = NULL, status = CASE WHEN status = 'posted'"
                " THEN status ELSE 'cancelled' END WHERE sender_id = ?",
                (person_id,),
            )
            await tx.execute(
                "UPDATE people SET telegram_id = NULL, first_name = NULL, last_name = NULL,"
                " username = NULL, language_code = NULL, started_bot = 0, pseudonym = ?,"
                " first_seen_at = ?, last_seen_at = ?, forgotten_at = ? WHERE id = ?",
                (pseudonym, to_db(now), to_db(now), to_db(now), person_id),
            )
            await events.append(tx, self.network_id, "person.forgotten", now, subject_id=person_id)
        return True


async def _replace_names(tx: Transaction, person: Row, pseudonym: str) -> None:
    """Texts the bot wrote about the person (an admission's, a nomination's title) name them:
    the name becomes the pseudonym. A username is theirs alone, so it goes wherever it is."""
    full = " ".join(part for part in (person["first_name"], person["last_name"]) if part)
    replacements = [name for name in (full, person["first_name"]) if name]
    if replacements:
        rows = await tx.fetchall(
            "SELECT id, title, text FROM proposals WHERE subject_id = ?", (person["id"],)
        )
        for row in rows:
            await tx.execute(
                "UPDATE proposals SET title = ?, text = ? WHERE id = ?",
                (
                    _swap(row["title"], replacements, pseudonym),
                    _swap(row["text"], replacements, pseudonym),
                    row["id"],
                ),
            )
            for round_ in await tx.fetchall(
                "SELECT id, text FROM rounds WHERE proposal_id = ?", (row["id"],)
            ):
                await tx.execute(
                    "UPDATE rounds SET text = ? WHERE id = ?",
                    (_swap(round_["text"], replacements, pseudonym), round_["id"]),
                )
    username = person["username"]
    if username:
        handle = f"@{username}"
        for table, columns in (("proposals", ("title", "text")), ("rounds", ("text",))):
            for column in columns:
                rows = await tx.fetchall(
                    f"SELECT id, {column} FROM {table} WHERE instr(lower({column}), ?) > 0",
                    (handle.lower(),),
                )
                for row in rows:
                    await tx.execute(
                        f"UPDATE {table} SET {column} = ? WHERE id = ?",
                        (_swap_ci(row[column], handle, pseudonym), row["id"]),
                    )


def _swap(text: str, names: list[str], pseudonym: str) -> str:
    """Whole names only: "Eve" goes, "Evening" stays."""
    for name in names:
        text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", pseudonym, text)
    return text


def _swap_ci(text: str, handle: str, pseudonym: str) -> str:
    """Replace @username in any case, as a whole handle: "@anna" goes, "@annabelle" stays."""
    return re.sub(rf"(?<!\w){re.escape(handle)}(?!\w)", pseudonym, text, flags=re.IGNORECASE)


def _add(tables: dict[str, list[JsonObject]], table: str, rows: list[Row]) -> None:
    have = tables.setdefault(table, [])
    for row in rows:
        item = dict(row)
        for column, value in item.items():
            if (table, column) in JSON_COLUMNS and isinstance(value, str):
                with contextlib.suppress(ValueError):
                    item[column] = json.loads(value)
        if item not in have:
            have.append(item)
    if not have:
        del tables[table]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
