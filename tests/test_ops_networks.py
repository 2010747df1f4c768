"""A host's commands for the networks of a deployment (SPEC §1, §9; issue 14.4): `wiq-bot
networks`, `export-network` and `remove-network`, on a real database that the real bot filled
with two networks (tests/harness.py `start_bot`), run once it stopped — a SQLite file, and
with WIQ_TEST_POSTGRES_URL the PostgreSQL test database (`[sqlite]`, `[postgres]`).

The bot fills it once per backend; each test starts from a copy of what it left (the file
copied, or the rows put back with the triggers still), not from a second run of the bot."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import re
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import storage.networks as networks_storage
from bot.cli import main
from bot.config import Config, load_config
from bot.ops.networks import remove_network
from storage.db import IntegrityError
from storage.lock import DatabaseInUse, DatabaseLock, PostgresGuard
from tests.harness import (
    ADMIN,
    ADMIN_B,
    ANNA,
    BERT,
    CARL,
    DORA,
    PT,
    PT_B,
    SECOND_NETWORK,
    ST_B,
    DecisionSteps,
    Harness,
    config_text,
    dialect_of,
    peek,
    start_bot,
)

pytestmark = pytest.mark.both_backends

# The tables that hold no network's rows: the deployment's own.
DEPLOYMENT_TABLES = {"heartbeats", "inbox", "schema_migrations", "upgrade_catch_up"}


async def two_networks_with_data(tmp_path: Path) -> Harness:
    """WiQ Test: a PT (Anna, Bert) with a Beschluss. Südwest: a PT (Anna, Bert) with a
    Beschluss and an open proposal with an Einwand and its reason, an ST (Carl, Dora) that
    decides by majority (its own policy) with a vote running, an anonymous Anliegen of
    Carl's posted to its PT; Berit asked for the network's /export privately."""
    majority = SECOND_NETWORK + '[networks.policy.ST]\nprocess = "majority"\n'
    h = await start_bot(tmp_path, networks=majority)
    d = DecisionSteps(h)
    await h.set_up_team("PT", (ANNA, BERT))
    await h.set_up_team("PT", (ANNA, BERT), chat=PT_B, name="Projektteam Südwest", by=ADMIN_B)
    await h.set_up_team("ST", (CARL, DORA), chat=ST_B, name="Steuerung Südwest", by=ADMIN_B)
    await h.say(PT, ANNA, "/vorschlag 1d Bänke am Markt")
    await d.press(PT, 1, ANNA, "agree")
    await d.press(PT, 1, BERT, "agree")
    await h.say(PT_B, BERT, "/vorschlag 1d Ein Hoffest im Juni")
    await d.press(PT_B, 2, ANNA, "agree")
    await d.press(PT_B, 2, BERT, "agree")
    await h.say(PT_B, BERT, "/vorschlag 2d Mehr Licht im Hof")
    await d.press(PT_B, 3, ANNA, "object")
    await h.say(ANNA, ANNA, "Zu teuer für dieses Jahr.")
    await h.say(ST_B, CARL, "/vorschlag 2d Neue Bänke am Spielplatz")
    poll = h.model.bot_messages(ST_B)[-1].poll
    assert poll is not None
    h.model.answer_poll(poll.id, DORA, [0])
    await h.settle()
    h.model.start_bot(CARL)
    await h.say(CARL, CARL, "/anliegen")
    choice = await h.say(CARL, CARL, "Der Hof braucht mehr Licht.")
    assert choice is not None
    query = h.model.press_button(CARL, choice.message_id, CARL, button_text="Anonym")
    await h.model.wait_callback_answer(query)
    await h.settle()
    assert any("Der Hof braucht mehr Licht." in text for text in h.bot_texts(PT_B))
    h.model.start_bot(ADMIN_B)
    await h.say(ADMIN_B, ADMIN_B, "/export")
    return h


Rows = dict[str, tuple[list[str], list[tuple[Any, ...]]]]  # each table's columns and rows


@dataclass
class Filled:
    """What the bot left of the two networks on one backend: its config's directory, the
    CSV /export gave Berit, and (on PostgreSQL) every table's rows."""

    directory: Path
    exported: bytes
    rows: Rows | None


_filled: dict[str, Filled] = {}  # by backend: the bot runs once for each


