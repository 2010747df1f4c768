"""The PostgreSQL database as an operator handles it (SPEC §9): `wiq-bot backup` and
`restore` with PostgreSQL's own tools (pg_dump's custom format, pg_restore, psql), and
`wiq-bot copy-database`, which moves a deployment from its SQLite file to PostgreSQL.

The same promises as for a SQLite file: a backup is one consistent snapshot written under a
temporary name (pg_dump takes one transaction's view; the bot keeps running), mode 0600; a
restore checks the archive first (pg_restore reads it; a wiq-bot schema this code knows),
keeps the database it replaces (a dump beside the archive), and replaces it in one
transaction; it refuses while a bot's heartbeat says one runs on the database. The tools
take the URL as it is (libpq reads PGPASSWORD or ~/.pgpass for a password)."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from bot.config import Config
from bot.ops.database import (
    EXIT_OK,
    _size,
    _stamp,
    _when,
    holder,
    refuse,
    say,
    say_restored,
)
from storage.db import PRIVATE, Database, DatabaseError, code_version, create_private
from storage.dialect import SQLITE
from storage.heartbeats import Heartbeats
from storage.lock import DatabaseInUse, DatabaseLock
from storage.maintenance import Census, census


class ToolFailed(Exception):
    """pg_dump, pg_restore or psql ended with an error (its last line of stderr)."""


def _tool(args: Sequence[str], *, stdin: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(list(args), input=stdin, capture_output=True, check=False)
    except FileNotFoundError:
        raise ToolFailed(f"{args[0]} is not installed (Debian: postgresql-client)") from None
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ToolFailed(lines[-1] if lines else f"{args[0]} exited {done.returncode}")
    return done.stdout


def database_name(url: str) -> str:
    return urlsplit(url).path.strip("/") or "wiq"


async def _census(url: str) -> Census:
    db = Database(url)
    await db.open(readonly=True)
    try:
        return await census(db, datetime.now(UTC))
    finally:
        await db.close()


# -- wiq-bot backup ------------------------------------------------------------------------


def backup(config: Config, target: Path) -> int:
    """pg_dump's custom format (compressed; pg_restore reads it), also while the bot runs."""
    url = config.database
    assert isinstance(url, str)
    if target.is_dir():
        target = target / f"{database_name(url)}-{_stamp(datetime.now(UTC))}.pgdump"
    if not target.parent.is_dir():
        return refuse(f"no directory {target.parent} for the backup")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    create_private(partial)
    try:
        _tool(["pg_dump", "--format=custom", f"--file={partial}", f"--dbname={url}"])
        _tool(["pg_restore", "--list", str(partial)])  # the archive reads back
        what = asyncio.run(_census(url))
    except (ToolFailed, *DatabaseError, OSError) as exc:
        partial.unlink(missing_ok=True)
        return refuse(f"cannot back up {config.database_where}: {exc}")
    os.chmod(partial, PRIVATE)  # pg_dump may have written it anew
    os.replace(partial, target)
    say(
        f"backup written: {target} ({_size(target.stat().st_size)}, {what.headline()};"
        f" {what.queued_messages} messages waiting to go out;"
        f" last event {_when(what.last_event_at)})"
    )
    return EXIT_OK


# -- wiq-bot restore -----------------------------------------------------------------------

_COPY = re.compile(r"^COPY \S*schema_migrations \(", re.MULTILINE)


def archive_schema(source: Path) -> int:
    """The schema a pg_dump archive holds (its schema_migrations); 0 if none."""
    script = _tool(
        ["pg_restore", "--data-only", "--table=schema_migrations", "--file=-", str(source)]
    ).decode("utf-8", "replace")
    found = _COPY.search(script)
    if found is None:
        return 0
    versions = []
    for line in script[found.end() :].splitlines()[1:]:
        if line == "\\.":
            break
        versions.append(int(line.split("\t", 1)[0]))
    return max(versions, default=0)


