"""Upgrades (SPEC §9): `wiq-bot --version`, `migrate --check`, `migrate`; a database written by
schema 012 (every table filled, messages not yet posted) is migrated forward with nothing lost
and nothing left unposted; a database of a newer version is refused, never half-migrated."""

from __future__ import annotations

import contextlib
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from bot.clock import ManualClock
from bot.config import load_config
from bot.ops.database import package_version
from localapi.server import LocalBotApiServer
from storage.db import code_version
from tests.harness import (
    PT,
    ROOT,
    ST,
    Harness,
    database_at_schema,
    finish,
    make_model,
    start_process,
    wiq_bot,
    write_config,
)

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)  # a Monday, 09:00 in Berlin: the digest's slot
POLICY = (
    '{"acceptance_window": "1w", "consensus_deadline": "1w", "majority_deadline": "3d",'
    ' "max_consensus_rounds": 2, "min_deadline": "1h", "process": "consensus_then_majority",'
    ' "quorum": 0.5, "reminder_before": "1d", "revision_window": "2d", "show_tally": "live",'
    ' "silence": "no_quorum"}'
)

# What a wiq-bot of schema 012 left: every table has rows; three things wait to be posted —
# the card of #1's round (committed, the stop came before the send), the result of #3's round
# (closed, not announced), and the ST's weekly digest (claimed, not sent).
SCHEMA_012_DATA = f"""
INSERT INTO networks VALUES (1, 'WiQ Test', '2026-10-01T08:00:00.000000Z');
INSERT INTO people VALUES
 (1, 1, 1, 'Ada', NULL, 'ada_admin', 'de', 'Person-000001', 1, '2026-10-01T08:00:00.000000Z',
  '2026-10-01T08:00:00.000000Z', NULL),
 (2, 1, 10, 'Anna', NULL, 'anna', 'de', 'Person-000002', 1, '2026-10-01T08:00:00.000000Z',
  '2026-10-01T08:00:00.000000Z', NULL),
 (3, 1, 11, 'Bert', NULL, 'bert', 'de', 'Person-000003', 0, '2026-10-01T08:00:00.000000Z',
  '2026-10-01T08:00:00.000000Z', NULL),
 (4, 1, 12, 'Carl', NULL, NULL, 'de', 'Person-000004', 0, '2026-10-01T08:00:00.000000Z',
  '2026-10-01T08:00:00.000000Z', NULL),
 (5, 1, 13, 'Dora', NULL, 'dora', 'en', 'Person-000005', 1, '2026-10-01T08:00:00.000000Z',
  '2026-10-01T08:00:00.000000Z', NULL),
 (6, 1, NULL, NULL, NULL, NULL, NULL, 'Person-000006', 0, '2026-10-01T08:00:00.000000Z',
  '2026-10-01T08:00:00.000000Z', '2026-10-20T08:00:00.000000Z');
INSERT INTO teams VALUES
 (1, 1, 'PT', 'Projektteam', {PT}, 'supergroup', 'explicit', '{{}}', 1, 1,
  '2026-10-01T08:00:00.000000Z', '2026-10-10T08:00:00.000000Z'),
 (2, 1, 'ST', 'Steuerungsteam', {ST}, 'supergroup', 'explicit', '{{}}', 1, 1,
  '2026-10-01T08:00:00.000000Z', NULL);
INSERT INTO roster_entries VALUES
 (1, 1, 1, 2, '2026-10-01T08:00:00.000000Z', 'admitted', 1, NULL, NULL, NULL, NULL, NULL, NULL),
 (2, 1, 1, 3, '2026-10-01T08:00:00.000000Z', 'admitted', 1, NULL, NULL, NULL, NULL, NULL, NULL),
 (3, 1, 1, 6, '2026-10-01T08:00:00.000000Z', 'admitted', 1, NULL, NULL,
  '2026-10-20T08:00:00.000000Z', 'left', NULL, NULL),
 (4, 1, 2, 2, '2026-10-01T08:00:00.000000Z', 'admitted', 1, 'zivilgesellschaft', NULL, NULL,
  NULL, NULL, NULL),
 (5, 1, 2, 4, '2026-10-01T08:00:00.000000Z', 'admitted', 1, 'zivilgesellschaft', NULL, NULL,
  NULL, NULL, NULL),
 (6, 1, 2, 5, '2026-10-01T08:00:00.000000Z', 'admitted', 1, 'zivilgesellschaft', NULL, NULL,
  NULL, NULL, NULL);
INSERT INTO events (network_id, team_id, at, actor_id, kind, subject_id, data) VALUES
 (1, 1, '2026-10-01T08:00:00.000000Z', 1, 'team.bound', NULL, '{{"kind": "PT"}}'),
 (1, 2, '2026-10-01T08:00:00.000000Z', 1, 'team.bound', NULL, '{{"kind": "ST"}}'),
 (1, 1, '2026-10-01T08:00:00.000000Z', 1, 'roster.joined', 2, '{{"how": "admitted"}}');
INSERT INTO proposals VALUES
 (1, 1, 2, 'proposal', 4, NULL, 'Wir streichen den Zaun', 'Wir streichen den Zaun', '{POLICY}',
  'round_open', 604800, 1, 0, 0, NULL, NULL, '2026-11-02T07:00:00.000000Z', NULL, NULL, NULL,
  '{{}}', NULL),
 (2, 1, 2, 'proposal', 5, NULL, 'Wir kaufen ein Lastenrad', 'Wir kaufen ein Lastenrad',
  '{POLICY}', 'vote_open', 86400, 2, 2, 1, NULL, NULL, '2026-10-27T08:00:00.000000Z', NULL, NULL,
  NULL, '{{}}', NULL),
 (3, 1, 1, 'proposal', 2, NULL, 'Wir feiern ein Sommerfest', 'Wir feiern ein Sommerfest',
  '{POLICY}', 'awaiting_revision', 604800, 1, 1, 1, '2026-11-04T06:00:00.000000Z', NULL,
  '2026-10-26T06:00:00.000000Z', NULL, NULL, NULL, '{{}}', NULL),
 (4, 1, 1, 'proposal', 2, NULL, 'Wir drucken Flyer', 'Wir drucken Flyer', '{POLICY}', 'closed',
  604800, 1, 0, 0, NULL, 'consensus', '2026-10-03T08:00:00.000000Z',
  '2026-10-10T08:00:00.000000Z', NULL, NULL, '{{}}', '2026-10-10T08:00:00.000000Z');
INSERT INTO rounds VALUES
 (1, 1, 1, 'Wir streichen den Zaun', '2026-11-02T07:00:00.000000Z',
  '2026-11-09T07:00:00.000000Z', NULL, NULL, NULL, NULL, NULL, NULL),
 (2, 2, 1, 'Wir kaufen ein Lastenrad', '2026-10-27T08:00:00.000000Z',
  '2026-10-28T08:00:00.000000Z', '2026-10-28T08:00:00.000000Z', 'objections', {ST}, 101, NULL,
  '2026-10-28T08:00:00.000000Z'),
 (3, 2, 2, 'Wir kaufen ein Lastenrad', '2026-10-30T08:00:00.000000Z',
  '2026-10-31T08:00:00.000000Z', '2026-10-31T08:00:00.000000Z', 'objections', {ST}, 102, NULL,
  '2026-10-31T08:00:00.000000Z'),
 (4, 3, 1, 'Wir feiern ein Sommerfest', '2026-10-26T06:00:00.000000Z',
  '2026-11-02T06:00:00.000000Z', '2026-11-02T06:00:00.000000Z', 'objections', {PT}, 103, NULL,
  NULL),
 (5, 4, 1, 'Wir drucken Flyer', '2026-10-03T08:00:00.000000Z', '2026-10-10T08:00:00.000000Z',
  '2026-10-10T08:00:00.000000Z', 'consensus', {PT}, 100, NULL, '2026-10-10T08:00:00.000000Z');
INSERT INTO round_electorate VALUES
 (1, 2, '2026-11-02T07:00:00.000000Z', NULL), (1, 4, '2026-11-02T07:00:00.000000Z', NULL),
 (1, 5, '2026-11-02T07:00:00.000000Z', NULL), (2, 2, '2026-10-27T08:00:00.000000Z', NULL),
 (2, 4, '2026-10-27T08:00:00.000000Z', NULL), (2, 5, '2026-10-27T08:00:00.000000Z', NULL),
 (3, 2, '2026-10-30T08:00:00.000000Z', NULL), (3, 4, '2026-10-30T08:00:00.000000Z', NULL),
 (3, 5, '2026-10-30T08:00:00.000000Z', NULL), (4, 2, '2026-10-26T06:00:00.000000Z', NULL),
 (4, 3, '2026-10-26T06:00:00.000000Z', NULL), (5, 2, '2026-10-03T08:00:00.000000Z', NULL),
 (5, 3, '2026-10-03T08:00:00.000000Z', NULL);
INSERT INTO carried_objections VALUES (3, 4, 'Zu teuer', 1);
INSERT INTO responses VALUES
 (1, 5, 'concern', NULL, 1, '2026-11-02T07:30:00.000000Z'),
 (2, 4, 'object', 'Zu teuer', 2, '2026-10-27T09:00:00.000000Z'),
 (2, 2, 'agree', NULL, 3, '2026-10-27T09:00:00.000000Z'),
 (3, 4, 'object', 'Zu teuer', 4, '2026-10-30T09:00:00.000000Z'),
 (3, 5, 'agree', NULL, 5, '2026-10-30T09:00:00.000000Z'),
 (4, 3, 'object', 'Zu früh im Jahr', 6, '2026-10-27T09:00:00.000000Z'),
 (4, 2, 'agree', NULL, 7, '2026-10-27T09:00:00.000000Z'),
 (5, 2, 'agree', NULL, 8, '2026-10-04T09:00:00.000000Z'),
 (5, 3, 'agree', NULL, 9, '2026-10-04T09:00:00.000000Z');
INSERT INTO reason_requests VALUES (5, 1, '2026-11-02T07:30:00.000000Z');
INSERT INTO votes VALUES
 (1, 2, '2026-11-01T08:00:00.000000Z', '2026-11-04T08:00:00.000000Z', NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL);
INSERT INTO vote_polls VALUES ('5000000001', 1, {ST}, 104, 1);
INSERT INTO vote_electorate VALUES
 (1, 2, '2026-11-01T08:00:00.000000Z', NULL), (1, 4, '2026-11-01T08:00:00.000000Z', NULL),
 (1, 5, '2026-11-01T08:00:00.000000Z', NULL);
INSERT INTO ballots VALUES
 (1, 2, 'yes', 10, '2026-11-01T09:00:00.000000Z'), (1, 4, 'no', 11, '2026-11-01T09:00:00.000000Z');
INSERT INTO invitations VALUES
 (1, 1, 1, 3, 'https://t.me/+invitation', '2026-10-01T08:00:00.000000Z',
  '2026-10-01T08:00:00.000000Z', '2026-10-01T09:00:00.000000Z');
INSERT INTO nominations VALUES
 (1, 1, 'UT', 5, NULL, 'nomination-token-1', 2, NULL, NULL, NULL, NULL, NULL, NULL, 'rejected',
  '2026-10-05T08:00:00.000000Z', '2026-10-06T08:00:00.000000Z');
INSERT INTO delegations VALUES
 (1, 1, 4, NULL, 'politik', 'Stadtbezirksbeirat', 'delegation-token-1', 1, 'declined',
  '2026-10-05T08:00:00.000000Z', '2026-10-06T08:00:00.000000Z');
INSERT INTO elections VALUES
 (1, 1, 2, 1, 4, 'closed', '2026-10-07T08:00:00.000000Z', NULL, '2026-10-09T08:00:00.000000Z',
  '6000000001', {ST}, 105, '{{"elected": [2], "tied": [], "votes": {{"2": 2}}}}',
  '2026-10-06T08:00:00.000000Z', '2026-10-09T08:00:00.000000Z', '2026-10-09T08:00:00.000000Z',
  NULL);
INSERT INTO election_candidates VALUES (1, 0, 2, NULL, 'election-token-1', 'standing', 0);
INSERT INTO election_electorate VALUES (1, 2), (1, 4), (1, 5);
INSERT INTO election_ballots VALUES
 (1, 4, '[0]', 12, '2026-10-08T08:00:00.000000Z'), (1, 5, '[0]', 13, '2026-10-08T08:00:00.000000Z');
INSERT INTO digest_slots VALUES (1, '2026-11-02T08:00:00.000000Z', '2026-11-02T08:00:00.000000Z');
INSERT INTO digest_deliveries VALUES
 (1, '2026-11-02T08:00:00.000000Z', 'network', {PT}, NULL, '2026-11-02T08:00:00.000000Z',
  '2026-11-02T08:00:01.000000Z'),
 (1, '2026-11-02T08:00:00.000000Z', 'team', {ST}, 2, '2026-11-02T08:00:00.000000Z', NULL);
INSERT INTO concerns VALUES
 (1, 1, 3, 'Die Bänke im Park sind kaputt', 1, 'posted', 1, '2026-10-12T08:00:00.000000Z',
  '2026-10-12T08:01:00.000000Z');
INSERT INTO concern_messages VALUES (1, 1, 'team', {PT}, 106, NULL, '2026-10-12T08:01:00.000000Z');
"""

