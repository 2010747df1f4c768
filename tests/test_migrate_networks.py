"""A database from before several networks (schema 024, issue 14) under today's bot: with the
old `[network]` config it is a one-network deployment with nothing lost, and the messages its
bot left queued (no network on them before 025) go out once and record into that network;
with a `[[networks]]` config that names the old network and a new one, the old network keeps
everything and the new one starts empty."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from bot.clock import ManualClock
from bot.config import load_config
from tests.harness import (
    ANNA,
    DORA,
    PT,
    SECOND_NETWORK,
    ST,
    Harness,
    config_text,
    make_model,
    write_config,
)
from tests.test_ops_migrate import T0, every_table
from tests.test_ops_networks import network_ids, of_network, owners
from tests.test_upgrade_catch_up import left_unposted

# What the bot of schema 024 left besides SCHEMA_012_DATA (the tables added since 012): two
# messages still queued — a plain text to the PT, and the card of #1's round in the ST, whose
# posting records where the card is — one sent, an election's poll, a handled update, the
# heartbeat of its stopped instance. upgrade_catch_up and stuck_chats stay empty: a row in
# either is an episode of its own (a catch-up to run, an alert told), not a record.
SCHEMA_024_DATA = f"""
INSERT INTO outbox (id, chat_id, priority, kind, message, on_posted, budget, status,
                    created_at, sent_at, attempts, message_id) VALUES
 (1, {ST}, 0, 'text', '{{"text": "Schon gesendet"}}', NULL, 1, 'sent',
  '2026-11-01T07:00:00.000000Z', 1793520000.0, 1, 90),
 (2, {PT}, 0, 'text', '{{"text": "Noch unterwegs an das PT"}}', NULL, 1, 'queued',
  '2026-11-02T07:59:00.000000Z', NULL, 0, NULL),
 (3, {ST}, 0, 'text', '{{"text": "Vorschlag #1 · Wir streichen den Zaun"}}',
  '{{"round_id": 1, "type": "CardPosted"}}', 1, 'queued', '2026-11-02T07:59:00.000000Z',
  NULL, 0, NULL);
INSERT INTO election_polls VALUES ('6000000002', 1, {ST}, 107);
INSERT INTO inbox VALUES (500, NULL, '2026-11-01T07:00:00.000000Z', 1,
  '2026-11-01T07:00:01.000000Z');
INSERT INTO heartbeats VALUES ('old-host:4242', 'old-host', 4242, '2026-10-01T08:00:00.000000Z',
  '2026-11-02T07:59:30.000000Z', '2026-11-02T07:59:30.000000Z', '2026-11-02T07:59:45.000000Z');
