"""`wiq-bot backup` and `restore` (SPEC §9): a consistent copy while the bot runs; a restore
only while no bot holds the database, which keeps what it replaces and says what the next
start will do; and every file the bot writes is its user's alone (0600), whatever the umask."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sqlite3
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.ops.database import loose_files
from localapi.server import LocalBotApiServer
from storage.db import Database, code_version
from storage.lock import DatabaseLock
from tests.harness import (
    ADMIN,
    ANNA,
    BERT,
    PT,
    ST,
    Harness,
    Teams,
    database_at_schema,
    finish,
    lines_until,
    make_model,
    start_process,
    wiq_bot,
    write_config,
)


@contextlib.contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return db.execute(sql).fetchall()


async def test_a_backup_while_the_bot_runs_is_sound_and_a_restore_waits_for_the_stop(
    tmp_path: Path,
) -> None:
    database, backup = tmp_path / "wiq.sqlite", tmp_path / "backup.sqlite"
    model = make_model()
    async with LocalBotApiServer(model) as server:
        config = write_config(tmp_path, server.base_url)
        with umask(0o022):  # the usual one, under which SQLite's files are -rw-r--r--
            process = await start_process(config)
        try:
            await lines_until(process, "event=started")
            sent = model.send_message(PT, ADMIN, "/setup PT Projektteam")
            await model.wait_for_message(PT, "✅", after=sent["message_id"], timeout=20)
            for user, name in ((ANNA, "anna"), (BERT, "bert")):
                model.send_message(PT, user, "Hallo")
                sent = model.send_message(PT, ADMIN, f"/admit @{name}")
                await model.wait_for_message(PT, "✅", after=sent["message_id"], timeout=20)
            sent = model.send_message(PT, ANNA, "/propose 7d Wir streichen den Zaun")
            card = await model.wait_for_message(
                PT, "Vorschlag #1", after=sent["message_id"], timeout=20
            )

            async def go_on() -> None:  # the scenario goes on while the backup is taken
                for i in range(40):
                    choice = ("Zustimmung", "Enthaltung")[i % 2]
                    model.press_button(PT, card.message_id, (ANNA, BERT)[i % 2], button_text=choice)
                    if i % 10 == 0:
                        model.send_message(PT, ANNA, "/team")
                    await asyncio.sleep(0.01)

            busy = asyncio.create_task(go_on())
            code, out, err = await wiq_bot("backup", "--config", str(config), str(backup))
            await busy
            assert code == 0, err
            assert re.fullmatch(
                rf"backup written: {re.escape(str(backup))} \([\d,]+ bytes, schema"
                rf" {code_version():03d}; 1 teams, 3 people, 1 proposals, \d+ events; \d+"
                r" messages waiting to go out; last event \S+ \S+ UTC\)\n",
                out,
            ), out

            # A restore is refused while the bot holds the database: nothing changes.
            code, out, err = await wiq_bot("restore", "--config", str(config), str(backup))
            assert code == 2 and out == ""
            assert f"another wiq-bot (pid {process.pid} on " in err
            assert "stop the bot first" in err

            sent = model.send_message(PT, ANNA, "/propose 7d Nach der Sicherung")
            await model.wait_for_message(PT, "Vorschlag #2", after=sent["message_id"], timeout=20)
            for name in ("wiq.sqlite", "wiq.sqlite-wal", "wiq.sqlite-shm", "wiq.sqlite.lock"):
                assert mode(tmp_path / name) == 0o600, name
        finally:
            process.send_signal(signal.SIGTERM)
            await finish(process)
        assert process.returncode == 0

    # The copy: sound, one self-contained file, its owner's alone, with the rows of then.
    assert rows(backup, "PRAGMA integrity_check") == [("ok",)]
    assert rows(backup, "PRAGMA journal_mode") == [("delete",)]
    assert mode(backup) == 0o600
    assert not backup.with_name("backup.sqlite-wal").exists()
    assert rows(backup, "SELECT name FROM teams") == [("Projektteam",)]
    assert rows(backup, "SELECT first_name FROM people ORDER BY id")[-2:] == [("Anna",), ("Bert",)]
    assert rows(backup, "SELECT id, text FROM proposals") == [(1, "Wir streichen den Zaun")]

    # Stopped: the restore puts the copy in place and keeps what it replaced.
    code, out, err = await wiq_bot("restore", "--config", str(config), str(backup))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith(f"restored {database} from {backup} (")
    assert lines[1].startswith("its record ends at ")
    [kept_line] = [line for line in lines if line.startswith("the replaced database is kept as")]
    kept = Path(kept_line.rsplit(" ", 1)[1])
    queued = rows(backup, "SELECT COUNT(*) FROM outbox WHERE status IN ('queued', 'sending')")
    # A press stored but still being handled at the backup's moment is in it, unhandled.
    [(unhandled,)] = rows(backup, "SELECT COUNT(*) FROM inbox WHERE handled_at IS NULL")
    assert lines[-1] == (
        f"at the next start: {unhandled} updates fetched before the backup are handled; 0 rounds,"
        " votes"
        " and revision windows whose deadline has passed close;"
        f" {queued[0][0]} queued messages go out"
    )
    assert rows(database, "SELECT id FROM proposals") == [(1,)]
    assert rows(kept, "SELECT id FROM proposals") == [(1,), (2,)]
    assert mode(database) == 0o600 and mode(kept) == 0o600

    # health warns about a file more open than 0600 (and still judges the rest).
    database.chmod(0o644)
    code, out, err = await wiq_bot("health", "--config", str(config))
    assert f"wiq-bot: warning: {database} has mode 0644: others may read it" in err
    # The heartbeats in the backup were of its time: no bot runs on the restored database.
    assert code == 1 and out.startswith("unhealthy: no heartbeat: the bot has not run on")


async def test_a_restore_says_what_the_next_start_does_and_the_start_does_it(
    team: Teams, tmp_path: Path
) -> None:
    # Ten days ago the ST opened a 7-day round; a reply was still queued when it stopped.
    h, _ = await team("ST", start=datetime.now(UTC) - timedelta(days=10))
    await h.say(ST, ANNA, "/propose 7d Wir streichen den Zaun")
    await h.stop()
    database = h.config.storage_path
    with contextlib.closing(sqlite3.connect(database)) as db, db:
        db.execute(
            "INSERT INTO outbox (chat_id, priority, kind, message, budget, created_at)"
            " VALUES (?, 0, 'text', ?, 1, ?)",
            (ST, '{"text": "Noch unterwegs"}', "2026-01-01T00:00:00.000000Z"),
        )
    config = h.config.path
    backup = tmp_path / "nightly.sqlite"
    assert (await wiq_bot("backup", "--config", str(config), str(backup)))[0] == 0
    for suffix in ("", "-wal", "-shm"):  # the disk is lost
        database.with_name(database.name + suffix).unlink(missing_ok=True)

    code, out, err = await wiq_bot("restore", "--config", str(config), str(backup))
    assert code == 0, err
    assert "replaced database" not in out  # there was none
    assert out.splitlines()[-1] == (
        "at the next start: 0 updates fetched before the backup are handled; 1 rounds, votes"
        " and revision windows whose deadline has passed close; 1 queued messages go out"
    )

    # The next start does it: the round closes (nobody answered: Kein Quorum), the queued
    # reply goes out.
    again = Harness(h.model, h.config)
    await again.start()
    try:
        texts = again.bot_texts(ST)
        assert any("Ergebnis Runde 1" in text and "Zu wenige Antworten" in text for text in texts)
        assert "Noch unterwegs" in texts
    finally:
        await again.stop()


async def test_a_restore_refuses_a_file_that_is_unsound_or_from_a_newer_version(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9/bot")
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    code, _, err = await wiq_bot("restore", "--config", str(config), str(junk))
    assert code == 2 and "is not a database this wiq-bot can read" in err
    newer = tmp_path / "newer.sqlite"
    database_at_schema(newer, code_version())
    with contextlib.closing(sqlite3.connect(newer)) as db, db:
        db.execute("INSERT INTO schema_migrations VALUES (999, '999_future.sql', '')")
    code, _, err = await wiq_bot("restore", "--config", str(config), str(newer))
    assert code == 2 and "has schema 999, newer than this wiq-bot" in err
    assert not (tmp_path / "wiq.sqlite").exists()


async def test_the_database_its_wal_and_shm_backups_and_the_lock_are_0600_under_umask_022(
    tmp_path: Path,
) -> None:
    """Without the command's own umask: each file is created so by the code that writes it."""
    with umask(0o022):
        old = tmp_path / "old.sqlite"
        database_at_schema(old, 12)  # as sqlite3 makes them: -rw-r--r--
        assert mode(old) == 0o644
        assert [path.name for path, _ in loose_files(old)] == ["old.sqlite"]
        db = Database(old)
        await db.open()  # migrates, after a backup beside it
        try:
            assert db.migration_backup is not None and mode(db.migration_backup) == 0o600
        finally:
            await db.close()

        fresh = tmp_path / "wiq.sqlite"
        db = Database(fresh)
        await db.open()
        try:
            await db.execute("INSERT INTO networks (name, created_at) VALUES ('x', 'y')")
            copy = tmp_path / "copy.sqlite"
            await db.backup_to(copy)
            for name in ("wiq.sqlite", "wiq.sqlite-wal", "wiq.sqlite-shm", "copy.sqlite"):
                assert mode(tmp_path / name) == 0o600, name
        finally:
            await db.close()
        with DatabaseLock(fresh).hold("test"):
            assert mode(tmp_path / "wiq.sqlite.lock") == 0o600
    assert loose_files(fresh) == []
