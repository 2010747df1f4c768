"""The networks of a deployment as a host handles them (SPEC §1, §9): `wiq-bot networks`
lists them with their chats and counts, `export-network` writes one network's record as files,
`remove-network` removes one network's data (after a confirmation and a backup) and leaves the
others untouched.

A network is named by its key or its name in the config (`Config.network_named`), or, for one
only in the database (no longer in the config), by its name there. Which configured network
a database row is follows the start's rule (`Networks.ensure`): by name, except that one
network in the config and one in the database with another name are the same network (a
rename the next start makes).

The same on either backend (`[storage] path` or `url`): on PostgreSQL the one-bot guard that
refuses a removal while a bot runs is its session advisory lock (storage.lock.PostgresGuard),
and the backup first is `pg_dump`'s (bot/ops/postgres.py), beside the config file.

Each command prints what it did on stdout and a refusal as one line on stderr (bot/ops/
database.py's `say` and `refuse`); exit codes 0 done, 2 refused (nothing was changed)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.config import Config, NetworkConfig
from bot.flows import export as files
from bot.ops.database import EXIT_OK, backup, holder, refuse, say
from bot.texts import dates
from storage import Storage
from storage.db import Database, DatabaseError, code_version
from storage.lock import DatabaseInUse, DatabaseLock, PostgresGuard
from storage.networks import NetworkCounts, NetworkRow, Networks
from storage.record import decision_record


@dataclass(frozen=True, slots=True)
class Placed:
    """A network as the config and the database know it: either may be missing."""

    config: NetworkConfig | None
    row: NetworkRow | None

    @property
    def name(self) -> str:
        if self.config is not None:
            return self.config.name
        assert self.row is not None
        return self.row.name

    @property
    def label(self) -> str:
        """`"Südwest" (key suedwest)`, or the name alone for a network only in the database."""
        if self.config is None:
            return repr(self.name)
        return f"{self.config.name!r} (key {self.config.key})"


def placed(config: Config, rows: list[NetworkRow]) -> list[Placed]:
    """The config's networks in its order (each with its database row, if it has one yet),
    then the database's networks no longer in the config."""
    if len(config.networks) == 1 and len(rows) == 1:
        return [Placed(config.networks[0], rows[0])]
    by_name = {row.name: row for row in rows}
    found = [Placed(network, by_name.pop(network.name, None)) for network in config.networks]
    return found + [Placed(None, row) for row in by_name.values()]


def find(config: Config, networks: list[Placed], word: str) -> Placed | None:
    """The network this word names: a configured network's key or name, else the name of one
    only in the database (any case)."""
    named = config.network_named(word)
    folded = " ".join(word.split()).casefold()
    for network in networks:
        if named is not None and network.config is named:
            return network
        if named is None and network.config is None and network.name.casefold() == folded:
            return network
    return None


async def _open(config: Config) -> Database:
    """The database read-only, at this code's schema (else a refusal's line; `_Empty` for a
    PostgreSQL database no bot has started on yet)."""
    db = Database(config.database)
    await db.open(readonly=True)
    schema = max(await db.applied_versions(), default=0)
    if schema != code_version():
        await db.close()
        if schema == 0 and config.storage_url is not None:
            raise _Empty
        raise _Refused(
            f"{config.database_where} has schema {schema:03d}, this wiq-bot's is"
            f" {code_version():03d}:"
            + (
                " run `wiq-bot migrate` first"
                if schema < code_version()
                else " use the version that wrote it"
            )
        )
    return db


def _missing(config: Config) -> bool:
    """No SQLite file yet (a PostgreSQL database is the host's: `_open` finds it empty)."""
    return config.storage_path is not None and not config.storage_path.is_file()


class _Refused(Exception):
    """A refusal, already phrased as its line."""


class _Empty(Exception):
    """A database without a schema yet: the first start creates it, and the networks."""


# -- wiq-bot networks ----------------------------------------------------------------------


def list_networks(config: Config) -> int:
    """Each network with its chats and counts, also while the bot runs (read-only)."""
    try:
        if _missing(config):
            raise _Empty
        found = asyncio.run(_counts(config))
    except _Empty:
        nothing = (
            f"no database at {config.database_where}"
            if config.storage_url is None
            else f"no wiq-bot schema in {config.database_where}"
        )
        say(f"{nothing} yet: the first start creates these networks")
        for configured in config.networks:
            say(f"network {Placed(configured, None).label}: in the config, not in the database yet")
        return EXIT_OK
    except _Refused as exc:
        return refuse(str(exc))
    except (*DatabaseError, OSError) as exc:
        return refuse(f"cannot read {config.database_where}: {exc}")
    for network, counts in found:
        say(_headline(network, counts))
        if counts is None:
            continue
        for kind, name, chat_id in counts.chats:
            say(f"  {kind} {name!r}: chat {chat_id}")
    return EXIT_OK


async def _counts(config: Config) -> list[tuple[Placed, NetworkCounts | None]]:
    db = await _open(config)
    try:
        networks = Networks(db)
        found = []
        for network in placed(config, await networks.all()):
            row = network.row
            found.append((network, None if row is None else await networks.counts(row.id)))
        return found
    finally:
        await db.close()


