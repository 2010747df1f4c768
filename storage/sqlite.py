"""SQLite behind the storage gateway, the embedded default: how its file is opened (the
connection's settings) and copied (the online backup). Database speaks to the aiosqlite
connection itself: its calls are the interface the PostgreSQL backend answers too."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from pathlib import Path
from urllib.parse import quote

import aiosqlite

IntegrityError = sqlite3.IntegrityError
DatabaseError = sqlite3.DatabaseError

BUSY_TIMEOUT_MS = 5000
"""How long a statement waits for another process's write lock before it fails."""

PRIVATE = 0o600
"""The mode of the database and of every file the bot writes beside it (its -wal and -shm,
which SQLite creates with the database's mode, its lock, its backups): names, Telegram ids
and private Anliegen are readable by the bot's own user only, whatever the umask."""


def create_private(path: Path) -> None:
    """Create `path` as an empty file with mode PRIVATE if it does not exist (a umask can only
    take bits away from the mode asked for, never add them)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE))


def _prepare(path: Path, *, migrate: bool, readonly: bool) -> str | None:
    """Check (or create, mode PRIVATE) the file; the read-only URI to open, if readonly."""
    if not migrate or readonly:
        if not path.is_file():
            raise FileNotFoundError(f"no database at {path}")
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        create_private(path)
    return f"file:{quote(str(path.resolve()))}?mode=ro" if readonly else None


async def connect(path: Path, *, migrate: bool, readonly: bool) -> aiosqlite.Connection:
    """Open (and create, mode PRIVATE) the file. `migrate=False` opens it only if it exists;
    `readonly` also never writes to it."""
    uri = _prepare(path, migrate=migrate, readonly=readonly)
    # check_same_thread=False: a unit's statements run on the loop's thread (storage.db's
    # `Database.transaction`), one at a time with everything aiosqlite's thread runs.
    if uri is not None:
        conn = await aiosqlite.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    else:
        conn = await aiosqlite.connect(path, isolation_level=None, check_same_thread=False)
    conn.row_factory = aiosqlite.Row
    try:
        if not readonly:
            # WAL + NORMAL survives a crash of the process (kill -9), which is what we guard.
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute("PRAGMA synchronous=NORMAL")
        await conn.execute("PRAGMA foreign_keys=ON")
        await conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    except BaseException:
        await conn.close()
        raise
    return conn


async def on_the_loop(conn: aiosqlite.Connection) -> sqlite3.Connection | None:
    """The sqlite3 connection under aiosqlite's, for a unit's statements on the event loop's
    thread — when the file is in WAL mode (then no statement inside a unit waits for another
    process: the unit's BEGIN IMMEDIATE took the write lock, and readers never block). SQLite's
    automatic checkpoint, which fsyncs inside a COMMIT, is turned off: storage.db checkpoints
    in aiosqlite's thread, between units. None when the file is not in WAL mode."""
    rows = await conn.execute_fetchall("PRAGMA journal_mode")
    if str(next(iter(rows))[0]).lower() != "wal":
        return None
    await conn.execute("PRAGMA wal_autocheckpoint=0")
    here = conn._conn  # aiosqlite has no public name for it
    if not isinstance(here, sqlite3.Connection):
        raise TypeError("aiosqlite's connection is not a sqlite3.Connection")
    return here


async def backup(conn: aiosqlite.Connection, target: Path) -> int:
    """A consistent copy of the database as it is now, in `target` (SQLite's online backup in
    one step: a writer in another process neither waits for it nor restarts it); the copy is
    one self-contained file (rollback journal, nothing beside it), mode PRIVATE, written under
    a temporary name and renamed into place, so that `target` is never half a database.
    Returns its size in bytes."""
    partial = target.with_name(f".{target.name}.partial")

    def prepare() -> sqlite3.Connection:
        partial.unlink(missing_ok=True)
        create_private(partial)
        # The copy runs in aiosqlite's thread, the rest in this one's helpers.
        return sqlite3.connect(partial, check_same_thread=False)

    def finish(copy: sqlite3.Connection) -> int:
        try:
            copy.execute("PRAGMA journal_mode=DELETE")
            pages = copy.execute("PRAGMA page_count").fetchone()[0]
            size = copy.execute("PRAGMA page_size").fetchone()[0]
        finally:
            copy.close()
        os.replace(partial, target)
        return int(pages) * int(size)

    copy = await asyncio.to_thread(prepare)
    try:
        await conn.backup(copy)
    except BaseException:
        copy.close()
        partial.unlink(missing_ok=True)
        raise
    return await asyncio.to_thread(finish, copy)


def checkpointer(path: Path) -> sqlite3.Connection:
    """A second connection to the file, for the checkpoints of its WAL only (storage.db's
    `_checkpoint_if_due`): in a thread, while the bot's connection goes on writing. It reads
    and writes no table; in WAL mode a PASSIVE checkpoint takes no lock a writer waits for."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    except BaseException:
        conn.close()
        raise
    return conn


def checkpoint(conn: sqlite3.Connection) -> None:
    """Copy what the WAL holds into the database file, as far as no reader still needs it,
    and fsync (run in a thread: `checkpointer`)."""
    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