@pytest.fixture
async def stopped(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, backend: str
) -> tuple[Path, bytes]:
    """The database of the two networks, the bot stopped (its config in tmp_path); and the
    CSV /export gave Berit."""
    fresh = backend not in _filled
    if fresh:
        directory = tmp_path_factory.mktemp(f"two-networks-{backend}")
        h = await two_networks_with_data(directory)
        try:
            documents = [m for m in h.model.bot_messages(ADMIN_B) if m.document]
            assert len(documents) == 2, h.bot_texts(ADMIN_B)
            exported = documents[0].document.data
        finally:
            await h.stop()
        rows = await _all_rows(h.config.storage_url) if h.config.storage_url else None
        _filled[backend] = Filled(directory, exported, rows)
    filled = _filled[backend]
    config = _copy_of(filled, tmp_path)
    if filled.rows is not None and not fresh:  # the backend fixture emptied the database
        await _put_back(database_of(config), filled.rows)
    return config, filled.exported


def _copy_of(filled: Filled, tmp_path: Path) -> Path:
    """The config in tmp_path (and on SQLite a copy of the file beside it)."""
    text = (filled.directory / "config.toml").read_text("utf-8")
    config = tmp_path / "config.toml"
    config.write_text(text.replace(str(filled.directory), str(tmp_path)), "utf-8")
    if filled.rows is None:
        with (
            contextlib.closing(sqlite3.connect(filled.directory / "wiq.sqlite")) as source,
            contextlib.closing(sqlite3.connect(tmp_path / "wiq.sqlite")) as copy,
        ):
            source.backup(copy)
    return config


