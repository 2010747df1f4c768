"""The one-time catch-up of a database from before the outbox (SPEC §9, bot/flows/upgrade.py):
what a wiq-bot of schema < 018 had committed but not posted goes out at the first start after
the migrations crossed 018, once — never again at a later start, and never for a database
that was at 018 or later already (its outbox holds what it had not posted)."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from bot.clock import ManualClock
from bot.config import load_config
from tests.harness import PT, ROOT, ST, Harness, database_at_schema, make_model, write_config
from tests.test_ops_migrate import SCHEMA_012_DATA, T0


def card(text: str) -> bool:
    return "Vorschlag #1" in text and "Wir streichen den Zaun" in text


def result(text: str) -> bool:
    return "Ergebnis Runde 1" in text and "Sommerfest" in text


def digest(text: str) -> bool:
    return text.startswith("📅")


def left_unposted(database: Path, upto: int) -> None:
    """SCHEMA_012_DATA's database (three things unposted), then migrated by hand to `upto`
    as a wiq-bot of that schema would have done it (no catch-up noted)."""
    database_at_schema(database, 12)
    with contextlib.closing(sqlite3.connect(database)) as db, db:
        db.executescript(SCHEMA_012_DATA)
    files = sorted((ROOT / "storage" / "migrations").glob("*.sql"))
    with contextlib.closing(sqlite3.connect(database)) as db:
        for file in files:
            version = int(file.name.split("_", 1)[0])
            if 12 < version <= upto:
                db.executescript("BEGIN;\n" + file.read_text(encoding="utf-8") + "\nCOMMIT;")
                db.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, '2026-01-01T00:00:00.000000Z')",
                    (version, file.name),
                )
                db.commit()


async def test_what_schema_012_left_unposted_goes_out_once_and_not_again(tmp_path: Path) -> None:
    database = tmp_path / "wiq.sqlite"
    left_unposted(database, 12)
    config = load_config(write_config(tmp_path, "http://127.0.0.1:9/bot"), env={})
    model = make_model()
    h = Harness(model, config, clock=ManualClock(T0))
    await h.start()  # migrates, then catches up
    try:
        st, pt = h.bot_texts(ST), h.bot_texts(PT)
        assert [card(text) for text in st].count(True) == 1
        assert [result(text) for text in pt].count(True) == 1
        assert [digest(text) for text in st].count(True) == 1
    finally:
        await h.stop()
    with contextlib.closing(sqlite3.connect(database)) as db:
        assert db.execute("SELECT COUNT(*) FROM upgrade_catch_up").fetchone() == (0,)

    posted = len(model.bot_messages(ST)) + len(model.bot_messages(PT))
    again = Harness(model, config, clock=ManualClock(T0))
    await again.start()  # nothing to migrate, nothing to catch up
    try:
        assert len(model.bot_messages(ST)) + len(model.bot_messages(PT)) == posted
        assert [card(text) for text in again.bot_texts(ST)].count(True) == 1
    finally:
        await again.stop()


async def test_a_database_already_past_the_outbox_is_never_caught_up(tmp_path: Path) -> None:
    """The same state at schema 022 is what its outbox said had gone out (or failed): the
    start posts none of it again."""
    database = tmp_path / "wiq.sqlite"
    left_unposted(database, 22)
    config = load_config(write_config(tmp_path, "http://127.0.0.1:9/bot"), env={})
    model = make_model()
    h = Harness(model, config, clock=ManualClock(T0))
    await h.start()
    try:
        assert not any(card(text) for text in h.bot_texts(ST))
        assert not any(result(text) for text in h.bot_texts(PT))
        assert not any(digest(text) for text in h.bot_texts(ST))
    finally:
        await h.stop()


async def test_a_petition_a_schema_017_bot_had_not_posted_goes_to_the_pt_once(
    tmp_path: Path,
) -> None:
    """Schema 013–017 knew Anliegen: one whose sender had chosen (anonymous) but whose post was
    still in that bot's memory when it stopped is posted at the first start after the upgrade."""
    database = tmp_path / "wiq.sqlite"
    left_unposted(database, 17)
    with contextlib.closing(sqlite3.connect(database)) as db, db:
        db.execute(
            "INSERT INTO petitions VALUES (2, 1, 3, 'Mehr Licht am Spielplatz', 1, 'posting', 1,"
            " '2026-11-01T08:00:00.000000Z', NULL)"
        )
    config = load_config(write_config(tmp_path, "http://127.0.0.1:9/bot"), env={})
    model = make_model()
    h = Harness(model, config, clock=ManualClock(T0))
    await h.start()
    try:
        [post] = [text for text in h.bot_texts(PT) if "Anliegen #2" in text]
        assert "(anonym)" in post and "Mehr Licht am Spielplatz" in post
        assert "Bert" not in post
    finally:
        await h.stop()
    with contextlib.closing(sqlite3.connect(database)) as db:
        assert db.execute("SELECT status FROM petitions WHERE id = 2").fetchone() == ("posted",)


async def test_a_schema_018_database_with_messages_still_queued_migrates_and_sends_them_once(
    tmp_path: Path,
) -> None:
    """A database of the schema right after the durability work (018: the outbox table), with
    every table of schema 012 filled and two messages still queued in its outbox when that bot
    stopped: migrated forward, every row is still there, and each queued message goes out once
    — from the outbox it was in, not from a catch-up."""
    database = tmp_path / "wiq.sqlite"
    left_unposted(database, 18)
    with contextlib.closing(sqlite3.connect(database)) as db, db:
        for chat, text in ((ST, "Noch unterwegs an das ST"), (PT, "Noch unterwegs an das PT")):
            db.execute(
                "INSERT INTO outbox (chat_id, priority, kind, message, budget, created_at)"
                " VALUES (?, 0, 'text', ?, 1, '2026-11-01T08:00:00.000000Z')",
                (chat, f'{{"text": "{text}"}}'),
            )
    with contextlib.closing(sqlite3.connect(database)) as db:
        tables = [
            name
            for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not name.startswith("sqlite_")
        ]
        before = {name: db.execute(f"SELECT COUNT(*) FROM {name}").fetchone()[0] for name in tables}
    config = load_config(write_config(tmp_path, "http://127.0.0.1:9/bot"), env={})
    model = make_model()
    h = Harness(model, config, clock=ManualClock(T0))
    await h.start()
    try:
        assert h.bot_texts(ST).count("Noch unterwegs an das ST") == 1
        assert h.bot_texts(PT).count("Noch unterwegs an das PT") == 1
        # Nothing a catch-up would re-derive: the outbox said what had gone out.
        assert not any(card(text) for text in h.bot_texts(ST))
    finally:
        await h.stop()
    with contextlib.closing(sqlite3.connect(database)) as db:
        for name, count in before.items():
            if name not in ("outbox", "schema_migrations", "inbox", "heartbeats"):
                now = db.execute(f"SELECT COUNT(*) FROM {name}").fetchone()[0]
                assert now >= count, f"{name}: {count} rows before the upgrade, {now} after"
        assert db.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0] >= 24
