"""Benchmark: the weekly digests of 500 teams over a year of history, at two history sizes.

For each history length (--weeks, default 26 and 52: about 26,000 and 52,000 decisions, two a
week in each team): a fresh database with its schema (made by the code under test), the
history written into it with plain SQL through the storage gateway's own connection (fast:
one executemany per table) — teams with five members each, decided proposals with their
closed round, its card and three responses (whose triggers write the record's events), and
one open round per team (so that every digest lists an open item) — then one run of the real
due work of the digest (bot.flows.digests.DigestRunner.run_due at the week's moment, with the
deadlines' run it begins with), its posts taken by a recording port that writes down where
each went as the outbox would (bot.flows.posting.record).

Figures, per backend and history size: the seconds of that one run, the SQL statements it ran
(SQLite: every statement its connection executed, counted by sqlite3's trace callback, an
executemany counting once per row; PostgreSQL: every call on the gateway's connection, an
executemany counting once per row too; the statements triggers run are not counted on
either), and the statements per team (the digests' chats: 500). The week's share of the
history is the same at both sizes (two decisions per team and week), so the statements per
team should be the same at both sizes; the seconds show what the size of the history costs.

    .venv/bin/python -m bench.digests                  # SQLite, in a temporary file
    .venv/bin/python -m bench.digests --database 'postgresql:///wiq_bench?host=/var/run/postgresql'
    .venv/bin/python -m bench.digests --teams 100 --weeks 4 8

--database names a PostgreSQL database (its public schema is DROPPED and made afresh before
each size: give it a database of its own) or a SQLite file (removed first). Figures go to
stdout (a small table); progress to stderr. It asserts nothing."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import asyncpg

from bench.seed import FIRST_CHAT, FIRST_TELEGRAM_ID, at
from bot.app import CHARTER_TERMS
from bot.charter.policy import Policy, policy_to_json
from bot.clock import ManualClock
from bot.config import load_config
from bot.flows import posting
from bot.flows.decisions import Decisions
from bot.flows.digests import DigestRunner
from bot.flows.port import Delivery, OnPosted, Outbox, Posted, Status
from bot.services import Services
from bot.texts.i18n import Html
from storage import Storage
from storage.postgres import PostgresConnection, is_url

NETWORK = "WiQ Bench"
# A Monday, a minute after the digest's moment (09:00 in Berlin, the default).
NOW = datetime(2026, 11, 9, 8, 1, tzinfo=UTC)
MEMBERS = 5
RESPONSES = 3  # of the five, per decided round
PER_WEEK = 2  # decisions per team and week
OUTCOMES = ("consensus", "consensus", "accepted", "rejected")


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class RecordingPort:
    """The outbox port for the digests: each post is taken at once and where it went is
    written down as the outbox writes it once Telegram confirmed it."""

    services: Services | None = None
    posts: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def send(
        self, chat_id: int, text: Html, *, on_posted: OnPosted | None = None, **_: object
    ) -> Delivery:
        self.posts += 1
        where = Posted(chat_id, next(self._ids), None, text)
        if on_posted is not None and self.services is not None:
            await posting.record(self.services, on_posted, where)
        return Delivery(Status.SENT, where)


class Counter:
    """The statements run on the gateway's connection while `counting` is on."""

    def __init__(self) -> None:
        self.counting = False
        self.statements = 0

    def traced(self, sql: str) -> None:
        if self.counting and not sql.startswith("--"):  # "-- TRIGGER …": inside a statement
            self.statements += 1

    def wrap(self, conn: PostgresConnection) -> None:
        execute, fetchall, many = conn.execute, conn.execute_fetchall, conn.executemany

        async def counted_execute(sql: str, parameters: Sequence[Any] = ()) -> Any:
            self.traced(sql)
            return await execute(sql, parameters)

        async def counted_fetchall(sql: str, parameters: Sequence[Any] = ()) -> Any:
            self.traced(sql)
            return await fetchall(sql, parameters)

        async def counted_many(sql: str, parameters: Iterable[Sequence[Any]]) -> Any:
            rows = list(parameters)
            for _ in rows:
                self.traced(sql)
            return await many(sql, rows)

        conn.execute = counted_execute  # type: ignore[method-assign]
        conn.execute_fetchall = counted_fetchall  # type: ignore[method-assign]
        conn.executemany = counted_many  # type: ignore[method-assign]


