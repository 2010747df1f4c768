"""One bot per database (SPEC §9): the guard that a second `wiq-bot run`, a restore or a
migration meets while a bot holds the database.

SQLite serves one process that polls Telegram: two would fight over getUpdates (409s) and
over each group's budget. The guard is an exclusive `flock` on a file beside the database,
`<database>.lock`; the kernel releases it when the process ends, however it ends, so a
restart after a kill -9 (systemd's `Restart=on-failure`) is never refused, and no stale lock
is ever left to remove by hand. The file keeps who holds it, for the refusal's line.

Several webhook workers (SPEC §9 "Several workers", `[webhook] workers_share_database`) hold
the same lock shared (`shared=True`): any number of them run together, while a poller, a
restore or a migration, which hold it exclusively, are refused while any worker runs (and a
worker while one of those does). What the workers must not do at once is claimed in the
database (storage/claims.py); the one thing before that — opening the database, which applies
pending migrations — is serialised here (`opening`).

This is the one place that decides what "holding the database" means: on PostgreSQL it is a
session advisory lock (`PostgresGuard`), exclusive for one bot, shared for several workers,
and the turn of opening is another (`opening_postgres`); nowhere else changes."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

from storage.db import PRIVATE


class DatabaseInUse(Exception):
    """Another process holds the database."""

    def __init__(self, database: Path | str, holder: str) -> None:
        super().__init__(f"another wiq-bot ({holder or 'pid unknown'}) holds {database}")
        self.database = database
        self.holder = holder


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


class DatabaseLock:
    """`with DatabaseLock(path).hold("pid 12 on host"):` … or `acquire`/`release`. Raises
    DatabaseInUse at once (it never waits) when another process holds it."""

    def __init__(self, database: Path, *, shared: bool = False) -> None:
        self.database = database
        self.path = lock_path(database)
        self.shared = shared  # one of several webhook workers: held together with the others
        self._fd: int | None = None

    def acquire(self, holder: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, PRIVATE)
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            held_by = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
            os.close(fd)
            raise DatabaseInUse(self.database, held_by) from None
        if self.shared:
            holder = f"{holder} (one of several workers)"
        os.ftruncate(fd, 0)
        os.pwrite(fd, holder.encode("utf-8") + b"\n", 0)
        self._fd = fd

    def release(self) -> None:
        """Release it (the file stays: removing it could let two processes each lock a
        different file of the same name). A worker leaves the holder's line to the others."""
        if self._fd is not None:
            if not self.shared:
                with contextlib.suppress(OSError):
                    os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None

    def alone(self) -> bool:
        """A worker holding the lock shared: whether no other process holds it now (tried as
        exclusive for a moment, then shared again)."""
        if self._fd is None or not self.shared:
            return self._fd is not None
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            alone = True
        except BlockingIOError:
            alone = False
        # A conversion that failed may have dropped the shared lock (flock converts by
        # removing the old lock first): taken again, at once.
        try:
            fcntl.flock(self._fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            held_by = os.pread(self._fd, 200, 0).decode("utf-8", "replace").strip()
            raise DatabaseInUse(self.database, held_by) from None
        return alone

    def hold(self, holder: str) -> DatabaseLock:
        self.acquire(holder)
        return self

    def __enter__(self) -> DatabaseLock:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


@contextlib.contextmanager
def opening(database: Path) -> Iterator[None]:
    """Workers starting together open the database one after the other: the first applies
    what migrations are pending (after its backup), the others find them applied. Waits (in
    the caller's thread) for a worker that is opening it."""
    path = database.with_name(database.name + ".opening")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


# Advisory locks are the database's own: the holders looked for are this database's.
_THIS_DATABASE = "database = (SELECT oid FROM pg_database WHERE datname = current_database())"


class PostgresGuard:
    """On PostgreSQL: the guard is a session advisory lock, held by a connection of its own
    for the life of the process — exclusive for one bot, shared (`shared=True`) by each of
    several webhook workers, as DatabaseLock's flock. The server releases it when that
    session ends, however the process ends (a kill -9 closes its socket), so a restart is
    never refused. Who holds it is the holding session's application_name, for the refusal's
    line."""

    def __init__(self, url: str, *, shared: bool = False) -> None:
        self.url = url
        self.shared = shared
        self._conn: Any = None
        self._closing: Callable[[], None] = lambda: None

    async def acquire(self, holder: str) -> None:
        import asyncpg

        from storage.postgres import GUARD_KEY

        if self.shared:
            holder = f"{holder} (one of several workers)"
        conn = await asyncpg.connect(
            self.url, server_settings={"application_name": f"wiq-bot {holder}"[:63]}
        )
        take = "pg_try_advisory_lock_shared" if self.shared else "pg_try_advisory_lock"
        taken = await conn.fetchval(f"SELECT {take}($1)", GUARD_KEY)
        if not taken:
            held_by = await conn.fetchval(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a"
                " ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted"
                " AND l.objid = $1 AND a.pid <> pg_backend_pid() AND "
                + _THIS_DATABASE
                + " LIMIT 1",
                GUARD_KEY,
            )
            await conn.close()
            from storage import postgres

            holder_seen = str(held_by or "").removeprefix("wiq-bot ").strip()
            raise DatabaseInUse(postgres.display(self.url), holder_seen)
        from storage.postgres import watch

        self._conn = conn
        self._closing = watch(conn)  # its end would let another bot in: the process ends

    async def alone(self) -> bool:
        """Whether no other session holds the guard now (a worker: no other worker runs)."""
        from storage.postgres import GUARD_KEY

        if self._conn is None:
            return False
        others = await self._conn.fetchval(
            "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND objid = $1 AND pid <> pg_backend_pid() AND " + _THIS_DATABASE,
            GUARD_KEY,
        )
        return int(others) == 0

    async def release(self) -> None:
        if self._conn is not None:
            self._closing()
            with contextlib.suppress(Exception):
                await self._conn.close()  # the session ends: the lock goes with it
            self._conn = None


@contextlib.asynccontextmanager
async def opening_postgres(url: str) -> AsyncIterator[None]:
    """On PostgreSQL, workers starting together open the database one after the other (as
    `opening`): a session advisory lock of its own, waited for."""
    import asyncpg

    from storage.postgres import OPENING_KEY

    conn = await asyncpg.connect(url, server_settings={"application_name": "wiq-bot opening"})
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", OPENING_KEY)
        yield
    finally:
        with contextlib.suppress(Exception):
            await conn.close()