RENAMED = {"concerns": "petitions", "concern_messages": "petition_messages"}  # by 013


def every_table(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table (schema_migrations aside), by table."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        names = [
            row[0]
            for row in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' AND name != 'schema_migrations'"
            )
        ]
        return {name: db.execute(f'SELECT * FROM "{name}"').fetchall() for name in names}


def backups_beside(database: Path) -> list[str]:
    return sorted(p.name for p in database.parent.iterdir() if p.name.endswith(".bak"))


async def test_version_names_the_package_and_the_schema() -> None:
    code, out, _ = await wiq_bot("--version")
    assert code == 0
    assert out == f"wiq-bot {package_version()} (database schema {code_version():03d})\n"
    assert re.fullmatch(r"wiq-bot \d+\.\d+\.\d+ \(database schema \d{3}\)\n", out)


async def test_a_database_of_schema_012_is_migrated_forward_with_nothing_lost_or_unposted(
    tmp_path: Path,
) -> None:
    database = tmp_path / "wiq.sqlite"
    database_at_schema(database, 12)
    with contextlib.closing(sqlite3.connect(database)) as db, db:
        db.executescript(SCHEMA_012_DATA)
    before = every_table(database)
    assert all(before.values()), [name for name, rows in before.items() if not rows]
    config = write_config(tmp_path, "http://127.0.0.1:9/bot")

    code, out, _ = await wiq_bot("migrate", "--config", str(config), "--check")
    pending = [f.name for f in sorted((ROOT / "storage" / "migrations").glob("*.sql"))][12:]
    assert code == 1
    assert out == (
        f"{database}: schema 012, this wiq-bot's is {code_version():03d};"
        f" {len(pending)} pending: {', '.join(pending)}\n"
    )

    code, out, err = await wiq_bot("migrate", "--config", str(config))
    assert code == 0, err
    lines = out.splitlines()
    kept = re.fullmatch(r"backup before migrating: (\S+) \([\d,]+ bytes\)", lines[0])
    assert kept, lines[0]
    assert lines[1:-1] == [f"applied {name}" for name in pending]
    assert lines[-1] == f"{database}: schema {code_version():03d} is current"

    # The backup beside the database is the database of schema 012, as it was.
    backup = Path(kept[1])
    assert backup.parent == tmp_path and backup.name.startswith("wiq.sqlite.schema012-")
    assert every_table(backup) == before

    # Nothing lost: every row of every table is there, with every value it had (a table
    # renamed since is found by its new name; columns added since come after the old ones).
    after = every_table(database)
    for table, rows in before.items():
        width = len(rows[0])
        assert [row[:width] for row in after[RENAMED.get(table, table)]] == rows, table
    # What 016 works out from them: #1's deadline, #2's vote's, #3's revision window's end.
    with contextlib.closing(sqlite3.connect(database)) as db:
        due = db.execute("SELECT id, due_at FROM proposals ORDER BY id").fetchall()
    assert due == [
        (1, "2026-11-09T07:00:00.000000Z"),
        (2, "2026-11-04T08:00:00.000000Z"),
        (3, "2026-11-04T06:00:00.000000Z"),
        (4, None),
    ]

    code, out, _ = await wiq_bot("migrate", "--config", str(config), "--check")
    assert code == 0
    assert out == f"{database}: schema {code_version():03d} is current, nothing to migrate\n"

    # Nothing left unposted: the bot's first start posts what schema 012 had not.
    model = make_model()
    h = Harness(model, load_config(config, env={}), clock=ManualClock(T0))
    await h.start()
    try:
        st, pt = h.bot_texts(ST), h.bot_texts(PT)
        assert any("Vorschlag #1" in text and "Wir streichen den Zaun" in text for text in st)
        assert any("Ergebnis Runde 1" in text and "Sommerfest" in text for text in pt), pt
        assert any(text.startswith("📅") for text in st)  # the ST's digest of the week
        assert not any(text.startswith("📅") for text in pt)  # the PT's had gone out
        reply = await h.say(ST, 13, "/members")
        assert reply is not None and "Carl" in (reply.text or "")
    finally:
        await h.stop()