async def fresh(where: str) -> None:
    """An empty database at `where`."""
    if is_url(where):
        conn = await asyncpg.connect(where)
        try:
            await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        finally:
            await conn.close()
    else:
        remove_sqlite(where)


def remove_sqlite(where: str) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(where + suffix).unlink(missing_ok=True)


def config_text(where: str) -> str:
    place = f'url = "{where}"' if is_url(where) else f'path = "{where}"'
    return f"""
[telegram]
token = "123456789:BENCH-wiq-digests"
[network]
name = "{NETWORK}"
admins = [1]
[storage]
{place}
"""


def kind_of(index: int) -> str:
    return ("PT", "ST", "KT", "UT")[index] if index < 4 else "LT"


async def seed_history(storage: Storage, teams: int, weeks: int, slot: datetime) -> int:
    """`teams` teams with `weeks` weeks of decisions before `slot`, and one open round each;
    returns the number of decisions."""
    network_id = storage.network_id
    policy = json.dumps(policy_to_json(Policy()), sort_keys=True)
    start = slot - timedelta(weeks=weeks)
    joined = at(start - timedelta(days=1))
    people, team_rows, roster, proposals, rounds, responses, electorate = (
        [],
        [],
        [],
        [],
        [],
        [],
        [],
    )
    decided = 0
    proposal_id = round_id = 0
    step = timedelta(weeks=1) / PER_WEEK
    for team in range(1, teams + 1):
        chat_id = FIRST_CHAT - team
        team_rows.append((team, network_id, kind_of(team - 1), f"Team {team}", chat_id, joined))
        members = [(team - 1) * MEMBERS + i + 1 for i in range(MEMBERS)]
        for person in members:
            people.append(
                (person, network_id, FIRST_TELEGRAM_ID + person, f"Mitglied {person}", joined)
            )
            roster.append((network_id, team, person, joined))
        # Spread the teams' decisions over the week, so that every hour has some.
        offset = step * (team / (teams + 1))
        for number in range(weeks * PER_WEEK + 1):
            proposal_id += 1
            round_id += 1
            is_open = number == weeks * PER_WEEK
            closed = start + offset + step * number
            opened = closed - timedelta(days=3)
            deadline = slot + timedelta(days=2) + offset if is_open else closed
            outcome = None if is_open else OUTCOMES[proposal_id % len(OUTCOMES)]
            title = f"Vorschlag {proposal_id}"
            proposals.append(
                (
                    proposal_id,
                    network_id,
                    team,
                    members[0],
                    title,
                    f"{title}: ein Punkt der Woche",
                    policy,
                    "round_open" if is_open else "closed",
                    3 * 24 * 3600,
                    outcome,
                    at(opened),
                    None if is_open else at(closed),
                    at(deadline) if is_open else None,
                )
            )
            rounds.append(
                (
                    round_id,
                    proposal_id,
                    f"{title}: ein Punkt der Woche",
                    at(opened),
                    at(deadline),
                    None if is_open else at(closed),
                    outcome,
                    chat_id,
                    2 * number + 1,
                    None if is_open else at(closed),
                    at(deadline - timedelta(hours=12)) if is_open else None,
                    None if is_open else at(closed),
                )
            )
            electorate += [(round_id, person, at(opened)) for person in members]
            for index, person in enumerate(members[:RESPONSES]):
                moment = at(opened + timedelta(hours=1 + index))
                responses.append((round_id, person, "agree", proposal_id * 10 + index, moment))
            decided += not is_open
    async with storage.db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO people (id, network_id, telegram_id, first_name, pseudonym,"
            " first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(*row[:4], f"p{row[0]}", row[-1], row[-1]) for row in people],
        )
        await tx.executemany(
            "INSERT INTO teams (id, network_id, kind, name, chat_id, chat_type, roster_mode,"
            " bound_at) VALUES (?, ?, ?, ?, ?, 'supergroup', 'chat', ?)",
            team_rows,
        )
        await tx.executemany(
            "INSERT INTO roster_entries (network_id, team_id, person_id, joined_at, joined_how)"
            " VALUES (?, ?, ?, ?, 'chat')",
            roster,
        )
        await tx.executemany(
            "INSERT INTO proposals (id, network_id, team_id, kind, proposer_id, title, text,"
            " policy, status, round_length_s, round_number, outcome, created_at, closed_at,"
            " due_at, effects_done_at) VALUES"
            " (?, ?, ?, 'proposal', ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)",
            [(*row, row[-2]) for row in proposals],
        )
        await tx.executemany(
            "INSERT INTO rounds (id, proposal_id, number, text, opened_at, deadline, closed_at,"
            " outcome, card_chat_id, card_message_id, announced_at, remind_at, reminder_sent_at)"
            " VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rounds,
        )
        await tx.executemany(
            "INSERT INTO round_electorate (round_id, person_id, joined_at) VALUES (?, ?, ?)",
            electorate,
        )
        await tx.executemany(
            "INSERT INTO responses (round_id, person_id, choice, update_id, at)"
            " VALUES (?, ?, ?, ?, ?)",
            responses,
        )
    return decided


