"""The one gateway to the database (SQLite, the embedded default, or PostgreSQL): versioned
migrations, serialized access, and the unit of work: one transaction for everything a handled
update or a due item does, with what must happen only once it is committed (`after_commit`).

What differs between the backends is elsewhere: how a SQLite file is opened and copied in
storage/sqlite.py, the PostgreSQL connection in storage/postgres.py, the SQL that differs in
storage/dialect.py. Database speaks to either connection through the same few calls
(`Connection`).
A SQLite unit's statements run on the event loop's own thread, straight on aiosqlite's sqlite3
connection, not as trips to aiosqlite's thread (`Database.transaction`, "On the loop's
thread"): a trip costs a press more than the statement does."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, Protocol, TypeAlias, TypeVar

import aiosqlite

from storage import postgres, sqlite
from storage.dialect import POSTGRES, SQLITE, Dialect
from storage.sqlite import PRIVATE, create_private

__all__ = ["PRIVATE", "DatabaseError", "IntegrityError", "create_private"]

log = logging.getLogger(__name__)

IntegrityError = (sqlite.IntegrityError, postgres.IntegrityError)
"""What a write refused by the schema raises, on either backend (`except IntegrityError:`)."""
DatabaseError = (sqlite.DatabaseError, *postgres.DatabaseError)
"""What a database that cannot be used raises, on either backend: not a database, a server
that refuses (OSError: one that cannot be reached)."""


class Row(Protocol):
    """A row as both backends return it (sqlite3.Row, asyncpg's Record): by index and by
    name, `keys()`, and so `dict(row)`."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def keys(self) -> Iterable[str]: ...

    def __iter__(self) -> Iterator[Any]: ...

    def __len__(self) -> int: ...


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    @property
    def lastrowid(self) -> int | None: ...


class Connection(Protocol):
    """The calls Database makes of its connection: aiosqlite's, answered by
    storage.postgres.PostgresConnection too."""

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Awaitable[Cursor]: ...

    def execute_fetchall(
        self, sql: str, parameters: Sequence[Any] = ..., /
    ) -> Awaitable[Iterable[Row]]: ...

    def executemany(
        self, sql: str, parameters: Iterable[Sequence[Any]], /
    ) -> Awaitable[Cursor]: ...

    def executescript(self, script: str, /) -> Awaitable[Cursor]: ...

    @property
    def in_transaction(self) -> bool: ...

    async def close(self) -> None: ...


SqlValue: TypeAlias = str | int | float | bytes | None
"""What SQLite stores, and so what a statement's parameters may be (times go in as to_db)."""
Params: TypeAlias = Sequence[SqlValue]
JsonObject: TypeAlias = dict[str, Any]
"""A JSON object read back from a TEXT column (a policy, a payload, an event's data). Its shape
is its writer's, so its values are Any: whoever reads one checks what they use."""
T = TypeVar("T")
Hook: TypeAlias = Callable[[], object]
"""What runs once a unit is committed: a plain function (an in-memory cache brought up to what
was committed; what it returns is ignored) or one returning an awaitable, which is awaited (a
flush of the outbox, the answer to a press)."""


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


CHECKPOINT_EVERY = 200
"""Commits between two checkpoints of the WAL, which copy it into the database and fsync: run
by a connection of their own in a thread (`Database._checkpoint_if_due`), never on the event
loop's thread inside a COMMIT (SQLite's automatic checkpoint is off on the bot's
connection)."""


class SchemaTooNew(Exception):
    """The database was written by a newer version: it is left as it is, never half-migrated."""

    def __init__(self, path: Path | str, version: int, known: int) -> None:
        super().__init__(
            f"{path} has schema {version:03d}, newer than this wiq-bot knows ({known:03d})"
        )
        self.version = version
        self.known = known


OUTBOX_SCHEMA = 18
"""The migration that brought the outbox table: before it, what was not posted yet was in
memory only (a database crossing it is caught up once: `CATCH_UP_SCHEMA`)."""
CATCH_UP_SCHEMA = 24
"""The migration that creates `upgrade_catch_up`, where a run of migrations that crossed
OUTBOX_SCHEMA notes it (in that migration's transaction) for bot.flows.upgrade."""


def code_version() -> int:
    """The schema this code builds: the number of its newest migration (the same in both
    dialects: tests/test_postgres.py checks that every migration after the PostgreSQL
    baseline exists in both)."""
    return max(version for version, _, _ in _migrations())


def migration_backup_path(database: Path, version: int, now: datetime) -> Path:
    """Where the backup before a run of migrations goes: beside the database, named by the
    schema it holds and the time."""
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return database.with_name(f"{database.name}.schema{version:03d}-{stamp}.bak")


def _migrations(package: str = "storage.migrations") -> list[tuple[int, str, str]]:
    """(version, name, sql) of every file in storage/migrations (or storage/migrations_pg:
    PostgreSQL's, from its baseline on), in version order."""
    found = []
    for entry in resources.files(package).iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            found.append((version, entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


class Database:
    """Owns the aiosqlite connection. Writes are one at a time: aiosqlite runs every statement
    in its one thread, in the order they were handed over. A transaction holds the lock from
    BEGIN to COMMIT, so no other coroutine's statement runs inside it; a statement on its own
    needs the lock only while a transaction holds it or waits for it, and otherwise goes
    straight into aiosqlite's queue.

    A transaction is ambient for the task that opened it (the unit of work): while it is open,
    every statement of that task (`fetchone`, `fetchall`, `execute`, `change`) runs inside it,
    and a `transaction()` opened inside it is a SAVEPOINT of it (released with it, rolled
    back to on error) — not a wait for the lock, which the unit holds. A task started inside
    the unit inherits the unit's context but is not its owner: its statements wait for the
    lock as anyone else's."""

    def __init__(self, path: Path | str) -> None:
        """`path`: a SQLite file, or a PostgreSQL URL (postgresql://…)."""
        self.url: str | None = str(path) if postgres.is_url(path) else None
        self.path: Path | None = None if self.url else Path(path)
        self.where: Path | str = self.path or postgres.display(str(self.url))
        """What log lines and messages call the database (a URL without its password)."""
        self.dialect: Dialect = POSTGRES if self.url else SQLITE
        self._conn: Connection | None = None
        self._lock = asyncio.Lock()
        self._exclusive = 0  # coroutines holding or waiting for the lock
        # On the loop's thread (see `transaction`): the sqlite3 connection under aiosqlite's,
        # when a unit's statements run here (a writable database in WAL mode), else None.
        self._here: sqlite3.Connection | None = None
        self._in_thread = 0  # statements handed to aiosqlite's thread and not finished
        self._thread_idle = asyncio.Event()
        self._thread_idle.set()
        self._commits = 0  # since the last checkpoint
        # The WAL's checkpoints: a second connection to the file (SQLite in WAL mode, when
        # units run on the loop's thread), and whether one of them is running.
        self._checkpointer: sqlite3.Connection | None = None
        self._checkpointing: asyncio.Future[None] | None = None
        # What the last open's migrations did: the names applied, the schema before them
        # (None: a new database), and the backup before them.
        self.migrated: list[str] = []
        self.migrated_from: int | None = None
        self.migration_backup: Path | None = None

    @property
    def is_postgres(self) -> bool:
        return self.url is not None

    async def open(self, *, migrate: bool = True, readonly: bool = False) -> None:
        """Open (and create, mode PRIVATE) the database and apply what migrations are pending.
        `migrate=False` opens it as it is, and only if it exists; `readonly` also never writes
        to it (health, backups, the check of a file to restore). A PostgreSQL database must
        exist (the host creates it, empty, owned by the bot's role); `readonly` there is a
        promise of this code, not a setting of the connection."""
        conn: Connection
        here: sqlite3.Connection | None = None
        if self.url is not None:
            pg = await postgres.PostgresConnection.connect(self.url)
            await pg.load_schema()
            conn = pg
        else:
            assert self.path is not None
            lite = await sqlite.connect(self.path, migrate=migrate, readonly=readonly)
            # A writable file in WAL mode: a unit's statements run on the loop's thread.
            here = None if readonly else await sqlite.on_the_loop(lite)
            if here is not None:
                self._checkpointer = await asyncio.to_thread(sqlite.checkpointer, self.path)
            conn = lite
        try:
            self._conn = conn
            self._here = here
            if migrate and not readonly:
                await self._migrate()
        except BaseException:
            self._conn = None
            self._close_checkpointer()
            await conn.close()
            raise

    def _close_checkpointer(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.close()
            self._checkpointer = None

    async def close(self) -> None:
        running = self._checkpointing
        if running is not None and not running.done():
            await asyncio.wait([running])  # its thread uses the checkpointer's connection
        self._close_checkpointer()  # first: the last connection to close ends the WAL
        if self._conn is not None:
            if self._here is not None:
                with contextlib.suppress(Exception):  # what the last commits left in the WAL
                    await self._conn.execute_fetchall("PRAGMA wal_checkpoint(PASSIVE)")
            await self._conn.close()
            self._conn = None
            self._here = None

    @property
    def conn(self) -> Connection:
        if self._conn is None:
            raise RuntimeError("database is not open")
        return self._conn

    async def _migrate(self) -> None:
        """Apply the pending migrations, each in one transaction, after a backup beside the
        database (unless it is new); a database of a newer schema is refused untouched."""
        conn = self.conn
        applied = await self.applied_versions()
        known = code_version()
        if applied and max(applied) > known:
            raise SchemaTooNew(self.where, max(applied), known)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        pending = [m for m in self._own_migrations() if m[0] not in applied]
        self.migrated, self.migration_backup = [], None
        self.migrated_from = max(applied) if applied else None
        if pending and applied and self.path is not None:
            # PostgreSQL's DDL is transactional (a migration that fails leaves nothing) and
            # its backups are the host's (pg_dump, `wiq-bot backup`): no copy is made here.
            target = migration_backup_path(self.path, max(applied), datetime.now(UTC))
            await self.backup_to(target)
            self.migration_backup = target
            log.info("event=migration_backup schema=%03d path=%s", max(applied), target)
        if pending and not applied:
            log.info("event=database_created path=%s schema=%03d", self.where, known)
        for version, name, sql in pending:
            # A new database's migrations are one line (above); an upgrade's, one each.
            log.log(
                logging.INFO if applied else logging.DEBUG,
                "event=migration_applied version=%s name=%s",
                version,
                name,
            )
            # executescript commits on its own; the whole file runs in one transaction, and a
            # file that fails leaves the schema as it was before it.
            now = to_db(datetime.now(UTC))
            if version == CATCH_UP_SCHEMA and self.crossed_outbox():
                sql += (
                    "\nINSERT OR IGNORE INTO upgrade_catch_up VALUES"
                    f" ({self.migrated_from}, '{now}');"
                )
            try:
                await conn.executescript(
                    "BEGIN;\n" + sql + f"\nINSERT INTO schema_migrations VALUES ({version}, "
                    f"'{name}', '{now}');\nCOMMIT;"
                )
            except BaseException:
                if conn.in_transaction:
                    await conn.execute("ROLLBACK")
                raise
            self.migrated.append(name)

    def crossed_outbox(self) -> bool:
        """The migrations of this open took a database of schema < OUTBOX_SCHEMA past it."""
        return self.migrated_from is not None and self.migrated_from < OUTBOX_SCHEMA

    def _own_migrations(self) -> list[tuple[int, str, str]]:
        """This backend's migrations: SQLite's all, PostgreSQL's from its baseline (024: the
        schema every SQLite migration up to it builds) on."""
        return _migrations("storage.migrations_pg" if self.url else "storage.migrations")

    async def applied_versions(self) -> set[int]:
        """The versions of the migrations applied to this database (none if it has no
        schema_migrations table: new, or not ours). On PostgreSQL the baseline counts as
        every version up to its own."""
        has_table = await self.conn.execute_fetchall(
            self.dialect.has_table_sql(), ("schema_migrations",)
        )
        if not list(has_table):
            return set()
        rows = await self.conn.execute_fetchall("SELECT version FROM schema_migrations")
        return {int(row[0]) for row in rows}

    async def pending_migrations(self) -> list[str]:
        """The file names of the migrations not applied yet, in the order they would run."""
        applied = await self.applied_versions()
        return [name for version, name, _ in self._own_migrations() if version not in applied]

    async def backup_to(self, target: Path) -> int:
        """A consistent copy of the SQLite database as it is now, in `target`, mode PRIVATE
        (storage.sqlite.backup); returns its size in bytes. PostgreSQL's are pg_dump's
        (bot.ops.database)."""
        if self.path is None:
            raise RuntimeError("a PostgreSQL database is copied with pg_dump")
        conn = self.conn
        assert isinstance(conn, aiosqlite.Connection)
        # Counted as aiosqlite's work: a unit on the loop's thread waits for it to finish.
        return await self._in_aiosqlite(lambda: sqlite.backup(conn, target))

    async def schema_version(self) -> int:
        row = await self.fetchone("SELECT MAX(version) FROM schema_migrations")
        return int(row[0]) if row and row[0] is not None else 0

    # Outside a unit, each call is one trip to aiosqlite's thread; inside one, a statement
    # on the loop's thread (see `transaction`).

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        """The first row of one statement, or None. Inside the unit of work it is part of it;
        outside, autocommit (with RETURNING, a write that is committed when this returns)."""
        unit = self.current()
        if unit is not None:
            return await unit.fetchone(sql, params)
        rows = await self._alone(lambda: self.conn.execute_fetchall(sql, params))
        return next(iter(rows), None)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        unit = self.current()
        if unit is not None:
            return await unit.fetchall(sql, params)
        return list(await self._alone(lambda: self.conn.execute_fetchall(sql, params)))

    async def execute(self, sql: str, params: Params = ()) -> int:
        """One statement, atomic by itself (also inside a unit: SQLite undoes a statement that
        fails); returns lastrowid."""
        unit = self.current()
        if unit is not None:
            return await unit.execute(sql, params)
        async with self.transaction() as tx:
            return await tx.execute(sql, params)

    async def change(self, sql: str, params: Params = ()) -> int:
        """One statement, atomic by itself (outside a unit: autocommit); returns the rows
        changed."""
        unit = self.current()
        if unit is not None:
            return await unit.rowcount(sql, params)
        cursor = await self._alone(lambda: self.conn.execute(sql, params))
        return cursor.rowcount

    async def _alone(self, statement: Callable[[], Awaitable[T]]) -> T:
        """Run one autocommit statement outside any other coroutine's transaction.

        `statement()` hands it to aiosqlite's queue. With no transaction open or waiting, that
        happens at once (a unit that begins meanwhile waits for it to finish:
        `_thread_drained`); otherwise it waits its turn for the lock."""
        if not self._exclusive:
            result = await self._in_aiosqlite(statement)
        else:
            async with self._locked():
                result = await self._in_aiosqlite(statement)
        await self._checkpoint_if_due()
        return result

    async def _in_aiosqlite(self, statement: Callable[[], Awaitable[T]]) -> T:
        """`statement()` in aiosqlite's thread, counted: a unit on the loop's thread begins
        only once nothing handed there is still running (`_thread_drained`)."""
        self._in_thread += 1
        self._thread_idle.clear()
        try:
            return await statement()
        finally:
            self._in_thread -= 1
            if not self._in_thread:
                self._thread_idle.set()
            self._commits += 1  # an autocommit statement, as far as the WAL is concerned

    async def _thread_drained(self) -> None:
        while self._in_thread:
            await self._thread_idle.wait()

    async def _checkpoint_if_due(self) -> None:
        """Every CHECKPOINT_EVERY commits (and statements outside a unit), a checkpoint of the
        WAL, by the task whose commit made it due, once its unit and what followed the commit
        are done (a press is answered before it): on the checkpointer's own connection, in a
        thread, one at a time. A PASSIVE checkpoint waits for no reader or writer, and no
        unit waits for it: it copies what was committed into the database file and fsyncs
        while the units go on (each checkpoint's fsync, handed to aiosqlite's thread, held
        every unit up behind it: on a busy machine a twentieth of the bot's time)."""
        if self._here is None or self._commits < CHECKPOINT_EVERY:
            return
        running = self._checkpointing
        if running is not None and not running.done():
            return  # one at a time; the next commit asks again
        self._commits = 0
        checkpointer = self._checkpointer
        try:
            if checkpointer is None:
                await self._alone(
                    lambda: self.conn.execute_fetchall("PRAGMA wal_checkpoint(PASSIVE)")
                )
                return
            running = asyncio.ensure_future(asyncio.to_thread(sqlite.checkpoint, checkpointer))
            self._checkpointing = running
            await asyncio.shield(running)  # a cancelled waiter leaves the thread its work
        except Exception:
            log.exception("event=checkpoint_failed")

    @contextlib.asynccontextmanager
    async def _locked(self) -> AsyncIterator[None]:
        self._exclusive += 1
        try:
            async with self._lock:
                yield
        finally:
            self._exclusive -= 1

    def current(self) -> Transaction | None:
        """The unit of work this task has open on this database, or None."""
        unit = _unit.get()
        if unit is None or unit.db is not self or not unit.active:
            return None
        return unit

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any error: a unit of work, ambient for this
        task until it ends; what was registered with `after_commit` runs after the COMMIT
        (outside the unit and the lock), and is dropped on ROLLBACK. Inside a unit of this
        task, a SAVEPOINT of it instead: released at the end, rolled back to on error (and the
        hooks registered since then dropped).

        On the loop's thread: in WAL mode (`open`), the unit's statements, BEGIN and COMMIT
        included, run on the event loop's thread, straight on the sqlite3 connection under
        aiosqlite's — the same connection, the same transaction, the same statements in the
        same order, so nothing of what a commit guarantees changes; only the trip to
        aiosqlite's thread and back is saved (about 100–200 µs each on a busy machine, more
        than most of a press's statements take). They never run at once with aiosqlite's
        thread: the unit begins once what was handed there before has finished, and while it
        is open every other statement waits for the lock (`_alone`). No statement of a unit
        waits for another process (`_begin`), and the checkpoints that fsync run on a
        connection of their own, in a thread (CHECKPOINT_EVERY). The price: a long statement
        inside a unit holds up the whole loop while it runs, not only the other units."""
        outer = self.current()
        if outer is not None:
            async with outer.savepoint():
                yield outer
            return
        # `_locked`, written out: this runs twice for every press (its unit and the inbox's
        # store of the answer that brought it), and each layer of context manager costs it.
        self._exclusive += 1
        try:
            await self._lock.acquire()
        except BaseException:
            self._exclusive -= 1
            raise
        try:
            conn = self.conn
            here = self._here
            if here is not None:
                if self._in_thread:
                    await self._thread_drained()
                if not self._begin(here):
                    await self._begin_waiting(here)
            else:
                await conn.execute("BEGIN IMMEDIATE")
            unit = Transaction(conn, self, here)
            token = _unit.set(unit)
            try:
                yield unit
            except BaseException:
                unit.end()
                _unit.reset(token)
                if here is not None:
                    here.execute("ROLLBACK")
                else:
                    await conn.execute("ROLLBACK")
                raise
            unit.end()
            _unit.reset(token)
            try:
                if here is not None:
                    here.execute("COMMIT")
                    self._commits += 1
                else:
                    await conn.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(Exception):
                    if here is not None:
                        here.execute("ROLLBACK")
                    else:
                        await conn.execute("ROLLBACK")
                raise
        finally:
            self._lock.release()
            self._exclusive -= 1
        if unit.has_hooks:
            await unit.run_hooks()
        if self._commits >= CHECKPOINT_EVERY:
            await self._checkpoint_if_due()

    def _begin(self, here: sqlite3.Connection) -> bool:
        """BEGIN IMMEDIATE on the loop's thread, if the write lock is free now (False if not).
        It is while one bot runs: `restore` and `migrate` refuse to run beside it
        (storage.lock), `backup` and `health` only read, and in WAL mode a reader never holds
        a writer up. Where several webhook workers share the file, another one may hold it;
        then the unit waits for it in a thread (up to BUSY_TIMEOUT_MS, as any statement
        does), not here, where the loop's other work — the webhook's answers, sending —
        would wait too."""
        here.execute("PRAGMA busy_timeout=0")
        try:
            here.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY:
                raise
            return False
        finally:
            here.execute(f"PRAGMA busy_timeout={sqlite.BUSY_TIMEOUT_MS}")
        return True

    async def _begin_waiting(self, here: sqlite3.Connection) -> None:
        """Another process writes (one of several workers): BEGIN IMMEDIATE waits for its
        lock in a thread, the loop's other work going on meanwhile. Cancelled while it waits,
        the BEGIN is let finish and rolled back, so that no write lock is left held."""
        began = asyncio.ensure_future(asyncio.to_thread(here.execute, "BEGIN IMMEDIATE"))
        try:
            await asyncio.shield(began)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await began
            if here.in_transaction:
                here.execute("ROLLBACK")
            raise

    async def after_commit(self, callback: Hook, *, first: bool = False) -> None:
        """`callback` once this task's unit on this database is committed; at once if none is
        open."""
        unit = self.current()
        if unit is not None:
            unit.after_commit(callback, first=first)
        else:
            await _call(callback)


_unit: ContextVar[Transaction | None] = ContextVar("storage_unit_of_work", default=None)


def current_unit() -> Transaction | None:
    """The unit of work this task has open (on any database), or None."""
    unit = _unit.get()
    return unit if unit is not None and unit.active else None


async def after_commit(callback: Hook, *, first: bool = False) -> None:
    """`callback` once this task's unit of work is committed; at once if none is open.
    `first`: before the hooks registered without it (the answer to a press goes out before
    the sends of its flush)."""
    unit = current_unit()
    if unit is not None:
        unit.after_commit(callback, first=first)
    else:
        await _call(callback)


async def _call(callback: Hook) -> None:
    result = callback()
    if inspect.isawaitable(result):
        await result


@dataclass(frozen=True, slots=True)
class _Registered:
    later: bool  # False for `first` hooks: they sort first
    seq: int
    callback: Hook


class Transaction:
    """Statements inside one open transaction (only handed out by Database.transaction): the
    unit of work of the task that opened it, and what runs once it is committed."""

    def __init__(
        self,
        conn: Connection,
        db: Database | None = None,
        here: sqlite3.Connection | None = None,
    ) -> None:
        self._conn = conn
        self.db = db
        self._here = here  # the statements run on the loop's thread (Database.transaction)
        self._owner = asyncio.current_task()
        self._open = True
        self._hooks: list[_Registered] = []
        self._seq = 0
        self._depth = 0  # savepoints open

    @property
    def active(self) -> bool:
        """Open, and this is the task that opened it (a task started inside the unit
        inherits its context, not the unit)."""
        return self._open and self._owner is asyncio.current_task()

    def end(self) -> None:
        self._open = False

    def _check(self) -> None:
        if not self._open:
            raise RuntimeError("the transaction has ended")
        if self._owner is not asyncio.current_task():
            raise RuntimeError("the transaction belongs to another task")

    def after_commit(self, callback: Hook, *, first: bool = False) -> None:
        """Run `callback` after the COMMIT (not at all on ROLLBACK, nor when the savepoint
        it was registered in is rolled back to). Plain functions run first, in the order
        registered; then what they return is awaited, the `first` ones before the others. A
        hook that fails is logged: what was committed stays."""
        self._check()
        self._seq += 1
        self._hooks.append(_Registered(not first, self._seq, callback))

    @property
    def has_hooks(self) -> bool:
        return bool(self._hooks)

    async def run_hooks(self) -> None:
        hooks = sorted(self._hooks, key=lambda hook: (hook.later, hook.seq))
        self._hooks = []
        pending: list[Awaitable[object]] = []
        for hook in hooks:
            try:
                result = hook.callback()
            except Exception:
                log.exception("event=after_commit_failed")
                continue
            if inspect.isawaitable(result):
                pending.append(result)
        for index, awaitable in enumerate(pending):
            try:
                await awaitable
            except Exception:
                log.exception("event=after_commit_failed")
            except BaseException:
                for rest in pending[index + 1 :]:
                    if inspect.iscoroutine(rest):
                        rest.close()
                raise

    @contextlib.asynccontextmanager
    async def savepoint(self) -> AsyncIterator[Transaction]:
        """A nested transaction: RELEASE at the end, ROLLBACK TO on error."""
        self._check()
        self._depth += 1
        name = f"wiq_{self._depth}"
        mark = self._seq
        try:
            await self._run(f"SAVEPOINT {name}")
            try:
                yield self
            except BaseException:
                await self._run(f"ROLLBACK TO {name}")
                await self._run(f"RELEASE {name}")
                self._hooks = [hook for hook in self._hooks if hook.seq <= mark]
                raise
            await self._run(f"RELEASE {name}")
        finally:
            self._depth -= 1

    async def discard(self) -> None:
        """Undo all the unit did so far and drop its hooks; it stays open for what follows
        (an update whose handler failed: its error is answered, the update marked handled)."""
        self._check()
        if self._depth:
            raise RuntimeError("a unit is discarded as a whole, not from inside a savepoint")
        await self._run("ROLLBACK")
        await self._run("BEGIN IMMEDIATE")
        self._hooks = []

    # Each statement on the loop's thread if the unit runs there, else in aiosqlite's: the
    # same call of the same sqlite3 connection either way.

    async def _run(self, sql: str) -> None:
        if self._here is not None:
            self._here.execute(sql)
        else:
            await self._conn.execute(sql)

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run a statement; returns lastrowid (of an INSERT)."""
        self._check()
        if self._here is not None:
            return self._here.execute(sql, params).lastrowid or 0
        cursor = await self._conn.execute(sql, params)
        return cursor.lastrowid or 0

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        self._check()
        if self._here is not None:
            self._here.executemany(sql, rows)
            return
        await self._conn.executemany(sql, rows)

    async def rowcount(self, sql: str, params: Params = ()) -> int:
        self._check()
        if self._here is not None:
            return self._here.execute(sql, params).rowcount
        cursor = await self._conn.execute(sql, params)
        return cursor.rowcount

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        self._check()
        if self._here is not None:
            rows = self._here.execute(sql, params).fetchall()
        else:
            rows = list(await self._conn.execute_fetchall(sql, params))
        return rows[0] if rows else None

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        self._check()
        if self._here is not None:
            rows: list[Row] = self._here.execute(sql, params).fetchall()
            return rows
        return list(await self._conn.execute_fetchall(sql, params))
