"""The one gateway to SQLite: connection settings, versioned migrations, serialized access."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, TypeAlias, TypeVar

import aiosqlite

log = logging.getLogger(__name__)

Row: TypeAlias = aiosqlite.Row
SqlValue: TypeAlias = str | int | float | bytes | None
"""What SQLite stores, and so what a statement's parameters may be (times go in as to_db)."""
Params: TypeAlias = Sequence[SqlValue]
JsonObject: TypeAlias = dict[str, Any]
"""A JSON object read back from a TEXT column (a policy, a payload, an event's data). Its shape
is its writer's, so its values are Any: whoever reads one checks what they use."""
T = TypeVar("T")


def to_db(moment: datetime) -> str:
    """Times are stored as UTC ISO text of one fixed width, so text order is time order."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    # "%Y-%m-%dT%H:%M:%S.%fZ", at a fraction of strftime's cost (a press stores one).
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def from_db(text: str | None) -> datetime | None:
    return None if text is None else from_db_required(text)


def from_db_required(text: str) -> datetime:
    """A time from a NOT NULL column."""
    return datetime.fromisoformat(text)  # the trailing Z makes it aware (UTC)


def json_list(values: Iterable[str]) -> str:
    """A set of values as one parameter, for `x IN (SELECT value FROM json_each(?))`: the
    charter's words come from the caller (storage may not import bot.charter), and one
    parameter keeps the SQL the same whatever their number."""
    return json.dumps(sorted(values))


def _migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) of every file in storage/migrations, in version order."""
    found = []
    for entry in resources.files("storage.migrations").iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            found.append((version, entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


class Database:
    """Owns the aiosqlite connection. Writes are one at a time: aiosqlite runs every statement
    in its one thread, in the order they were handed over. A transaction holds the lock from
    BEGIN to COMMIT, so no other coroutine's statement runs inside it; a statement on its own
    needs the lock only while a transaction holds it or waits for it, and otherwise goes
    straight into aiosqlite's queue, so that many presses cost one hop each, not one hop after
    another."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._exclusive = 0  # coroutines holding or waiting for the lock

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        # WAL + NORMAL survives a crash of the process (kill -9), which is what we guard.
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA synchronous=NORMAL")
        await conn.execute("PRAGMA foreign_keys=ON")
        await conn.execute("PRAGMA busy_timeout=5000")
        self._conn = conn
        await self._migrate()

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("database is not open")
        return self._conn

    async def _migrate(self) -> None:
        conn = self.conn
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        async with conn.execute("SELECT version FROM schema_migrations") as cursor:
            applied = {row[0] for row in await cursor.fetchall()}
        for version, name, sql in _migrations():
            if version in applied:
                continue
            log.info("event=migration_applied version=%s name=%s", version, name)
            # executescript commits on its own; the whole file runs in one transaction.
            await conn.executescript(
                "BEGIN;\n" + sql + f"\nINSERT INTO schema_migrations VALUES ({version}, '{name}', "
                f"'{to_db(datetime.now(UTC))}');\nCOMMIT;"
            )

    async def schema_version(self) -> int:
        row = await self.fetchone("SELECT MAX(version) FROM schema_migrations")
        return int(row[0]) if row and row[0] is not None else 0

    # Each call is one trip to aiosqlite's thread: on the hot path (a press) the trips, not
    # SQLite, are what costs.

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        """The first row of one statement (autocommit; with RETURNING, a write that is
        committed when this returns), or None."""
        rows = await self._alone(lambda: self.conn.execute_fetchall(sql, params))
        return next(iter(rows), None)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return list(await self._alone(lambda: self.conn.execute_fetchall(sql, params)))

    async def execute(self, sql: str, params: Params = ()) -> int:
        """One statement in its own transaction; returns lastrowid."""
        async with self.transaction() as tx:
            return await tx.execute(sql, params)

    async def change(self, sql: str, params: Params = ()) -> int:
        """One statement on its own, atomic by itself (autocommit); returns the rows changed."""
        cursor = await self._alone(lambda: self.conn.execute(sql, params))
        return cursor.rowcount

    async def _alone(self, statement: Callable[[], Awaitable[T]]) -> T:
        """Run one autocommit statement outside any other coroutine's transaction.

        `statement()` hands it to aiosqlite's queue. With no transaction open or waiting, that
        happens at once (it then runs before any BEGIN handed over later); otherwise it waits
        its turn for the lock."""
        if not self._exclusive:
            return await statement()
        async with self._locked():
            return await statement()

    @contextlib.asynccontextmanager
    async def _locked(self) -> AsyncIterator[None]:
        self._exclusive += 1
        try:
            async with self._lock:
                yield
        finally:
            self._exclusive -= 1

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any error."""
        async with self._locked():
            conn = self.conn
            await conn.execute("BEGIN IMMEDIATE")
            try:
                yield Transaction(conn)
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
            else:
                await conn.execute("COMMIT")


class Transaction:
    """Statements inside one open transaction (only handed out by Database.transaction)."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run a statement; returns lastrowid (of an INSERT)."""
        cursor = await self._conn.execute(sql, params)
        return cursor.lastrowid or 0

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        await self._conn.executemany(sql, rows)

    async def rowcount(self, sql: str, params: Params = ()) -> int:
        cursor = await self._conn.execute(sql, params)
        return cursor.rowcount

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self._conn.execute_fetchall(sql, params)
        return next(iter(rows), None)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return list(await self._conn.execute_fetchall(sql, params))
