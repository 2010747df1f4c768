"""The database file as an operator handles it (SPEC §9): `wiq-bot backup`, `restore` and
`migrate`, the version, and the modes of the files beside the database.

Each command prints what it did (one line per thing) on stdout and a refusal as one line on
stderr; it returns the exit code: 0 done, 1 a check found something to do (`migrate
--check`), 2 refused (nothing was changed)."""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import stat
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from bot.config import Config
from bot.texts import dates
from storage.db import PRIVATE, Database, DatabaseError, SchemaTooNew, code_version
from storage.heartbeats import Heartbeats
from storage.lock import DatabaseInUse, DatabaseLock, PostgresGuard
from storage.maintenance import Census, census, integrity

EXIT_OK = 0
EXIT_NOT_OK = 1
EXIT_REFUSED = 2


def say(line: str) -> None:
    print(line, flush=True)


def refuse(line: str) -> int:
    print(f"wiq-bot: {line}", file=sys.stderr, flush=True)
    return EXIT_REFUSED


def package_version() -> str:
    try:
        return metadata.version("wiq-bot")
    except metadata.PackageNotFoundError:
        return "unknown"


def version_line() -> str:
    return f"wiq-bot {package_version()} (database schema {code_version():03d})"


def holder() -> str:
    """Who holds the database, as the lock file keeps it for a refusal's line."""
    since = dates.utc(datetime.now(UTC), seconds=True)
    return f"pid {os.getpid()} on {socket.gethostname()}, since {since}"


def _stamp(now: datetime) -> str:
    return dates.file_stamp(now)


def _size(size: int) -> str:
    return f"{size:,} bytes"


def _when(moment: datetime | None) -> str:
    return "none" if moment is None else dates.utc(moment)


def loose_files(database: Path) -> list[tuple[Path, int]]:
    """The database and the files beside it that it names (its -wal, -shm, lock, backups,
    replaced copies) whose mode lets anyone but the owner in: (file, mode)."""
    if not database.parent.is_dir():
        return []
    found = []
    for path in sorted(database.parent.iterdir()):
        name = path.name.lstrip(".")
        if not name.startswith(database.name) or not path.is_file():
            continue
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & ~PRIVATE & 0o777:
            found.append((path, mode))
    return found


async def _read(path: Path) -> tuple[Database, Census]:
    """Open a database file read-only and take its census (the caller closes it); raises
    sqlite3.DatabaseError for a file that is not a database."""
    db = Database(path)
    await db.open(readonly=True)
    try:
        return db, await census(db, datetime.now(UTC))
    except BaseException:
        await db.close()
        raise


# -- wiq-bot backup ------------------------------------------------------------------------


def backup(config: Config, target: Path) -> int:
    """A consistent copy of the database, also while the bot runs (SQLite's online backup);
    a directory as `target` gets a file named by the time. On PostgreSQL, pg_dump's
    (bot/ops/postgres.py)."""
    if config.storage_url is not None:
        from bot.ops import postgres

        return postgres.backup(config, target)
    database = config.database_file
    if not database.is_file():
        return refuse(f"no database at {database}")
    if target.is_dir():
        target = target / f"{database.stem}-{_stamp(datetime.now(UTC))}.sqlite"
    if target.exists() and target.resolve() == database.resolve():
        return refuse(f"{target} is the database itself: name another file")
    if not target.parent.is_dir():
        return refuse(f"no directory {target.parent} for the backup")
    try:
        size, problems, what = asyncio.run(_backup(database, target))
    except sqlite3.DatabaseError as exc:
        return refuse(f"cannot read {database}: {exc}")
    if problems != ["ok"]:
        return refuse(f"the backup {target} fails its integrity check: {problems[0]}")
    say(
        f"backup written: {target} ({_size(size)}, {what.headline()};"
        f" {what.queued_messages} messages waiting to go out;"
        f" last event {_when(what.last_event_at)})"
    )
    return EXIT_OK


async def _backup(database: Path, target: Path) -> tuple[int, list[str], Census]:
    db = Database(database)
    try:
        await db.open(readonly=True)
        size = await db.backup_to(target)
    finally:
        await db.close()
    copy, what = await _read(target)
    try:
        return size, await integrity(copy), what
    finally:
        await copy.close()


# -- wiq-bot restore -----------------------------------------------------------------------