async def _running(config: Config) -> str | None:
    """Who runs on the database now, by their heartbeat (fresh, not stopped): or None."""
    db = Database(config.database)
    await db.open(readonly=True)
    try:
        if not await db.applied_versions():
            return None
        beat = await Heartbeats(db).latest()
    finally:
        await db.close()
    if beat is None or beat.stopped_at is not None:
        return None
    if datetime.now(UTC) - beat.beat_at > config.health.stale_after:
        return None
    return f"pid {beat.pid} on {beat.host}"


async def _schema_of(url: str) -> int:
    db = Database(url)
    await db.open(readonly=True)
    try:
        return max(await db.applied_versions(), default=0)
    finally:
        await db.close()


async def _after_restore(url: str) -> tuple[Census, list[str]]:
    """The restored database without the heartbeats of the time it was taken (no bot runs
    on it now); its census and what migrations its next start applies."""
    db = Database(url)
    await db.open(migrate=False)
    try:
        await Heartbeats(db).clear()
        return await census(db, datetime.now(UTC)), await db.pending_migrations()
    finally:
        await db.close()


def _unused(path: Path) -> Path:
    """`path`, or beside it with -2, -3, … if taken (two restores within one second)."""
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(path.name.replace(".pgdump", f"-{number}.pgdump"))
    return candidate


def restore(config: Config, source: Path) -> int:
    url = config.database
    assert isinstance(url, str)
    if not source.is_file():
        return refuse(f"no file at {source}")
    try:
        schema = archive_schema(source)
    except ToolFailed as exc:
        return refuse(f"refused: {source} is not a pg_dump archive this wiq-bot can read: {exc}")
    if schema == 0:
        return refuse(f"refused: {source} is not a wiq-bot database (no schema)")
    if schema > code_version():
        return refuse(
            f"refused: {source} has schema {schema:03d}, newer than this wiq-bot"
            f" ({code_version():03d}): restore it with the version that wrote it"
        )
    try:
        running = asyncio.run(_running(config))
        existing = asyncio.run(_schema_of(url))
    except (*DatabaseError, OSError) as exc:
        return refuse(f"cannot use {config.database_where}: {exc}")
    if running is not None:
        return refuse(
            f"refused: a wiq-bot ({running}) runs on {config.database_where}:"
            " stop the bot first, then restore"
        )
    kept = None
    with tempfile.TemporaryDirectory(prefix="wiq-restore-") as scratch:
        script = Path(scratch) / "restore.sql"
        try:
            if existing:
                kept = _unused(
                    source.with_name(
                        f"{database_name(url)}.replaced-{_stamp(datetime.now(UTC))}.pgdump"
                    )
                )
                create_private(kept)
                _tool(["pg_dump", "--format=custom", f"--file={kept}", f"--dbname={url}"])
            _tool(["pg_restore", "--no-owner", "--no-privileges", f"--file={script}", str(source)])
            # The schema emptied and the archive loaded in one transaction: a restore that
            # fails leaves the database as it was.
            _tool(
                [
                    "psql",
                    "-X",
                    "-q",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "--single-transaction",
                    f"--dbname={url}",
                    "-c",
                    "DO $$ DECLARE s text := current_schema(); BEGIN"
                    " EXECUTE format('DROP SCHEMA %I CASCADE', s);"
                    " EXECUTE format('CREATE SCHEMA %I', s); END $$;",
                    "-f",
                    str(script),
                ]
            )
        except ToolFailed as exc:
            return refuse(
                f"the restore into {config.database_where} failed, nothing changed: {exc}"
            )
    what, pending = asyncio.run(_after_restore(url))
    say(f"restored {config.database_where} from {source} ({what.headline()})")
    say_restored(what, kept, pending)
    return EXIT_OK


# -- wiq-bot copy-database -----------------------------------------------------------------


class CopyRefused(Exception):
    pass


