"""PostgreSQL behind the storage gateway: one asyncpg connection that answers the few calls
Database makes of its connection (those of aiosqlite's: `execute`, `execute_fetchall`,
`executemany`, `executescript`, `in_transaction`, `close`), so that Database, its unit of
work and every aggregate are the same on both backends.

Each statement is translated once (storage.dialect) and prepared once; its parameters are
brought to the types PostgreSQL inferred for them (SQLite takes a 5 for '5' and the other way
round; asyncpg does not), and a row is asyncpg's Record, read by name and by index as
sqlite3.Row is."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from storage.dialect import POSTGRES

SCHEMES = ("postgresql", "postgres")

T = TypeVar("T")

IntegrityError = asyncpg.IntegrityConstraintViolationError
"""A constraint or a guard of the schema refused a write (a UNIQUE index, the append-only
record)."""
DatabaseError = (asyncpg.PostgresError, asyncpg.InterfaceError)
"""The server refused or failed a statement, or the connection is unusable."""

_INSERT_INTO = re.compile(r"^\s*INSERT\s+INTO\s+\"?(\w+)\"?", re.IGNORECASE)
_RETURNING = re.compile(r"\sRETURNING\s", re.IGNORECASE)
_CONTROL = re.compile(r"^(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b")
_WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE|WITH)\b", re.IGNORECASE)

# The advisory locks' keys ("WiQ" in ASCII, and the next two): the one-bot guard, the write
# lock every writing transaction takes first, and the turn of workers opening the database.
GUARD_KEY = 0x576951
WRITE_KEY = GUARD_KEY + 1
OPENING_KEY = GUARD_KEY + 2

# A unit of work (SQLite's BEGIN IMMEDIATE) and a write outside one begin by taking the write
# lock, in one round trip: every writing transaction on the database, whichever worker's, is
# serialised as SQLite serialises its writers. Without it two workers' units would each miss
# what the other has not committed yet (two last presses: neither sees everyone responded),
# and next_id (MAX(id) + 1) would number two rows the same. Taken first, before any row
# lock, it cannot deadlock; the server releases it at COMMIT or ROLLBACK.
_LOCKED_BEGIN = f"BEGIN; SELECT pg_advisory_xact_lock({WRITE_KEY})"


def is_url(where: object) -> bool:
    """`where` names a PostgreSQL database (postgresql://…), not a SQLite file."""
    return isinstance(where, str) and where.split("://", 1)[0] in SCHEMES and "://" in where


def display(url: str) -> str:
    """The URL without its password, for log lines and messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


@dataclass(frozen=True, slots=True)
class Cursor:
    """What Database reads of an executed statement."""

    rowcount: int
    lastrowid: int | None


def _to_int(value: Any) -> Any:
    if isinstance(value, str):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool):
        return int(value)
    return value


def _to_float(value: Any) -> Any:
    return float(value) if isinstance(value, int | str) else value


def _to_text(value: Any) -> Any:
    if isinstance(value, bool):
        return str(int(value))
    return str(value) if isinstance(value, int | float) else value


def _to_bool(value: Any) -> Any:
    return bool(value) if isinstance(value, int) else value


def _as_is(value: Any) -> Any:
    return value


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "int2": _to_int,
    "int4": _to_int,
    "int8": _to_int,
    "float4": _to_float,
    "float8": _to_float,
    "text": _to_text,
    "varchar": _to_text,
    "bpchar": _to_text,
    "name": _to_text,
    "json": _to_text,
    "jsonb": _to_text,
    "bool": _to_bool,
}


class _Statement:
    __slots__ = ("converters", "identity", "prepared", "writes")

    def __init__(self, prepared: Any, identity: bool, writes: bool) -> None:
        self.prepared = prepared
        self.converters = tuple(
            _CONVERTERS.get(kind.name, _as_is) for kind in prepared.get_parameters()
        )
        self.identity = identity  # an INSERT given RETURNING id, for lastrowid
        self.writes = writes  # INSERT, UPDATE, DELETE (or a WITH …): takes the write lock

    def args(self, params: Iterable[Any]) -> list[Any]:
        return [
            None if value is None else convert(value)
            for convert, value in zip(self.converters, params, strict=True)
        ]


# What means the server is not there yet (or now): down, starting up, shutting down, full.
_UNREACHABLE = (
    OSError,
    TimeoutError,
    asyncpg.CannotConnectNowError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.TooManyConnectionsError,
)


async def unreachable(url: str) -> BaseException | None:
    """Why the server cannot be reached now (a start waits and tries again), or None once it
    answers — whatever it then says: a wrong password or a missing database is not waited
    for, the opening says what it is."""
    try:
        conn = await asyncpg.connect(url, timeout=10)
    except _UNREACHABLE as exc:
        return exc
    except Exception:
        return None
    await conn.close()
    return None


_when_lost: list[Callable[[], None]] = []


def when_lost(callback: Callable[[], None] | None) -> None:
    """What the process does when a connection to the server ends that it did not close (the
    server restarted, the network dropped, an administrator ended the session): `wiq-bot run`
    ends itself (bot.ops.run), as a kill -9 would end it, and its next start waits for the
    database; nothing committed is lost and what was not is done again. None: nothing."""
    _when_lost.clear()
    if callback is not None:
        _when_lost.append(callback)


def watch(conn: Any) -> Callable[[], None]:
    """Call `when_lost`'s callback if `conn` ends unless closed by us; returns what to call
    before closing it ourselves."""

    def ended(_: Any) -> None:
        for callback in list(_when_lost):
            callback()

    conn.add_termination_listener(ended)
    return lambda: conn.remove_termination_listener(ended)


class PostgresConnection:
    """One asyncpg connection, spoken to as Database speaks to aiosqlite's."""

    def __init__(self, conn: Any, identity_tables: frozenset[str]) -> None:
        self._conn = conn
        self._closing = watch(conn)
        self._identity_tables = identity_tables
        self._statements: dict[str, _Statement] = {}
        # asyncpg runs one operation at a time on a connection (and refuses a second one
        # meanwhile); aiosqlite queues them in the order they were handed over. This lock
        # queues them the same way (asyncio's Lock is first come, first served).
        self._turn = asyncio.Lock()

    @classmethod
    async def connect(cls, url: str) -> PostgresConnection:
        conn = await asyncpg.connect(
            url,
            statement_cache_size=0,  # statements are prepared and kept here
            server_settings={"application_name": "wiq-bot"},
        )
        return cls(conn, frozenset())

    async def load_schema(self) -> None:
        """Learn which tables number their rows (an `id` column, numbered by the baseline's
        next_id trigger): an INSERT into one answers its new id, as SQLite's lastrowid."""
        async with self._turn:
            rows = await self._conn.fetch(
                "SELECT table_name FROM information_schema.columns WHERE table_schema ="
                " current_schema() AND column_name = 'id'"
            )
        self._identity_tables = frozenset(str(row[0]) for row in rows)
        self._statements.clear()

    @property
    def in_transaction(self) -> bool:
        return bool(self._conn.is_in_transaction())

    async def _statement(self, sql: str) -> _Statement:
        found = self._statements.get(sql)
        if found is not None:
            return found
        text = POSTGRES.translate(sql)
        identity = False
        insert = _INSERT_INTO.match(text)
        if (
            insert is not None
            and insert.group(1) in self._identity_tables
            and not _RETURNING.search(text)
        ):
            text = text.rstrip().rstrip(";") + " RETURNING id"
            identity = True
        try:
            prepared = await self._conn.prepare(text)
        except asyncpg.PostgresError as exc:
            exc.add_note(f"as PostgreSQL's: {text}")
            raise
        statement = _Statement(prepared, identity, bool(_WRITES.match(text)))
        self._statements[sql] = statement
        return statement

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> Cursor:
        async with self._turn:
            if not parameters and _CONTROL.match(sql):
                # BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE: one simple round trip each; a
                # unit's BEGIN IMMEDIATE takes the write lock as it begins.
                control = _LOCKED_BEGIN if sql.startswith("BEGIN IMMEDIATE") else sql
                await self._conn.execute(POSTGRES.translate(control))
                return Cursor(-1, None)
            statement = await self._statement(sql)
            rows, status = await self._locked(statement, statement.args(parameters))
        count = status.rsplit(" ", 1)[-1]
        lastrowid = int(rows[0][0]) if statement.identity and rows else None
        return Cursor(int(count) if count.isdigit() else -1, lastrowid)

    async def execute_fetchall(self, sql: str, parameters: Sequence[Any] = ()) -> list[Any]:
        async with self._turn:
            statement = await self._statement(sql)
            rows, _ = await self._locked(statement, statement.args(parameters))
            return rows

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> Cursor:
        async with self._turn:
            statement = await self._statement(sql)
            rows = [statement.args(row) for row in parameters]
            if not statement.writes or self._conn.is_in_transaction():
                await statement.prepared.executemany(rows)
            else:
                await self._in_own_transaction(lambda: statement.prepared.executemany(rows))
        return Cursor(-1, None)

    async def _locked(self, statement: _Statement, args: list[Any]) -> tuple[list[Any], str]:
        """Run the statement; a write outside a unit runs in a transaction of its own that
        takes the write lock first (`_LOCKED_BEGIN`). Rows and the status line."""

        async def run() -> tuple[list[Any], str]:
            rows = list(await statement.prepared.fetch(*args))
            return rows, statement.prepared.get_statusmsg() or ""

        if not statement.writes or self._conn.is_in_transaction():
            return await run()
        return await self._in_own_transaction(run)

    async def _in_own_transaction(self, work: Callable[[], Awaitable[T]]) -> T:
        await self._conn.execute(_LOCKED_BEGIN)
        try:
            done = await work()
        except BaseException:
            if not self._conn.is_closed():
                with contextlib.suppress(asyncpg.PostgresError, asyncpg.InterfaceError):
                    await self._conn.execute("ROLLBACK")
            raise
        await self._conn.execute("COMMIT")
        return done

    async def executescript(self, script: str) -> Cursor:
        """A script as it is (no placeholders, no translation: a migration is written in
        PostgreSQL's words); the schema may have changed, so what was prepared is dropped."""
        async with self._turn:
            self._statements.clear()
            await self._conn.execute(script)
        await self.load_schema()
        return Cursor(-1, None)

    async def close(self) -> None:
        """After what was handed over before (as aiosqlite's close)."""
        async with self._turn:
            self._statements.clear()
            self._closing()
            await self._conn.close()