def restore(config: Config, source: Path) -> int:
    """Put a backup in the database's place while no bot holds it: the file is checked first
    (integrity, a schema this code knows), the replaced database is kept beside it, and what
    the next start will do is said. On PostgreSQL, pg_restore's (bot/ops/postgres.py)."""
    if config.storage_url is not None:
        from bot.ops import postgres

        return postgres.restore(config, source)
    database = config.database_file
    if not source.is_file():
        return refuse(f"no file at {source}")
    if database.exists() and source.resolve() == database.resolve():
        return refuse(f"{source} is the database itself")
    lock = DatabaseLock(database)
    try:
        lock.acquire(holder())
    except DatabaseInUse as exc:
        return refuse(f"refused: {exc}: stop the bot first, then restore")
    with lock:
        staged = database.with_name(f".{database.name}.restoring")
        try:
            problems, what, pending = asyncio.run(_check(source))
        except sqlite3.DatabaseError as exc:
            return refuse(f"refused: {source} is not a database this wiq-bot can read: {exc}")
        if problems != ["ok"]:
            return refuse(f"refused: {source} fails its integrity check: {problems[0]}")
        if what.schema == 0:
            return refuse(f"refused: {source} is not a wiq-bot database (no schema)")
        if what.schema > code_version():
            return refuse(
                f"refused: {source} has schema {what.schema:03d}, newer than this wiq-bot"
                f" ({code_version():03d}): restore it with the version that wrote it"
            )
        size = asyncio.run(_stage(source, staged))
        kept = _keep_replaced(database) if database.exists() else None
        for suffix in ("-wal", "-shm", "-journal"):
            database.with_name(database.name + suffix).unlink(missing_ok=True)
        os.replace(staged, database)
    say(f"restored {database} from {source} ({_size(size)}, {what.headline()})")
    say_restored(what, kept, pending, migrations_after=", after a backup beside the database")
    return EXIT_OK


def say_restored(
    what: Census, kept: object | None, pending: list[str], *, migrations_after: str = ""
) -> None:
    """What a restore leaves, after its first line (either backend): where the record ends,
    where the replaced database is kept, and what the next start does."""
    if what.last_event_at is not None:
        say(
            f"its record ends at {_when(what.last_event_at)}: what happened after that is not"
            " in it, and Telegram does not deliver the updates of that time again"
        )
    if kept is not None:
        say(f"the replaced database is kept as {kept}")
    steps = []
    if pending:
        steps.append(
            f"{len(pending)} migrations are applied ({pending[0]} … {pending[-1]})"
            + migrations_after
        )
    steps.append(f"{what.unhandled_updates} updates fetched before the backup are handled")
    steps.append(
        f"{what.deadlines_passed} rounds, votes and revision windows whose deadline has passed"
        " close"
    )
    steps.append(f"{what.queued_messages} queued messages go out")
    say("at the next start: " + "; ".join(steps))


async def _check(source: Path) -> tuple[list[str], Census, list[str]]:
    db, what = await _read(source)
    try:
        return await integrity(db), what, await db.pending_migrations()
    finally:
        await db.close()


async def _copy(source: Path, target: Path, *, readonly: bool = True) -> int:
    db = Database(source)
    try:
        await db.open(readonly=readonly, migrate=False)
        return await db.backup_to(target)
    finally:
        await db.close()


async def _stage(source: Path, staged: Path) -> int:
    """The backup, copied beside the database, without the heartbeats of the time it was
    taken (no bot runs on it now)."""
    size = await _copy(source, staged)
    db = Database(staged)
    try:
        await db.open(migrate=False)
        await Heartbeats(db).clear()
    finally:
        await db.close()
    return size


def _keep_replaced(database: Path) -> Path:
    """The database that is replaced, kept beside it: a consistent copy (with what its -wal
    held), or, if it cannot be read as a database, its files as they are."""
    kept = database.with_name(f"{database.name}.replaced-{_stamp(datetime.now(UTC))}")
    try:
        # Not read-only: what a killed bot left in the -wal is taken in (no bot holds it).
        asyncio.run(_copy(database, kept, readonly=False))
    except sqlite3.DatabaseError:
        for suffix in ("", "-wal", "-shm"):
            part = database.with_name(database.name + suffix)
            if part.exists():
                os.replace(part, kept.with_name(kept.name + suffix))
    return kept