async def _copy(source: Path, url: str) -> dict[str, int]:
    """Every row of every table of the SQLite file into the PostgreSQL database (empty, at
    the same schema: created if it has none), in one transaction; returns the row counts,
    checked equal on both sides before the COMMIT."""
    src = Database(source)
    await src.open(readonly=True)
    dst = Database(url)
    try:
        if await src.pending_migrations():
            raise CopyRefused(
                f"{source} has schema {await src.schema_version():03d}, this wiq-bot's is"
                f" {code_version():03d}: `wiq-bot migrate` it first"
            )
        await dst.open()
        tables = [str(row[0]) for row in await src.fetchall(SQLITE.tables_sql())]
        for table in tables:
            row = await dst.fetchone(f'SELECT 1 FROM "{table}" LIMIT 1')
            if row is not None:
                raise CopyRefused(f"{dst.where} is not empty ({table} has rows): refused")
        order = await _dependency_order(src, tables)
        counts: dict[str, int] = {}
        async with dst.transaction() as tx:
            for table in order:
                source_columns = [
                    str(row["name"]) for row in await src.fetchall(*SQLITE.columns_sql(table))
                ]
                target_columns = {
                    str(row["name"]) for row in await tx.fetchall(*dst.dialect.columns_sql(table))
                }
                columns = [c for c in source_columns if c in target_columns]
                names = ", ".join(f'"{c}"' for c in columns)
                rows = await src.fetchall(f'SELECT {names} FROM "{table}" ORDER BY rowid')
                # The rows are the record as it was: the triggers that write it stay still.
                await tx.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
                marks = ", ".join("?" for _ in columns)
                await tx.executemany(
                    f'INSERT INTO "{table}" ({names}) VALUES ({marks})',
                    [tuple(row) for row in rows],
                )
                await tx.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER USER')
                there = await tx.fetchone(f'SELECT COUNT(*) FROM "{table}"')
                here = await src.fetchone(f'SELECT COUNT(*) FROM "{table}"')
                copied, had = int(there[0]) if there else 0, int(here[0]) if here else 0
                if copied != had:
                    raise CopyRefused(f"{table}: {had} rows in {source}, {copied} copied")
                counts[table] = copied
        return counts
    finally:
        await src.close()
        await dst.close()


async def _dependency_order(db: Database, tables: list[str]) -> list[str]:
    """The tables, each after those its foreign keys refer to."""
    needs: dict[str, set[str]] = {}
    for table in tables:
        refs = await db.fetchall(*SQLITE.references_sql(table))
        needs[table] = ({str(ref["table"]) for ref in refs} & set(tables)) - {table}
    order: list[str] = []
    while needs:
        ready = sorted(t for t, n in needs.items() if n <= set(order))
        if not ready:
            raise CopyRefused(f"the tables refer to each other in a circle: {sorted(needs)}")
        for table in ready:
            order.append(table)
            del needs[table]
    return order


def copy_database(config: Config, to: str) -> int:
    """`wiq-bot copy-database --to postgresql://…`: the deployment's SQLite file into an
    empty PostgreSQL database, while no bot holds the file; every table's row count is
    checked on both sides. The config is left as it is: point [storage] at the URL after."""
    source = config.storage_path
    if source is None:
        return refuse("the config's [storage] is PostgreSQL already: nothing to copy from")
    if urlsplit(to).scheme not in ("postgresql", "postgres"):
        return refuse(f"--to must be a postgresql:// URL, not {to!r}")
    if not source.is_file():
        return refuse(f"no database at {source}")
    lock = DatabaseLock(source)
    try:
        lock.acquire(holder())
    except DatabaseInUse as exc:
        return refuse(f"refused: {exc}: stop the bot first, then copy")
    with lock:
        target = Database(to).where
        try:
            counts = asyncio.run(_copy(source, to))
        except CopyRefused as exc:
            return refuse(f"refused: {exc}")
        except (*DatabaseError, OSError) as exc:
            return refuse(f"the copy into {target} failed, nothing was written: {exc}")
    rows = sum(counts.values())
    say(
        f"copied {source} to {target}: {len(counts)} tables, {rows} rows;"
        " every table's row count matches"
    )
    say(
        f'next: stop using the file; in [storage] replace path with url = "{target}"'
        " and start the bot"
    )
    return EXIT_OK