async def _all_rows(url: str) -> Rows:
    """Every table's columns and rows (but schema_migrations'), each table after the ones it
    refers to."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        refs = await conn.fetch(
            "SELECT c.relname, array_remove(array_agg(DISTINCT f.relname), NULL)"
            " FROM pg_class c LEFT JOIN pg_constraint k ON k.conrelid = c.oid"
            " AND k.contype = 'f' LEFT JOIN pg_class f ON f.oid = k.confrelid"
            " WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace"
            " AND c.relname != 'schema_migrations' GROUP BY c.relname"
        )
        needs = {str(r[0]): set(r[1]) - {r[0]} for r in refs}
        order: list[str] = []
        while needs:
            ready = sorted(t for t, n in needs.items() if n <= set(order))
            order += ready
            for table in ready:
                del needs[table]
        found = {}
        for table in order:
            statement = await conn.prepare(f'SELECT * FROM "{table}"')
            columns = [attribute.name for attribute in statement.get_attributes()]
            found[table] = (columns, [tuple(r) for r in await statement.fetch()])
        return found
    finally:
        await conn.close()


async def _put_back(url: Path | str, rows: Rows) -> None:
    """The rows as they were, in one transaction, with the triggers that write the record
    and number the ids still (as `copy-database` copies a database)."""
    import asyncpg

    conn = await asyncpg.connect(str(url))
    try:
        async with conn.transaction():
            for table, (columns, records) in rows.items():
                await conn.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
                await conn.copy_records_to_table(table, records=records, columns=columns)
                await conn.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER USER')
            await conn.execute(
                "SELECT setval(pg_get_serial_sequence('vote_polls', 'rowid'),"
                " COALESCE(MAX(rowid), 0) + 1, false) FROM vote_polls"
            )
    finally:
        await conn.close()


def only_the_first(config: Path) -> Path:
    """The host took Südwest out of the config: WiQ Test alone, as [[networks]]."""
    text = config_text(
        config.parent / "wiq.sqlite",
        networks=f'[[networks]]\nname = "WiQ Test"\nkey = "test"\nadmins = [{ADMIN}]\n',
    )
    path = config.with_name("one.toml")
    path.write_text(text, encoding="utf-8")
    return path


# -- whose each row is, found from the schema alone (not from the code under test) ---------


Catalogue = tuple[list[str], dict[str, list[str]], dict[str, list[tuple[str, str, str]]]]
_catalogues: dict[str, Catalogue] = {}  # by dialect: the schema is the same in every copy


def catalogue(db: Any) -> Catalogue:
    """The tables, each one's columns, and its foreign keys (the table, column and column
    referred to; every one names an `id`), asked once per backend."""
    schema = dialect_of(db)
    if schema.name not in _catalogues:
        tables = [str(row[0]) for row in db.execute(schema.tables_sql()).fetchall()]
        columns = {
            table: [str(row[0]) for row in db.execute(*schema.columns_sql(table)).fetchall()]
            for table in tables
        }
        keys = {
            table: [
                (str(row[1]), str(row[0]), "id")
                for row in db.execute(*schema.references_sql(table)).fetchall()
            ]
            for table in tables
        }
        _catalogues[schema.name] = (tables, columns, keys)
    return _catalogues[schema.name]


def owners(database: Path | str) -> dict[str, list[tuple[int | None, tuple[Any, ...]]]]:
    """Every row of every table with the network it belongs to: its network_id, else that of
    the row its foreign key names (followed as far as needed); None for the deployment's.
    (A row of SQLite's carries its rowid first.)"""
    with contextlib.closing(peek(database)) as db:
        tables, columns, keys = catalogue(db)
        first = "rowid AS _rid, " if dialect_of(db).name == "sqlite" else ""
        rows = {
            table: [tuple(row) for row in db.execute(f'SELECT {first}* FROM "{table}"').fetchall()]
            for table in tables
        }
    found: dict[str, list[tuple[int | None, tuple[Any, ...]]]] = {}
    memo: dict[tuple[str, str, Any], int | None] = {}

    lead = ["_rid"] if first else []

    def owner_of(table: str, row: tuple[Any, ...]) -> int | None:
        names = [*lead, *columns[table]]
        values = dict(zip(names, row, strict=True))
        if table == "networks":
            return int(values["id"])
        if values.get("network_id") is not None:
            return int(values["network_id"])
        for parent, column, target in keys[table]:
            if values.get(column) is None or parent == table:
                continue
            key = (parent, target, values[column])
            if key not in memo:
                parent_names = [*lead, *columns[parent]]
                match = next(
                    (
                        r
                        for r in rows[parent]
                        if dict(zip(parent_names, r, strict=True))[target] == values[column]
                    ),
                    None,
                )
                memo[key] = None if match is None else owner_of(parent, match)
            if memo[key] is not None:
                return memo[key]
        return None

    for table in tables:
        found[table] = [(owner_of(table, row), tuple(row)) for row in rows[table]]
    return found


def of_network(
    found: dict[str, list[tuple[int | None, tuple[Any, ...]]]], network: int | None
) -> dict[str, list[tuple[Any, ...]]]:
    return {
        table: sorted((row for owner, row in rows if owner == network), key=repr)
        for table, rows in found.items()
    }


def network_ids(database: Path | str) -> dict[str, int]:
    with contextlib.closing(peek(database)) as db:
        return {name: id_ for id_, name in db.execute("SELECT id, name FROM networks")}


def rows_in_archive(path: Path) -> dict[str, int]:
    """How many rows of each table a pg_dump archive holds (read by pg_restore)."""
    script = subprocess.run(
        ["pg_restore", "--data-only", "--file=-", str(path)],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    counts = {}
    for found in re.finditer(r"^COPY \S*?\.?(\w+) \(.*?\n(.*?)^\\\.$", script, re.M | re.S):
        counts[found[1]] = len(found[2].splitlines())
    return counts


def backups(directory: Path) -> list[Path]:
    """The backups `remove-network` wrote there (of any network)."""
    return sorted(directory.glob("*-before-removing-*"))


def database_of(config: Path) -> Path | str:
    return load_config(config, env={}).database


def holding(config: Config) -> Callable[[str], Any]:
    """Take the one-bot guard as a starting `wiq-bot run` does (in a thread of its own, with
    no loop of its own running): raises DatabaseInUse while another holds it."""

    def take(holder: str) -> Any:
        if config.storage_url is not None:
            guard = PostgresGuard(config.storage_url)

            async def acquire_and_release() -> None:
                await guard.acquire(holder)
                await guard.release()

            return asyncio.run(acquire_and_release())
        lock = DatabaseLock(config.database_file)
        lock.acquire(holder)
        lock.release()
        return None

    return take


async def cli(args: list[str]) -> int:
    """`wiq-bot …` in this process (as the bot's own loop is not running here: in a thread)."""
    return await asyncio.to_thread(main, args)


async def said(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, str, str]:
    """`wiq-bot …` in this process: its exit code, and what it printed on stdout and stderr."""
    capsys.readouterr()
    code = await cli(args)
    out, err = capsys.readouterr()
    return code, out, err


async def in_thread(function: Callable[..., int], *args: Any, **kwargs: Any) -> int:
    return await asyncio.to_thread(function, *args, **kwargs)


# -- the tests -------------------------------------------------------------------------------


async def test_networks_lists_each_network_with_its_chats_and_counts(
    stopped: tuple[Path, bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    config, _ = stopped
    code, out, err = await said(capsys, ["networks", "--config", str(config)])
    assert code == 0, err
    lines = out.splitlines()
    assert lines[:2] == [
        "network 'WiQ Test' (key test): 1 team, 3 people, 2 members on rosters, 1 proposal, 0 open",
        f"  PT 'Projektteam': chat {PT}",
    ]
    suedwest = next(line for line in lines if line.startswith("network 'Südwest'"))
    assert suedwest == (
        "network 'Südwest' (key suedwest): 2 teams, 5 people, 4 members on rosters,"
        " 3 proposals, 2 open"
    )
    assert f"  ST 'Steuerung Südwest': chat {ST_B}" in lines
    # Südwest taken out of the config: still in the database, and said so
    code, out, err = await said(capsys, ["networks", "--config", str(only_the_first(config))])
    assert code == 0, err
    assert "network 'Südwest' — in the database, no longer in the config: 2 teams," in out, out


async def test_export_network_writes_what_export_sends_a_network_admin_and_json(
    stopped: tuple[Path, bytes], tmp_path: Path
) -> None:
    config, sent_to_berit = stopped
    out_dir = tmp_path / "record"
    assert await cli(["export-network", "--config", str(config), "suedwest", str(out_dir)]) == 0
    written = sorted(path.name for path in out_dir.iterdir())
    assert [Path(name).suffix for name in written] == [".csv", ".json", ".md"]
    assert all(name.startswith("beschluesse-suedwest-") for name in written)
    csv_file = next(out_dir.glob("*.csv"))
    assert csv_file.read_bytes() == sent_to_berit  # the one exporter, not a second one
    rows = list(csv.DictReader(io.StringIO(csv_file.read_text("utf-8-sig")), delimiter=";"))
    assert [row["Titel"] for row in rows] == [
        "Ein Hoffest im Juni",
        "Mehr Licht im Hof",
        "Neue Bänke am Spielplatz",
    ]
    document = json.loads(next(out_dir.glob("*.json")).read_text("utf-8"))
    assert document["network"] == "Südwest" and document["key"] == "suedwest"
    assert [d["Titel"] for d in document["decisions"]] == [row["Titel"] for row in rows]
    assert {team["chat_id"] for team in document["teams"]} == {PT_B, ST_B}
    assert "Bänke am Markt" not in "".join(p.read_text("utf-8-sig") for p in out_dir.iterdir())
    # by its name too; an unknown name is refused in one line
    assert (
        await cli(["export-network", "--config", str(config), "Südwest", str(tmp_path / "b")]) == 0
    )
    assert (
        await cli(["export-network", "--config", str(config), "nordost", str(tmp_path / "c")]) == 2
    )
    assert not (tmp_path / "c").exists()


async def test_remove_network_removes_every_row_of_one_network_and_no_other(
    stopped: tuple[Path, bytes], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, _ = stopped
    database = database_of(config)
    ids = network_ids(database)
    before = owners(database)
    first_before = of_network(before, ids["WiQ Test"])
    second_before = of_network(before, ids["Südwest"])
    deployment_before = of_network(before, None)
    # what the bot made of Südwest is in many tables (the test cannot pass on an empty one)
    filled = {table for table, rows in second_before.items() if rows}
    assert {
        "teams",
        "people",
        "roster_entries",
        "proposals",
        "rounds",
        "responses",
        "round_electorate",
        "events",
        "outbox",
        "petitions",
        "petition_messages",
        "networks",
    } <= filled, filled
    one = only_the_first(config)

    assert await cli(["remove-network", "--config", str(one), "Südwest", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "backup written:" in out and "removed 'Südwest':" in out
    assert "the other networks are untouched: WiQ Test" in out

    after = owners(database)
    assert {t: r for t, r in of_network(after, ids["Südwest"]).items() if r} == {}
    assert of_network(after, ids["WiQ Test"]) == first_before
    assert {t: r for t, r in of_network(after, None).items() if t in DEPLOYMENT_TABLES} == {
        t: r for t, r in deployment_before.items() if t in DEPLOYMENT_TABLES
    }
    # every row is a network's or the deployment's: no table escaped the removal's list
    assert {t for t, r in of_network(after, None).items() if r} <= DEPLOYMENT_TABLES
    # the backup, beside the database (on PostgreSQL beside the config), holds what was removed
    [backup] = backups(tmp_path)
    if isinstance(database, Path):
        assert backup.name.startswith("wiq-before-removing-") and backup.suffix == ".sqlite"
        assert of_network(owners(backup), ids["Südwest"]) == second_before
    else:
        assert backup.suffix == ".pgdump"
        in_archive = rows_in_archive(backup)
        assert {t: n for t, n in in_archive.items() if t != "schema_migrations"} == {
            t: len(r) for t, r in before.items()
        }
    # the record's append-only guard is back in place
    with contextlib.closing(peek(database)) as db:
        assert db.execute("SELECT COUNT(*) FROM events").fetchone()[0] > 0  # WiQ Test's
        with pytest.raises(IntegrityError, match="append-only"):
            db.execute("DELETE FROM events")


async def test_remove_network_asks_for_the_name_refuses_a_configured_one_and_a_running_bot(
    stopped: tuple[Path, bytes],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config, _ = stopped
    database = database_of(config)
    before = owners(database)
    # still in the config: the next start would create it again, empty
    assert await cli(["remove-network", "--config", str(config), "suedwest", "--yes"]) == 2
    err = capsys.readouterr().err
    assert "is still in the config" in err and "--force" in err
    one = load_config(only_the_first(config), env={})
    # the name typed again wrongly, or not at all: nothing removed, no backup made
    assert await in_thread(remove_network, one, "Südwest", ask=lambda prompt: "Nordost") == 2
    assert "not confirmed: nothing was removed" in capsys.readouterr().err

    def no_answer(prompt: str) -> str:
        raise EOFError

    assert await in_thread(remove_network, one, "Südwest", ask=no_answer) == 2
    # while a bot holds the database: its guard, as `wiq-bot run` takes it
    if one.storage_url is not None:
        guard = PostgresGuard(one.storage_url)
        await guard.acquire("pid 1 on host, since then")
        release: Callable[[], Any] = guard.release
    else:
        lock = DatabaseLock(one.database_file)
        lock.acquire("pid 1 on host, since then")
        release = lock.release
    try:
        assert await in_thread(remove_network, one, "Südwest", yes=True) == 2
        err = capsys.readouterr().err
        assert "pid 1 on host" in err and "stop the bot first" in err
    finally:
        if asyncio.iscoroutine(done := release()):
            await done
    if one.storage_path is not None:  # a worker too (it holds the flock shared)
        with DatabaseLock(one.database_file, shared=True).hold("pid 2 on host, since then"):
            assert await in_thread(remove_network, one, "Südwest", yes=True) == 2
            assert "pid 2 on host" in capsys.readouterr().err
    assert owners(database) == before
    assert backups(tmp_path) == []
    # a removal that fails where the record's guard is set aside changes nothing, the guard
    # included: one transaction
    failing = tuple(
        (table, "no_such_column = ?1" if table == "events" else where)
        for table, where in networks_storage._REMOVAL
    )
    monkeypatch.setattr(networks_storage, "_REMOVAL", failing)
    assert await in_thread(remove_network, one, "Südwest", yes=True) == 2
    assert "the removal failed, nothing was removed" in capsys.readouterr().err
    monkeypatch.undo()
    assert owners(database) == before
    with contextlib.closing(peek(database)) as db, pytest.raises(IntegrityError):
        db.execute("DELETE FROM events")
    # typed right: removed; while it asked, a bot that started was refused
    prompts: list[str] = []
    refused: list[str] = []

    def answer(prompt: str) -> str:
        prompts.append(prompt)
        try:
            holding(one)("pid 3 on host, since then")
        except DatabaseInUse as exc:
            refused.append(exc.holder)
        return "südwest"

    assert await in_thread(remove_network, one, "Südwest", ask=answer) == 0
    assert prompts == ["type the network's name (Südwest) to remove it: "]
    assert len(refused) == 1 and refused[0].startswith("pid "), refused
    assert "Südwest" not in network_ids(database)
    await asyncio.to_thread(holding(one), "pid 4 on host, since then")  # released once done


async def test_remove_network_with_force_empties_a_configured_network(
    stopped: tuple[Path, bytes], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, _ = stopped
    kept = tmp_path / "backups"
    kept.mkdir()
    args = ["remove-network", "--config", str(config), "suedwest", "--yes", "--force"]
    assert await cli([*args, "--backup", str(kept)]) == 0
    assert "the next start creates it again, empty" in capsys.readouterr().out
    assert len(backups(kept)) == 1 and backups(tmp_path) == []  # where --backup said
    code, out, _ = await said(capsys, ["networks", "--config", str(config)])
    assert code == 0
    assert "network 'Südwest' (key suedwest): in the config, not in the database yet" in out
