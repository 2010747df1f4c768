"""PostgreSQL as the second backend (SPEC §9): its baseline and the rule for later
migrations, the dialect, the record its triggers write (the same words as SQLite's), and the
operator's commands on it: backup and restore with pg_dump/pg_restore, health, migrate, and
`copy-database` from a SQLite deployment."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from bot.app import CHARTER_TERMS
from bot.config import ConfigError, load_config
from localapi.server import LocalBotApiServer
from storage import Storage
from storage.db import IntegrityError, _migrations, code_version
from storage.dialect import POSTGRES
from storage.heartbeats import Beat, Heartbeats
from storage.lock import DatabaseInUse, PostgresGuard
from storage.teams import KindTaken
from tests.conftest import BOTH_BACKENDS
from tests.harness import (
    ADMIN,
    ANNA,
    BERT,
    PT,
    ROOT,
    Harness,
    Teams,
    config_text,
    finish,
    free_port,
    lines_until,
    make_model,
    peek,
    start_process,
    wiq_bot,
)

NOW = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
BASELINE = 24


# -- the schema and the dialect (no server needed) -----------------------------------------


def test_each_migration_after_the_baseline_comes_in_both_dialects_with_its_number() -> None:
    sqlite = {version for version, _, _ in _migrations("storage.migrations")}
    postgres = {version for version, _, _ in _migrations("storage.migrations_pg")}
    assert min(postgres) == BASELINE  # PostgreSQL starts from the baseline
    assert postgres == {BASELINE} | {v for v in sqlite if v > BASELINE}
    assert max(postgres) == max(sqlite) == code_version()


def test_the_dialect_says_sqlites_words_in_postgresqls() -> None:
    translate = POSTGRES.translate
    assert translate("SELECT * FROM t WHERE a = ? AND b = '?'") == (
        "SELECT * FROM t WHERE a = $1 AND b = '?'"
    )
    assert translate("SELECT ?2, ?1") == "SELECT $2, $1"
    assert translate("INSERT OR IGNORE INTO t (a) VALUES (?) RETURNING id") == (
        "INSERT INTO t (a) VALUES ($1) ON CONFLICT DO NOTHING RETURNING id"
    )
    assert translate("SELECT 1 WHERE a IS NOT ? AND b IS NOT NULL") == (
        "SELECT 1 WHERE a IS DISTINCT FROM $1 AND b IS NOT NULL"
    )
    assert "jsonb_array_elements_text(($1)::jsonb)" in translate(
        "SELECT 1 WHERE c IN (SELECT value FROM json_each(?))"
    )
    assert translate("SELECT json_extract(data, '$.to') FROM events") == (
        "SELECT ((data)::jsonb ->> 'to') FROM events"
    )
    assert translate("SELECT x FROM rounds r INDEXED BY rounds_remind") == "SELECT x FROM rounds r"


def test_the_modules_on_both_backends_exist() -> None:
    for name in BOTH_BACKENDS:
        assert (ROOT / "tests" / f"{name}.py").is_file(), name


def test_storage_is_a_file_or_a_postgresql_url_never_both(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    text = config_text(tmp_path / "wiq.sqlite")

    def load(storage: str) -> object:
        start = text.index("[storage]")
        end = text.index("\n", text.index("\n", start) + 1)
        path.write_text(text[:start] + storage + text[end:], encoding="utf-8")
        return load_config(path, env={})

    config: Any = load('[storage]\nurl = "postgresql://wiq@db.example/wiq"')
    assert config.storage_url == "postgresql://wiq@db.example/wiq"
    assert config.storage_path is None
    with pytest.raises(ConfigError, match="not both"):
        load(f'[storage]\npath = "{tmp_path}/x.sqlite"\nurl = "postgresql://wiq@db/wiq"')
    with pytest.raises(ConfigError, match="postgresql:// URL"):
        load('[storage]\nurl = "mysql://wiq@db/wiq"')


# -- the record and its guards, on both backends -------------------------------------------


@pytest.mark.both_backends
async def test_a_response_and_its_change_are_written_to_the_record_in_the_same_words(
    database: Path | str,
) -> None:
    storage = await Storage.open(database, "WiQ", NOW, CHARTER_TERMS)
    try:
        team = await storage.teams.bind("PT", "PT", -5, "supergroup", "explicit", None, NOW)
        with pytest.raises(KindTaken):  # one PT per network: the partial unique index
            await storage.teams.bind("PT", "PT 2", -6, "supergroup", "explicit", None, NOW)
        anna = await storage.people.seen(10, "Anna", None, "anna", "de", NOW)
        assert await storage.people.by_username("ANNA") == anna  # COLLATE NOCASE
        await storage.rosters.admit(team.id, anna.id, "admitted", NOW)
        db = storage.db
        proposal = await db.execute(
            "INSERT INTO proposals (network_id, team_id, kind, title, text, policy, status,"
            " round_length_s, created_at) VALUES (?, ?, 'decision', 't', 't', '{}', 'open',"
            " 60, ?)",
            (storage.network_id, team.id, "2026-11-02T08:00:00.000000Z"),
        )
        assert proposal == 1  # its number, as lastrowid says it on both
        round_id = await db.execute(
            "INSERT INTO rounds (proposal_id, number, text, opened_at, deadline)"
            " VALUES (?, 1, 't', ?, ?)",
            (proposal, "2026-11-02T08:00:00.000000Z", "2026-11-03T08:00:00.000000Z"),
        )
        await db.execute(
            "INSERT INTO round_electorate (round_id, person_id, joined_at) VALUES (?, ?, ?)",
            (round_id, anna.id, "2026-11-02T08:00:00.000000Z"),
        )
        assert await storage.rounds.record_response(round_id, anna.id, "object", 7, NOW)
        assert not await storage.rounds.record_response(round_id, anna.id, "agree", 6, NOW)
        assert await storage.rounds.record_response(round_id, anna.id, "agree", 8, NOW)
        rows = await db.fetchall(
            "SELECT data FROM events WHERE kind = 'round.response' ORDER BY id"
        )
        assert [row[0] for row in rows] == [
            '{"choice":"object","round":1}',
            '{"choice":"agree","round":1}',
        ]
        with pytest.raises(IntegrityError, match="append-only"):
            await db.execute("UPDATE events SET kind = 'x'")
    finally:
        await storage.close()


# -- the operator's commands on PostgreSQL -------------------------------------------------


def found(directory: Path, pattern: str) -> list[Path]:
    return sorted(directory.glob(pattern))


def pg_config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "pg.toml"
    text = config_text(tmp_path / "unused.sqlite")
    start = text.index("[storage]")
    end = text.index("\n", text.index("\n", start) + 1)
    path.write_text(text[:start] + f'[storage]\nurl = "{url}"' + text[end:], encoding="utf-8")
    return path


@pytest.mark.postgres_only
async def test_backup_and_restore_on_postgresql_use_its_own_tools(
    tmp_path: Path, pg_url: str
) -> None:
    config = pg_config(tmp_path, pg_url)
    code, out, err = await wiq_bot("migrate", "--config", str(config))
    assert code == 0, err
    code, out, err = await wiq_bot("health", "--config", str(config))
    assert code == 1 and "no heartbeat" in out
    code, out, _ = await wiq_bot("migrate", "--check", "--config", str(config))
    assert code == 0 and f"schema {code_version():03d} is current" in out

    storage = await Storage.open(pg_url, "WiQ Test", NOW, CHARTER_TERMS)
    await storage.teams.bind("PT", "Projektteam", -5, "supergroup", "explicit", None, NOW)
    now = datetime.now(UTC)
    await Heartbeats(storage.db).beat(Beat("h:1", "h", 1, now, now, now, None))
    await storage.close()
    code, out, err = await wiq_bot("health", "--config", str(config))
    assert code == 0 and out.startswith(f"ok: schema {code_version():03d}"), out + err
    code, out, err = await wiq_bot("backup", "--config", str(config), str(tmp_path))
    assert code == 0, err
    assert "1 teams" in out
    (archive,) = found(tmp_path, "*.pgdump")
    assert archive.stat().st_mode & 0o077 == 0  # the owner's alone
    head = archive.read_bytes()[:5]
    assert head == b"PGDMP"  # pg_dump's custom format

    # A bot runs (its heartbeat is fresh): no restore under it.
    code, _, err = await wiq_bot("restore", "--config", str(config), str(archive))
    assert code == 2 and "pid 1 on h" in err and "stop the bot first" in err
    with peek(pg_url) as db:  # the bot stops
        db.execute("UPDATE heartbeats SET stopped_at = beat_at")

    # Later the team is renamed; the restore brings back the state of the backup.
    with peek(pg_url) as db:
        db.execute("UPDATE teams SET name = 'Umbenannt'")
    code, out, err = await wiq_bot("restore", "--config", str(config), str(archive))
    assert code == 0, err
    assert "the replaced database is kept as" in out
    with peek(pg_url) as db:
        assert db.execute("SELECT name FROM teams").fetchall() == [("Projektteam",)]
        # Its triggers came back with it: the record stays append-only.
        with pytest.raises(Exception, match="append-only"):
            db.execute("DELETE FROM events")
    (kept,) = found(tmp_path, "*.replaced-*.pgdump")
    code, out, err = await wiq_bot("restore", "--config", str(config), str(kept))
    assert code == 0, err
    assert len(found(tmp_path, "*.replaced-*.pgdump")) == 2  # the first one kept as it was
    with peek(pg_url) as db:
        assert db.execute("SELECT name FROM teams").fetchall() == [("Umbenannt",)]

    # A database of a newer schema is refused, and left as it is.
    with peek(pg_url) as db:
        db.execute("INSERT INTO schema_migrations VALUES (999, '999_future.sql', 'x')")
    code, _, err = await wiq_bot("migrate", "--check", "--config", str(config))
    assert code == 2 and "newer" in err
    with peek(pg_url) as db:
        db.execute("DELETE FROM schema_migrations WHERE version = 999")

    not_a_dump = tmp_path / "notes.txt"
    not_a_dump.write_text("hello", encoding="utf-8")
    code, _, err = await wiq_bot("restore", "--config", str(config), str(not_a_dump))
    assert code == 2 and "not a pg_dump archive" in err


@pytest.mark.postgres_only
async def test_a_sqlite_deployment_moves_to_postgresql_with_every_row(
    tmp_path: Path, pg_url: str, team: Teams
) -> None:
    h, d = await team("PT", (ANNA, BERT))
    await h.say(PT, ANNA, "/propose 1d Neue Bänke")
    await d.press(PT, 1, BERT, "agree")
    await d.press(PT, 1, ANNA, "object")
    await team.stop()
    sqlite_config = h.config.path
    with peek(h.config) as db:
        events = db.execute("SELECT kind, data FROM events ORDER BY id").fetchall()

    code, out, err = await wiq_bot("copy-database", "--config", str(sqlite_config), "--to", pg_url)
    assert code == 0, err
    assert "every table's row count matches" in out
    with peek(pg_url) as db:
        # The record as it was: no trigger wrote a second entry while the rows came over.
        assert [tuple(row) for row in db.execute("SELECT kind, data FROM events ORDER BY id")] == [
            tuple(row) for row in events
        ]
    # A second copy into it is refused: the target is not empty.
    code, _, err = await wiq_bot("copy-database", "--config", str(sqlite_config), "--to", pg_url)
    assert code == 2 and "not empty" in err

    # The bot on PostgreSQL goes on where the file left off.
    moved = load_config(pg_config(tmp_path, pg_url), env={})
    again = Harness(make_model(), moved)
    await again.start()
    try:
        assert await again.roster(PT, asker=ANNA) == ["Anna", "Bert"]
        await again.say(PT, ANNA, "/propose 1d Noch ein Vorschlag")
        assert "#2" in again.last_text(PT)  # numbered on from the copied proposals
    finally:
        await again.stop()


# -- the PostgreSQL half of the suite -------------------------------------------------------


# One storage test: a run that has a PostgreSQL half to leave out or to fail.
TINY_RUN = ("tests/test_storage.py", "-k", "renamed_network")


def _pytest(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *TINY_RUN],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_postgresql_that_cannot_be_reached_is_a_failure_with_ci_and_one_line_without() -> None:
    nowhere = "postgresql://nobody@/wiq_none?host=/nonexistent"
    failed = _pytest({"WIQ_TEST_POSTGRES_URL": nowhere, "CI": "true"})
    assert failed.returncode != 0
    assert "CI=true" in failed.stdout + failed.stderr
    quiet = _pytest({"WIQ_TEST_POSTGRES_URL": nowhere, "CI": ""})
    assert quiet.returncode == 0
    lines = [line for line in quiet.stdout.splitlines() if "PostgreSQL half skipped" in line]
    assert len(lines) == 1 and "cannot be used" in lines[0]
    assert "skipped" not in quiet.stdout.replace(lines[0], "")  # one line, no skips


@pytest.mark.postgres_only
async def test_one_bot_per_postgresql_database_the_guard_is_a_session_advisory_lock(
    tmp_path: Path, pg_url: str
) -> None:
    first = PostgresGuard(pg_url)
    await first.acquire("pid 1 on here")
    second = PostgresGuard(pg_url)
    with pytest.raises(DatabaseInUse) as refused:
        await second.acquire("pid 2 on here")
    assert "pid 1 on here" in str(refused.value)
    # `wiq-bot run` meets it too: refused with one line and exit 2, before Telegram is asked
    config = pg_config(tmp_path, pg_url)
    code, out, err = await wiq_bot("run", "--config", str(config))
    assert code == 2 and "reason=database_in_use" in out + err and "pid 1 on here" in out + err
    await first.release()  # the session ends (as with a kill -9): the lock goes with it
    await second.acquire("pid 2 on here")
    await second.release()


@pytest.mark.postgres_only
async def test_several_workers_hold_the_postgresql_guard_together_and_a_poller_alone(
    tmp_path: Path, pg_url: str
) -> None:
    """Webhook workers hold the advisory lock shared (as the flock on SQLite); a bot that
    polls holds it exclusively: while any worker runs it is refused, and the other way
    round. `alone` tells a worker whether others run (then it does not migrate)."""
    first = PostgresGuard(pg_url, shared=True)
    await first.acquire("pid 1 on here")
    assert await first.alone()
    second = PostgresGuard(pg_url, shared=True)
    await second.acquire("pid 2 on here")
    assert not await first.alone() and not await second.alone()
    poller = PostgresGuard(pg_url)
    with pytest.raises(DatabaseInUse) as refused:
        await poller.acquire("pid 3 on here")
    assert "one of several workers" in str(refused.value)
    code, out, err = await wiq_bot("migrate", "--config", str(pg_config(tmp_path, pg_url)))
    assert code == 2 and "stop the bot first" in out + err, out + err
    await first.release()
    await second.release()
    await poller.acquire("pid 3 on here")
    with pytest.raises(DatabaseInUse):
        await PostgresGuard(pg_url, shared=True).acquire("pid 4 on here")
    await poller.release()


@pytest.mark.postgres_only
async def test_writers_on_postgresql_take_turns_as_sqlites_do(pg_url: str) -> None:
    """Two workers' connections: a unit (BEGIN IMMEDIATE) takes the write lock, so another
    unit, or a write outside one, waits for its COMMIT and then sees what it wrote. Without
    it, the second would number its row as the first did (next_id is MAX(id) + 1) and fail,
    and two last presses would each miss the other's."""
    from storage.postgres import PostgresConnection

    one = await PostgresConnection.connect(pg_url)
    two = await PostgresConnection.connect(pg_url)
    try:
        for conn in (one, two):
            await conn.load_schema()
        insert = "INSERT INTO networks (name, created_at) VALUES (?, '2026-12-02')"
        await one.execute("BEGIN IMMEDIATE")
        first = await one.execute(insert, ("Erstes Quartier",))
        outside = asyncio.ensure_future(two.execute(insert, ("Zweites Quartier",)))

        async def counted() -> int:
            await two.execute("BEGIN IMMEDIATE")
            rows = await two.execute_fetchall("SELECT COUNT(*) FROM networks")
            await two.execute("COMMIT")
            return int(rows[0][0])

        await asyncio.sleep(0.2)
        assert not outside.done(), "a write outside a unit waits for the unit's COMMIT"
        await one.execute("COMMIT")
        second = await outside
        assert second.lastrowid == (first.lastrowid or 0) + 1
        await one.execute("BEGIN IMMEDIATE")
        unit = asyncio.ensure_future(counted())
        await asyncio.sleep(0.2)
        assert not unit.done(), "another unit waits too"
        await one.execute(insert, ("Drittes Quartier",))
        await one.execute("COMMIT")
        assert await unit == 3, "and sees what the first committed"
    finally:
        await one.close()
        await two.close()