def _headline(network: Placed, counts: NetworkCounts | None) -> str:
    if counts is None:
        return f"network {network.label}: in the config, not in the database yet (next start)"
    where = ""
    if network.config is None:
        where = " — in the database, no longer in the config"
    elif network.row is not None and network.row.name != network.config.name:
        where = f" — {network.row.name!r} in the database (the next start renames it)"
    return (
        f"network {network.label}{where}: {_n(counts.teams, 'team')},"
        f" {_n(counts.people, 'person', 'people')}, {_n(counts.members, 'member')} on rosters,"
        f" {_n(counts.proposals, 'proposal')}, {counts.open_items} open"
    )


def _n(count: int, one: str, many: str = "") -> str:
    return f"{count} {one if count == 1 else many or one + 's'}"


# -- wiq-bot export-network ----------------------------------------------------------------


def export_network(config: Config, word: str, directory: Path) -> int:
    """One network's record in `directory`: the CSV and Markdown files /export sends a network
    admin (bot/flows/export.py), and the same rows as JSON, with its teams and chats."""
    if _missing(config):
        return refuse(f"no database at {config.database_where}")
    if directory.exists() and not directory.is_dir():
        return refuse(f"{directory} is not a directory")
    try:
        count, out = asyncio.run(_export(config, word))
    except _Empty:
        return refuse(f"no networks in {config.database_where} yet (no bot has started on it)")
    except _Refused as exc:
        return refuse(str(exc))
    except (*DatabaseError, OSError) as exc:
        return refuse(f"cannot read {config.database_where}: {exc}")
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in out:
        (directory / name).write_bytes(content)
        say(f"written: {directory / name} ({_n(count, 'decision')}, {len(content):,} bytes)")
    return EXIT_OK


async def _export(config: Config, word: str) -> tuple[int, list[tuple[str, bytes]]]:
    """How many decisions, and the files (name, content)."""
    from bot.app import CHARTER_TERMS

    db = await _open(config)
    try:
        network = find(config, placed(config, await Networks(db).all()), word)
        if network is None or network.row is None:
            raise _Refused(_unknown(config, word, network))
        # A network no longer in the config is written as the deployment's first speaks.
        speaks = network.config or config.networks[0]
        lang, tz = speaks.language, speaks.timezone
        storage = Storage.scoped(db, network.row.id, CHARTER_TERMS)
        now = datetime.now(UTC)
        record = await decision_record(storage.proposals)
        teams = await storage.teams.all()
        names = {team.id: team.name for team in teams}
        made = files.build(record, lang, tz, now, scope=network.name, team_names=names)
        table = files.decision_table(record, lang, tz, names)
        document = {
            "network": network.name,
            "key": None if network.config is None else network.config.key,
            "exported_at": now.isoformat(timespec="seconds"),
            "timezone": str(tz.key) if isinstance(tz, ZoneInfo) else str(tz),
            "teams": [
                {"kind": team.kind, "name": team.name, "chat_id": team.chat_id} for team in teams
            ],
            "decisions": [dict(zip(table.header, row, strict=True)) for row in table.rows],
        }
    finally:
        await db.close()
    json_name = Path(made.csv_name).with_suffix(".json").name
    as_json = json.dumps(document, ensure_ascii=False, indent=2).encode()
    out = [(made.csv_name, made.csv), (made.markdown_name, made.markdown), (json_name, as_json)]
    return len(record), out


def _unknown(config: Config, word: str, network: Placed | None) -> str:
    if network is not None:
        return f"{network.label} is in the config but not in the database yet: nothing to do"
    keys = ", ".join(n.key for n in config.networks)
    return f"no network {word!r} (the config's keys: {keys}; `wiq-bot networks` lists them all)"


# -- wiq-bot remove-network ----------------------------------------------------------------


def remove_network(
    config: Config,
    word: str,
    *,
    yes: bool = False,
    force: bool = False,
    ask: Callable[[str], str] = input,
    backup_to: Path | None = None,
) -> int:
    """Remove one network's every row, after the host typed its name again (or `yes`) and
    after a backup (beside the database; on PostgreSQL beside the config file; or at
    `backup_to`, a file or a directory); refused while a bot holds the database, and for a
    network still in the config unless `force` (the next start would create it again, empty).
    The one-bot guard is held, exclusively, from the first look to the last row removed: a
    bot or a worker that starts meanwhile is refused."""
    if _missing(config):
        return refuse(f"no database at {config.database_where}")
    return asyncio.run(_remove_network(config, word, yes, force, ask, backup_to))


