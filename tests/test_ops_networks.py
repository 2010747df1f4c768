"""A host's commands for the networks of a deployment (SPEC §1, §9; issue 14.4): `wiq-bot
networks`, `export-network` and `remove-network`, on a real SQLite file that the real bot
filled with two networks (tests/harness.py `start_two_networks`), run once it stopped."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.config import load_config
from bot.ops.networks import remove_network
from storage.lock import DatabaseLock
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
    start_bot,
    wiq_bot,
)

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


@pytest.fixture
async def stopped(tmp_path: Path) -> tuple[Path, bytes]:
    """The database of the two networks, the bot stopped; and the CSV /export gave Berit."""
    h = await two_networks_with_data(tmp_path)
    try:
        documents = [m for m in h.model.bot_messages(ADMIN_B) if m.document]
        assert len(documents) == 2, h.bot_texts(ADMIN_B)
        exported = documents[0].document.data
    finally:
        await h.stop()
    return h.config.path, exported


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


def owners(database: Path) -> dict[str, list[tuple[int | None, tuple[Any, ...]]]]:
    """Every row of every table with the network it belongs to: its network_id, else that of
    the row its foreign key names (followed as far as needed); None for the deployment's."""
    with contextlib.closing(sqlite3.connect(database)) as db:
        tables = [
            row[0]
            for row in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        rows = {
            table: db.execute(f"SELECT rowid AS _rid, * FROM {table}").fetchall()
            for table in tables
        }
        columns = {
            table: [r[1] for r in db.execute(f"PRAGMA table_info({table})")] for table in tables
        }
        keys = {
            table: [
                (fk[2], fk[3], fk[4] or "id")
                for fk in db.execute(f"PRAGMA foreign_key_list({table})")
            ]
            for table in tables
        }
    found: dict[str, list[tuple[int | None, tuple[Any, ...]]]] = {}
    memo: dict[tuple[str, str, Any], int | None] = {}

    def owner_of(table: str, row: tuple[Any, ...]) -> int | None:
        names = ["_rid", *columns[table]]
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
                parent_names = ["_rid", *columns[parent]]
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
        table: sorted(row for owner, row in rows if owner == network)
        for table, rows in found.items()
    }


def network_ids(database: Path) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(database)) as db:
        return {name: id_ for id_, name in db.execute("SELECT id, name FROM networks")}


async def cli(args: list[str]) -> int:
    """`wiq-bot …` in this process (as the bot's own loop is not running here: in a thread)."""
    return await asyncio.to_thread(main, args)


async def in_thread(function: Callable[..., int], *args: Any, **kwargs: Any) -> int:
    return await asyncio.to_thread(function, *args, **kwargs)


# -- the tests -------------------------------------------------------------------------------


async def test_networks_lists_each_network_with_its_chats_and_counts(
    stopped: tuple[Path, bytes],
) -> None:
    config, _ = stopped
    code, out, err = await wiq_bot("networks", "--config", str(config))
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
    code, out, err = await wiq_bot("networks", "--config", str(only_the_first(config)))
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
    stopped: tuple[Path, bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    config, _ = stopped
    database = load_config(config, env={}).storage_path
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
    # the backup holds what was removed
    [backup] = database.parent.glob("wiq-before-removing-suedwest-*.sqlite")
    assert of_network(owners(backup), ids["Südwest"]) == second_before
    # the record's append-only guard is back in place
    with (
        contextlib.closing(sqlite3.connect(database)) as db,
        pytest.raises(sqlite3.IntegrityError, match="append-only"),
    ):
        db.execute("DELETE FROM events")


async def test_remove_network_asks_for_the_name_refuses_a_configured_one_and_a_running_bot(
    stopped: tuple[Path, bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    config, _ = stopped
    database = load_config(config, env={}).storage_path
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
    # while a bot holds the database
    lock = DatabaseLock(database)
    lock.acquire("pid 1 on host, since then")
    try:
        assert await in_thread(remove_network, one, "Südwest", yes=True) == 2
        assert "stop the bot first" in capsys.readouterr().err
    finally:
        lock.release()
    assert owners(database) == before
    assert list(database.parent.glob("wiq-before-removing-*")) == []
    # typed right: removed
    prompts: list[str] = []
    typed = iter(["südwest"])

    def answer(prompt: str) -> str:
        prompts.append(prompt)
        return next(typed)

    assert await in_thread(remove_network, one, "Südwest", ask=answer) == 0
    assert prompts == ["type the network's name (Südwest) to remove it: "]
    assert "Südwest" not in network_ids(database)


async def test_remove_network_with_force_empties_a_configured_network(
    stopped: tuple[Path, bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    config, _ = stopped
    assert (
        await cli(["remove-network", "--config", str(config), "suedwest", "--yes", "--force"]) == 0
    )
    assert "the next start creates it again, empty" in capsys.readouterr().out
    code, out, _ = await wiq_bot("networks", "--config", str(config))
    assert code == 0
    assert "network 'Südwest' (key suedwest): in the config, not in the database yet" in out