async def test_a_database_of_a_newer_version_is_refused_and_left_as_it_is(tmp_path: Path) -> None:
    database = tmp_path / "wiq.sqlite"
    database_at_schema(database, 12)
    with contextlib.closing(sqlite3.connect(database)) as db, db:
        db.execute("INSERT INTO schema_migrations VALUES (999, '999_future.sql', '')")
    before = every_table(database)
    model = make_model()
    async with LocalBotApiServer(model) as server:
        config = write_config(tmp_path, server.base_url)
        code, _, err = await wiq_bot("migrate", "--config", str(config))
        assert code == 2
        assert err == (
            f"wiq-bot: refused: {database} has schema 999, newer than this wiq-bot knows"
            f" ({code_version():03d}): run the version that wrote it\n"
        )
        code, _, err = await wiq_bot("migrate", "--config", str(config), "--check")
        assert code == 2 and "has schema 999, newer than this wiq-bot knows" in err

        process = await start_process(config)
        output = await finish(process)
        assert process.returncode == 2
        [line] = output.splitlines()
        assert "event=refused reason=schema_too_new" in line and "schema=999" in line
        assert not model.calls  # refused before anything reached Telegram
    with contextlib.closing(sqlite3.connect(database)) as db:
        versions = [row[0] for row in db.execute("SELECT version FROM schema_migrations")]
    assert versions == [*range(1, 13), 999]  # not one migration applied
    assert every_table(database) == before
    assert backups_beside(database) == []  # and no backup made: nothing was to migrate