# -- wiq-bot migrate -----------------------------------------------------------------------


def migrate(config: Config, check: bool) -> int:
    if config.storage_path is None:
        return _migrate_postgres(config, check)
    database = config.storage_path
    known = code_version()
    if check:
        if not database.is_file():
            say(
                f"no database at {database}: `wiq-bot migrate` or `run` creates it at schema"
                f" {known:03d}"
            )
            return EXIT_NOT_OK
        try:
            schema, pending = asyncio.run(_pending(database))
        except sqlite3.DatabaseError as exc:
            return refuse(f"cannot read {database}: {exc}")
        if schema > known:
            return refuse(f"{SchemaTooNew(database, schema, known)}: refused")
        if pending:
            say(
                f"{database}: schema {schema:03d}, this wiq-bot's is {known:03d};"
                f" {len(pending)} pending: {', '.join(pending)}"
            )
            return EXIT_NOT_OK
        say(f"{database}: schema {schema:03d} is current, nothing to migrate")
        return EXIT_OK
    lock = DatabaseLock(database)
    try:
        lock.acquire(holder())
    except DatabaseInUse as exc:
        return refuse(f"refused: {exc}: stop the bot first (or let it migrate at its start)")
    with lock:
        existed = database.is_file()
        try:
            migrated, backup_path = asyncio.run(_migrate(database))
        except SchemaTooNew as exc:
            return refuse(f"refused: {exc}: run the version that wrote it")
        except sqlite3.DatabaseError as exc:
            return refuse(f"cannot read {database}: {exc}")
    if backup_path is not None:
        say(f"backup before migrating: {backup_path} ({_size(backup_path.stat().st_size)})")
    for name in migrated:
        say(f"applied {name}")
    if not existed:
        say(f"created {database} at schema {known:03d}")
    elif migrated:
        say(f"{database}: schema {known:03d} is current")
    else:
        say(f"{database}: schema {known:03d} is current, nothing to migrate")
    return EXIT_OK


def _migrate_postgres(config: Config, check: bool) -> int:
    """`migrate` on PostgreSQL: the database exists (the host creates it); an empty one gets
    the baseline. Each migration is one transaction (PostgreSQL's DDL is transactional): no
    copy is made before it, the host's backups are pg_dump's (`wiq-bot backup`)."""
    where, known = config.database_where, code_version()
    try:
        if check:
            schema, pending = asyncio.run(_pending(config.database))
            if schema > known:
                return refuse(f"{SchemaTooNew(where, schema, known)}: refused")
            if pending:
                say(
                    f"{where}: schema {schema:03d}, this wiq-bot's is {known:03d};"
                    f" {len(pending)} pending: {', '.join(pending)}"
                )
                return EXIT_NOT_OK
            say(f"{where}: schema {schema:03d} is current, nothing to migrate")
            return EXIT_OK
        assert config.storage_url is not None
        migrated = asyncio.run(_migrate_held(config.storage_url))
    except DatabaseInUse as exc:
        return refuse(f"refused: {exc}: stop the bot first (or let it migrate at its start)")
    except SchemaTooNew as exc:
        return refuse(f"refused: {exc}: run the version that wrote it")
    except (*DatabaseError, OSError) as exc:
        return refuse(f"cannot use {where}: {exc}")
    for name in migrated:
        say(f"applied {name}")
    tail = "" if migrated else ", nothing to migrate"
    say(f"{where}: schema {known:03d} is current{tail}")
    return EXIT_OK


async def _pending(database: Path | str) -> tuple[int, list[str]]:
    db = Database(database)
    try:
        await db.open(readonly=True)
        return max(await db.applied_versions(), default=0), await db.pending_migrations()
    finally:
        await db.close()


async def _migrate_held(url: str) -> list[str]:
    """On PostgreSQL, holding the guard as a polling bot does (refused while a bot or any
    worker runs: their session advisory lock)."""
    guard = PostgresGuard(url)
    await guard.acquire(holder())
    try:
        migrated, _ = await _migrate(url)
        return migrated
    finally:
        await guard.release()


async def _migrate(database: Path | str) -> tuple[list[str], Path | None]:
    db = Database(database)
    try:
        await db.open()
        return db.migrated, db.migration_backup
    finally:
        await db.close()