class _Guard:
    """The one-bot guard, held as `wiq-bot run` holds it (storage/lock.py): the flock beside
    the SQLite file, or PostgreSQL's session advisory lock."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._lock: DatabaseLock | None = None
        self._guard: PostgresGuard | None = None

    async def acquire(self) -> None:
        """Raises DatabaseInUse while a bot, a worker, a restore, … holds the database."""
        if self.config.storage_url is not None:
            guard = PostgresGuard(self.config.storage_url)
            await guard.acquire(holder())
            self._guard = guard
        else:
            lock = DatabaseLock(self.config.database_file)
            lock.acquire(holder())
            self._lock = lock

    async def release(self) -> None:
        if self._guard is not None:
            await self._guard.release()
        if self._lock is not None:
            self._lock.release()


async def _remove_network(
    config: Config,
    word: str,
    yes: bool,
    force: bool,
    ask: Callable[[str], str],
    backup_to: Path | None,
) -> int:
    guard = _Guard(config)
    try:
        await guard.acquire()
    except DatabaseInUse as exc:
        return refuse(f"refused: {exc}: stop the bot first, then remove the network")
    except (*DatabaseError, OSError) as exc:
        return refuse(f"cannot use {config.database_where}: {exc}")
    try:
        return await _remove_held(config, word, yes, force, ask, backup_to)
    finally:
        await guard.release()


async def _remove_held(
    config: Config,
    word: str,
    yes: bool,
    force: bool,
    ask: Callable[[str], str],
    backup_to: Path | None,
) -> int:
    try:
        network, row, counts, rows = await _find_for_removal(config, word)
    except _Empty:
        return refuse(f"no networks in {config.database_where} yet (no bot has started on it)")
    except _Refused as exc:
        return refuse(str(exc))
    except (*DatabaseError, OSError) as exc:
        return refuse(f"cannot read {config.database_where}: {exc}")
    if network.config is not None and not force:
        return refuse(
            f"refused: {network.label} is still in the config: take it out of"
            f" {config.path} first (the next start would create it again, empty),"
            " or add --force to empty it and keep it configured"
        )
    say(f"to remove: {_headline(network, counts)}")
    if not yes:
        try:  # in a thread: the prompt waits for the host, the guard's session stays alive
            typed = await asyncio.to_thread(
                ask, f"type the network's name ({network.name}) to remove it: "
            )
        except EOFError:
            typed = ""
        if " ".join(typed.split()).casefold() not in {
            network.name.casefold(),
            " ".join(word.split()).casefold(),
        }:
            return refuse("not confirmed: nothing was removed")
    target = _backup_target(config, network, backup_to)
    # `backup` runs its own loop (and on PostgreSQL pg_dump): in a thread beside this one
    if await asyncio.to_thread(backup, config, target) != EXIT_OK:
        return refuse("refused: without a backup nothing is removed")
    try:
        removed = await _remove(config, row.id)
    except (*DatabaseError, OSError) as exc:  # one transaction: rolled back as a whole
        return refuse(f"the removal failed, nothing was removed (the backup stays): {exc}")
    total = sum(removed.values())
    tables = ", ".join(f"{table} {count}" for table, count in removed.items() if count)
    say(f"removed {network.label}: {total} rows ({tables})")
    others = [other for other in rows if other.id != row.id]
    say(f"the other networks are untouched: {', '.join(r.name for r in others) or 'none'}")
    if network.config is not None:
        say(f"{network.label} is still in the config: the next start creates it again, empty")
    elif len(others) == 1 and len(config.networks) == 1 and others[0].name != config.network.name:
        say(
            f"the database now holds one network, {others[0].name!r}, and the config one,"
            f" {config.network.name!r}: the next start takes it as that network, renamed"
        )
    return EXIT_OK


def _backup_target(config: Config, network: Placed, backup_to: Path | None) -> Path:
    """`<database stem>-before-removing-<network>-<time>.sqlite` beside the SQLite file, or
    `<database name>-before-removing-<network>-<time>.pgdump` beside the config file; in
    `backup_to` if that is a directory, or `backup_to` itself."""
    if backup_to is not None and not backup_to.is_dir():
        return backup_to
    stamp = dates.file_stamp(datetime.now(UTC))
    if config.storage_url is not None:
        from bot.ops.postgres import database_name

        name = f"{database_name(config.storage_url)}-before-removing"
        place, suffix = config.path.parent, ".pgdump"
    else:
        name = f"{config.database_file.stem}-before-removing"
        place, suffix = config.database_file.parent, ".sqlite"
    return (backup_to or place) / f"{name}-{files.slug(network.name)}-{stamp}{suffix}"


async def _find_for_removal(
    config: Config, word: str
) -> tuple[Placed, NetworkRow, NetworkCounts, list[NetworkRow]]:
    db = await _open(config)
    try:
        networks = Networks(db)
        rows = await networks.all()
        network = find(config, placed(config, rows), word)
        if network is None or network.row is None:
            raise _Refused(_unknown(config, word, network))
        counts = await networks.counts(network.row.id)
        return network, network.row, counts, rows
    finally:
        await db.close()


async def _remove(config: Config, network_id: int) -> dict[str, int]:
    db = Database(config.database)
    try:
        await db.open(migrate=False)
        return await Networks(db).remove(network_id)
    finally:
        await db.close()


__all__ = ["export_network", "list_networks", "remove_network"]
