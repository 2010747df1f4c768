"""Storage on real SQLite files: migrations, people, teams, rosters, the append-only record."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage import Storage
from storage.db import Database
from storage.teams import AlreadyBound, KindTaken

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture
async def storage(tmp_path: Path):
    opened = await Storage.open(tmp_path / "wiq.sqlite", "Test", NOW)
    yield opened
    await opened.close()


async def test_migrations_are_versioned_and_applied_once(tmp_path: Path) -> None:
    path = tmp_path / "wiq.sqlite"
    first = await Storage.open(path, "Test", NOW)
    version = await first.db.schema_version()
    assert version >= 1
    await first.close()
    second = await Storage.open(path, "Test", NOW)
    assert await second.db.schema_version() == version
    rows = await second.db.fetchall("SELECT version FROM schema_migrations")
    assert len(rows) == len({row[0] for row in rows})
    await second.close()


async def test_connection_uses_wal_and_foreign_keys(storage: Storage) -> None:
    assert (await storage.db.fetchone("PRAGMA journal_mode"))[0] == "wal"
    assert (await storage.db.fetchone("PRAGMA foreign_keys"))[0] == 1
    assert (await storage.db.fetchone("PRAGMA synchronous"))[0] == 1  # NORMAL


async def test_a_renamed_network_keeps_its_record(tmp_path: Path) -> None:
    path = tmp_path / "wiq.sqlite"
    first = await Storage.open(path, "Old name", NOW)
    network_id = first.network_id
    await first.close()
    second = await Storage.open(path, "New name", NOW)
    assert second.network_id == network_id
    await second.close()


async def test_a_person_seen_again_is_updated_not_duplicated(storage: Storage) -> None:
    anna = await storage.people.seen(10, "Anna", None, "anna", "de", NOW)
    again = await storage.people.seen(10, "Anna", "Berg", "anna_b", "de", NOW + timedelta(1))
    assert again.id == anna.id
    assert again.display_name == "Anna Berg"
    assert await storage.people.by_username("@ANNA_B") == again
    assert await storage.people.by_username("anna") is None


async def test_a_username_moves_to_its_new_owner(storage: Storage) -> None:
    await storage.people.seen(10, "Anna", None, "garden", "de", NOW)
    bert = await storage.people.seen(11, "Bert", None, "garden", "de", NOW)
    assert (await storage.people.by_username("garden")).id == bert.id
    assert (await storage.people.by_telegram_id(10)).username is None


async def test_one_team_per_chat_and_one_pt_per_network(storage: Storage) -> None:
    await storage.teams.bind("PT", "Projektteam", -100, "supergroup", "explicit", None, NOW)
    with pytest.raises(AlreadyBound):
        await storage.teams.bind("LT", "Garten", -100, "supergroup", "chat", None, NOW)
    with pytest.raises(KindTaken):
        await storage.teams.bind("PT", "Zweites PT", -200, "supergroup", "explicit", None, NOW)
    await storage.teams.bind("LT", "Garten", -300, "supergroup", "chat", None, NOW)
    await storage.teams.bind("LT", "Repair-Café", -400, "supergroup", "chat", None, NOW)
    assert [team.name for team in await storage.teams.by_kind("LT")] == ["Garten", "Repair-Café"]


async def test_migration_moves_the_binding_once(storage: Storage) -> None:
    team = await storage.teams.bind("ST", "ST", -5, "group", "explicit", None, NOW)
    moved = await storage.teams.move_chat(-5, -1005, NOW)
    assert moved is not None and moved.id == team.id and moved.chat_id == -1005
    assert moved.chat_type == "supergroup"
    assert await storage.teams.move_chat(-5, -1005, NOW) is None
    assert await storage.teams.by_chat(-5) is None


async def test_roster_admit_leave_and_readmit(storage: Storage) -> None:
    team = await storage.teams.bind("ST", "ST", -5, "supergroup", "explicit", None, NOW)
    admin = await storage.people.seen(1, "Admin", None, None, "de", NOW)
    anna = await storage.people.seen(10, "Anna", None, None, "de", NOW)
    assert await storage.rosters.admit(
        team.id, anna.id, "admitted", NOW, by=admin.id, seat="politik", body="SBB West"
    )
    assert not await storage.rosters.admit(team.id, anna.id, "admitted", NOW, by=admin.id)
    [member] = await storage.rosters.members(team.id)
    assert (member.seat, member.body, member.joined_by) == ("politik", "SBB West", admin.id)
    assert await storage.rosters.leave(team.id, anna.id, "removed", NOW, by=admin.id, reason="x")
    assert not await storage.rosters.leave(team.id, anna.id, "removed", NOW)
    assert await storage.rosters.size(team.id) == 0
    departure = await storage.rosters.last_departure(team.id, anna.id)
    assert departure is not None and departure.left_how == "removed"
    assert await storage.rosters.admit(team.id, anna.id, "admitted", NOW)
    assert await storage.rosters.member_ids(team.id) == {anna.id}


async def test_the_record_names_people_by_id_only_and_is_append_only(storage: Storage) -> None:
    team = await storage.teams.bind("PT", "PT", -5, "supergroup", "explicit", None, NOW)
    anna = await storage.people.seen(10, "Anna", "Secretname", "annauser", "de", NOW)
    await storage.rosters.admit(team.id, anna.id, "admitted", NOW)
    await storage.rosters.leave(team.id, anna.id, "left", NOW, by=anna.id)
    events = await storage.events.for_team(team.id)
    assert [event.kind for event in events] == ["team.bound", "roster.joined", "roster.left"]
    assert events[1].subject_id == anna.id
    dump = "\n".join(str(tuple(row)) for row in await storage.db.fetchall("SELECT * FROM events"))
    for personal in ("Anna", "Secretname", "annauser", "10,"):
        assert personal not in dump
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        await storage.db.execute("DELETE FROM events")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        await storage.db.execute("UPDATE events SET kind = 'x'")


async def test_a_failed_transaction_changes_nothing(storage: Storage) -> None:
    with pytest.raises(RuntimeError):
        async with storage.db.transaction() as tx:
            await tx.execute("INSERT INTO networks (name, created_at) VALUES ('Other', '2026')")
            raise RuntimeError("boom")
    assert await storage.db.fetchone("SELECT 1 FROM networks WHERE name = 'Other'") is None


async def test_data_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "wiq.sqlite"
    first = await Storage.open(path, "Test", NOW)
    team = await first.teams.bind("KT", "Kernteam", -7, "supergroup", "explicit", None, NOW)
    anna = await first.people.seen(10, "Anna", None, "anna", "de", NOW)
    await first.rosters.admit(team.id, anna.id, "admitted", NOW)
    await first.close()
    second = await Storage.open(path, "Test", NOW)
    assert (await second.teams.by_chat(-7)).name == "Kernteam"
    assert [m.person.username for m in await second.rosters.members(team.id)] == ["anna"]
    await second.close()


async def test_a_statement_on_its_own_never_runs_inside_another_transaction(
    tmp_path: Path,
) -> None:
    """A write or read on its own waits while a transaction is open, and is not undone when
    that transaction rolls back; with none open it goes straight through."""
    db = Database(tmp_path / "order.sqlite")
    await db.open()
    try:
        await db.change("CREATE TABLE t (v INTEGER)")
        await db.change("INSERT INTO t VALUES (0)")  # none open: at once
        inside, release = asyncio.Event(), asyncio.Event()

        async def fails_halfway() -> None:
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO t VALUES (1)")
                inside.set()
                await release.wait()
                raise RuntimeError("rolled back")

        transaction = asyncio.create_task(fails_halfway())
        await inside.wait()
        alone = asyncio.create_task(db.change("INSERT INTO t VALUES (2)"))
        seen = asyncio.create_task(db.fetchall("SELECT v FROM t ORDER BY v"))
        await asyncio.sleep(0.05)
        assert not alone.done() and not seen.done()  # they wait for the transaction
        release.set()
        with pytest.raises(RuntimeError):
            await transaction
        assert await alone == 1
        assert [row[0] for row in await seen] == [0, 2]  # 1 was rolled back, 2 was not
    finally:
        await db.close()