"""
TRANSIENT = {"upgrade_catch_up", "stuck_chats"}
# What a start may change in rows it finds: the outbox's state of each item, the inbox and
# the heartbeats; rounds (#1's card is recorded), and what the due work at T0 (the Monday
# digest's slot) moves on: proposals and votes (their next moment), digest_deliveries.
CHANGING = {"outbox", "inbox", "heartbeats", "rounds", "proposals", "votes", "digest_deliveries"}


def schema_024_database(tmp_path: Path) -> Path:
    database = tmp_path / "wiq.sqlite"
    left_unposted(database, 24)
    with contextlib.closing(sqlite3.connect(database)) as db, db:
        db.executescript(SCHEMA_024_DATA)
    return database


def assert_nothing_lost(
    before: dict[str, list[tuple[object, ...]]], after: dict[str, list[tuple[object, ...]]]
) -> None:
    """Every row is still there with every value it had (a column added since, such as the
    outbox's network_id, comes after the old ones); the rows a start changes keep their key."""
    for table, rows in before.items():
        width = len(rows[0]) if rows else 0
        kept = [row[:width] for row in after[table]]
        if table in CHANGING:
            assert {row[0] for row in rows} <= {row[0] for row in kept}, table
        else:
            assert kept[: len(rows)] == rows, table


async def start(tmp_path: Path, config: Path) -> Harness:
    h = Harness(make_model(), load_config(config, env={}), clock=ManualClock(T0))
    await h.start()
    return h


async def test_a_schema_024_database_is_one_network_with_nothing_lost_and_its_queue_sent_once(
    tmp_path: Path,
) -> None:
    database = schema_024_database(tmp_path)
    before = every_table(database)
    assert {name for name, rows in before.items() if not rows} == TRANSIENT
    h = await start(tmp_path, write_config(tmp_path, "http://127.0.0.1:9/bot"))
    try:
        assert h.bot_texts(PT).count("Noch unterwegs an das PT") == 1
        assert h.bot_texts(ST).count("Vorschlag #1 · Wir streichen den Zaun") == 1
        assert "Schon gesendet" not in h.bot_texts(ST)
        card = next(m for m in h.model.bot_messages(ST) if "Wir streichen den Zaun" in m.text)
    finally:
        await h.stop()
    after = every_table(database)
    assert_nothing_lost(before, after)
    with contextlib.closing(sqlite3.connect(database)) as db:
        # the queued rows are the old network's, and the card's posting recorded into it
        assert db.execute("SELECT id, network_id FROM outbox WHERE id <= 3").fetchall() == [
            (1, 1),
            (2, 1),
            (3, 1),
        ]
        assert db.execute(
            "SELECT card_chat_id, card_message_id FROM rounds WHERE id = 1"
        ).fetchone() == (ST, card.message_id)
        assert db.execute("SELECT id, name FROM networks").fetchall() == [(1, "WiQ Test")]
        # each proposal, election and Anliegen keeps the number it was shown with (migration 029)
        for table in ("proposals", "elections", "petitions"):
            numbered = db.execute(f"SELECT id, number FROM {table}").fetchall()
            assert numbered and all(number == row_id for row_id, number in numbered), table
    # a later start sends none of them again, and the team works on as it was
    h = await start(tmp_path, write_config(tmp_path, "http://127.0.0.1:9/bot"))
    try:
        assert "Noch unterwegs an das PT" not in h.bot_texts(PT)
        reply = await h.say(ST, DORA, "/members")
        assert reply is not None and "Carl" in (reply.text or "")
    finally:
        await h.stop()


async def test_the_same_database_under_a_config_of_two_networks_keeps_the_old_one_whole(
    tmp_path: Path,
) -> None:
    database = schema_024_database(tmp_path)
    before = every_table(database)
    config = tmp_path / "two.toml"
    config.write_text(config_text(database, networks=SECOND_NETWORK), encoding="utf-8")
    h = await start(tmp_path, config)
    try:
        assert h.bot_texts(PT).count("Noch unterwegs an das PT") == 1
        assert h.bot_texts(ST).count("Vorschlag #1 · Wir streichen den Zaun") == 1
    finally:
        await h.stop()
    assert_nothing_lost(before, every_table(database))
    assert network_ids(database) == {"WiQ Test": 1, "Südwest": 2}
    found = owners(database)
    # every row the old bot left is the old network's (or the deployment's own) …
    old = of_network(found, 1)
    for table, rows in before.items():
        if table not in ("inbox", "heartbeats") and rows:
            assert len(old[table]) >= len(rows), table
    # … and the new network has nothing but its own row
    assert {t: r for t, r in of_network(found, 2).items() if r and t != "networks"} == {}
    with contextlib.closing(sqlite3.connect(database)) as db:
        assert db.execute("SELECT COUNT(*) FROM outbox WHERE network_id IS NOT 1").fetchone() == (
            0,
        )
        assert db.execute("SELECT card_message_id FROM rounds WHERE id = 1").fetchone()[0]
    # the ST is still WiQ Test's, with its roster; a person in it is no member of Südwest
    h = await start(tmp_path, config)
    try:
        reply = await h.say(ST, ANNA, "/members")
        assert reply is not None and "Carl" in (reply.text or "")
    finally:
        await h.stop()
    with contextlib.closing(sqlite3.connect(database)) as db:
        assert db.execute("SELECT COUNT(*) FROM people WHERE network_id = 2").fetchone() == (0,)
