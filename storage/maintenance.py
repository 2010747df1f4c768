"""What an operator asks of a database file as a whole (`wiq-bot backup`, `restore`, `migrate`):
is it sound, which schema, how much is in it, and what its next start will do. Read-only;
works on any schema this code ever wrote (a backup may be older than the code)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import Database, from_db, to_db

# The tables a line about a database names, in this order; the census counts every table.
HEADLINE = ("teams", "people", "proposals", "events")


@dataclass(frozen=True, slots=True)
class Census:
    schema: int
    rows: dict[str, int]  # every table (but schema_migrations): its row count
    last_event_at: datetime | None  # the newest entry of the record
    deadlines_passed: int  # open rounds, votes and revision windows whose end has passed
    queued_messages: int  # in the outbox, still to go out
    unhandled_updates: int  # in the inbox, fetched and not yet handled

    def headline(self) -> str:
        """`schema 021; 4 teams, 6 people, 3 proposals, 57 events`"""
        counts = ", ".join(f"{self.rows.get(table, 0)} {table}" for table in HEADLINE)
        return f"schema {self.schema:03d}; {counts}"


async def integrity(db: Database) -> list[str]:
    """`PRAGMA integrity_check`: ["ok"], or what is wrong (at most 20 lines). PostgreSQL
    keeps its pages sound itself (and checksums them, if the cluster was made so): "ok"."""
    check = db.dialect.integrity_sql()
    if check is None:
        return ["ok"]
    rows = await db.fetchall(check)
    return [str(row[0]) for row in rows]


async def census(db: Database, now: datetime) -> Census:
    tables = [str(row[0]) for row in await db.fetchall(db.dialect.tables_sql())]
    rows: dict[str, int] = {}
    for table in tables:
        row = await db.fetchone(f'SELECT COUNT(*) FROM "{table}"')  # names from the catalogue
        rows[table] = int(row[0]) if row else 0
    moment = to_db(now)

    async def count(sql: str, *needs: str) -> int:
        if not all(table in rows for table in needs):
            return 0
        row = await db.fetchone(sql, (moment,) if "?" in sql else ())
        return int(row[0]) if row else 0

    passed = (
        await count(
            "SELECT COUNT(*) FROM rounds WHERE closed_at IS NULL AND deadline <= ?", "rounds"
        )
        + await count(
            "SELECT COUNT(*) FROM votes WHERE closed_at IS NULL AND deadline <= ?", "votes"
        )
        + await count(
            "SELECT COUNT(*) FROM proposals WHERE status = 'awaiting_revision'"
            " AND revision_until <= ?",
            "proposals",
        )
    )
    last = None
    if "events" in rows:
        row = await db.fetchone("SELECT MAX(at) FROM events")
        last = from_db(row[0]) if row else None
    return Census(
        schema=max(await db.applied_versions(), default=0),
        rows=rows,
        last_event_at=last,
        deadlines_passed=passed,
        queued_messages=await count(
            "SELECT COUNT(*) FROM outbox WHERE status IN ('queued', 'sending')", "outbox"
        ),
        unhandled_updates=await count(
            "SELECT COUNT(*) FROM inbox WHERE handled_at IS NULL", "inbox"
        ),
    )