@dataclass(frozen=True)
class Figures:
    backend: str
    weeks: int
    decisions: int
    seconds: float
    statements: int
    teams: int
    posts: int


async def measure(where: str, teams: int, weeks: int, directory: Path) -> Figures:
    await fresh(where)
    config_path = directory / "config.toml"
    config_path.write_text(config_text(where), encoding="utf-8")
    config = load_config(config_path, env={})
    clock = ManualClock(NOW - timedelta(weeks=weeks, days=2))  # the network's creation
    storage = await Storage.open(config.database, NETWORK, clock.now(), CHARTER_TERMS)
    try:
        port = RecordingPort()
        # The digests only send (bot.flows.digests); the port's other calls are never made.
        outbox = cast(Outbox, port)
        services = Services(config=config, clock=clock, storage=storage, outbox=outbox)
        port.services = services

        async def in_chat(chat_id: int, telegram_id: int) -> bool:
            return True

        services.decisions = Decisions(services, in_chat)
        runner = DigestRunner(services)
        services.digests = runner
        slot = runner.latest_slot(NOW)
        began = time.perf_counter()
        decisions = await seed_history(storage, teams, weeks, slot)
        # The planner's statistics, as autovacuum (PostgreSQL) or `PRAGMA optimize` would
        # have them after a year: without them PostgreSQL guesses at a table it has never
        # looked at, and the figure would be of the guess.
        await storage.db.execute("ANALYZE")
        progress(
            f"{weeks} weeks: seeded {decisions} decisions in {time.perf_counter() - began:.1f} s"
        )
        clock.advance((NOW - clock.now()).total_seconds())
        counter = Counter()
        conn = storage.db.conn
        if isinstance(conn, PostgresConnection):
            counter.wrap(conn)
            backend = "postgresql"
        else:
            trace: Callable[[str], None] = counter.traced
            await conn.set_trace_callback(trace)  # type: ignore[attr-defined]
            backend = "sqlite"
        counter.counting = True
        began = time.perf_counter()
        sent = await runner.run_due()
        seconds = time.perf_counter() - began
        counter.counting = False
        if not sent:
            raise RuntimeError("the digest did not run")
        return Figures(backend, weeks, decisions, seconds, counter.statements, teams, port.posts)
    finally:
        await storage.close()


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.digests", description=__doc__.split("\n")[0])
    parser.add_argument("--database", help="a postgresql:// URL (wiped) or a SQLite file")
    parser.add_argument("--teams", type=int, default=500)
    parser.add_argument("--weeks", type=int, nargs="+", default=[26, 52])
    args = parser.parse_args(argv)
    rows: list[Figures] = []
    with tempfile.TemporaryDirectory() as tmp:
        where = args.database or str(Path(tmp) / "wiq.sqlite")
        for weeks in args.weeks:
            rows.append(await measure(where, args.teams, weeks, Path(tmp)))
        await fresh(where)
    print(
        f"{'backend':<10} {'weeks':>5} {'decisions':>9} {'seconds':>8} {'statements':>10}"
        f" {'per team':>8} {'posts':>5}"
    )
    for row in rows:
        print(
            f"{row.backend:<10} {row.weeks:>5} {row.decisions:>9} {row.seconds:>8.2f}"
            f" {row.statements:>10} {row.statements / row.teams:>8.2f} {row.posts:>5}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