class Forwarder:
    """A TCP port in front of the PostgreSQL server's socket: the bot's way to the server,
    which the test opens late (a server that starts after the bot) and cuts (a server that
    restarts: every session ends)."""

    def __init__(self, socket_path: str) -> None:
        self.socket_path = socket_path
        self.port = free_port()
        self.url_host = f"127.0.0.1:{self.port}"
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def open(self) -> None:
        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            writer.close()

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            server_reader, server_writer = await asyncio.open_unix_connection(self.socket_path)
            self._writers |= {writer, server_writer}
            await asyncio.gather(pipe(reader, server_writer), pipe(server_reader, writer))

        self._server = await asyncio.start_server(serve, "127.0.0.1", self.port)

    def cut(self) -> None:
        for writer in self._writers:
            writer.transport.abort()
        self._writers.clear()

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()


@pytest.mark.postgres_only
async def test_a_bot_waits_for_postgresql_and_ends_itself_when_the_server_goes_away(
    tmp_path: Path, pg_url: str
) -> None:
    """At boot the server may come after the bot: the start waits, one line per attempt.
    A server that restarts ends every session: the bot ends itself (exit 1, one line), as a
    kill -9 would — systemd starts it again — and loses nothing: the message sent meanwhile
    is answered once by the next start."""
    parts = urlsplit(pg_url)
    socket_dir = dict(parse_qsl(parts.query)).get("host", "/var/run/postgresql")
    forwarder = Forwarder(f"{socket_dir}/.s.PGSQL.{parts.port or 5432}")
    url = f"postgresql://{getpass.getuser()}@{forwarder.url_host}{parts.path}"
    model = make_model()
    async with LocalBotApiServer(model) as server:
        config = pg_config(tmp_path, url)
        text = config.read_text(encoding="utf-8").replace("http://127.0.0.1:9/bot", server.base_url)
        config.write_text(text + "[limits]\nretry_base = 0.2\nretry_max = 0.5\n", encoding="utf-8")
        process = await start_process(config)
        try:
            waited = await lines_until(process, "event=database_unreachable", count=2, within=20)
            assert "attempt=2" in waited[-1] and "retry_in=0.4s" in waited[-1], waited[-1]
            await forwarder.open()
            sent = model.send_message(PT, ADMIN, "/setup PT Projektteam")
            reply = await model.wait_for_message(PT, "✅", after=sent["message_id"], timeout=30)
            assert "Projektteam" in (reply.text or "")
            forwarder.cut()  # the server restarts
            assert await asyncio.wait_for(process.wait(), 15) == 1
            output = await finish(process)
            assert "event=database_lost" in output and "Traceback" not in output, output
            asked = model.send_message(PT, ADMIN, "/team")
            again = await start_process(config)
            try:
                answer = await model.wait_for_message(
                    PT, "Projektteam", after=asked["message_id"], timeout=30
                )
                assert "Mitglieder" in (answer.text or "")
            finally:
                again.send_signal(signal.SIGTERM)
                assert "Traceback" not in await finish(again)
                assert again.returncode == 0
            answers = [m for m in model.bot_messages(PT) if m.message_id > asked["message_id"]]
            assert len(answers) == 1, [m.text for m in answers]
        finally:
            if process.returncode is None:
                process.kill()
            await forwarder.close()
    # A server that answers and refuses (here: no such database) is not waited for.
    missing = parts._replace(path="/wiq_no_such_database").geturl()
    config.write_text(text.replace(url, missing), encoding="utf-8")
    code, out, err = await wiq_bot("run", "--config", str(config))
    assert code == 2 and "reason=database_unusable" in out + err, out + err
    assert "database_unreachable" not in out + err and "Traceback" not in out + err
