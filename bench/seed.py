"""Many open items, fast: written straight into a bot's SQLite file with plain SQL, for the
start-up benchmark (bench/startup.py) and the test that the bot starts and answers with ten
thousand open items (tests/test_due_work.py).

The file must exist with its schema and network (the bot started on it once). The items are
spread over solution teams (LTs) of their own, with chats the bot never posts in while
nothing of theirs is due: rounds (their cards posted), majority votes (their polls posted)
and revision windows, all with deadlines days ahead and reminders not yet due. The columns a
schema may or may not have (`proposals.due_at`, `remind_at`: the one timer's) are written
when the schema has them, as the bot of that schema writes them — so the same seed serves
the code before and after the one timer."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.charter.policy import Policy, policy_to_json
from bot.charter.schedule import reminder_at
from storage.db import Database, SqlValue

MEMBERS_PER_TEAM = 5
FIRST_CHAT = -1002000000000
FIRST_TELEGRAM_ID = 5_000_000
REMINDER_BEFORE = Policy().reminder_before


def at(moment: datetime) -> str:
    """As storage writes a moment (storage.db.to_db)."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


Writes = list[tuple[str, list[tuple[SqlValue, ...]]]]
"""Statements and their rows, in order: what `executemany` is given for each."""


def seed_open_items(
    db_path: Path, count: int, now: datetime, *, items_per_team: int = 100
) -> list[int]:
    """`count` open items in new LTs; returns the ids of the teams made."""
    conn = sqlite3.connect(db_path)
    try:
        with conn:
            return _seed(conn, count, now, items_per_team)
    finally:
        conn.close()


async def seed_open_items_in(
    db: Database, count: int, now: datetime, *, items_per_team: int = 100
) -> list[int]:
    """The same through the storage gateway's own connection (either backend; the schema is
    this code's, with `due_at` and `remind_at`)."""

    async def first(table: str) -> int:
        row = await db.fetchone(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")
        assert row is not None
        return int(row[0])

    network = await db.fetchone("SELECT id FROM networks ORDER BY id LIMIT 1")
    assert network is not None
    starts = [await first(table) for table in ("people", "teams", "proposals", "rounds", "votes")]
    team_ids, writes = _plan(int(network[0]), starts, count, now, items_per_team, True, True)
    async with db.transaction() as tx:
        for sql, rows in writes:
            await tx.executemany(sql, rows)
    return team_ids


def _seed(conn: sqlite3.Connection, count: int, now: datetime, items_per_team: int) -> list[int]:
    (network_id,) = conn.execute("SELECT id FROM networks ORDER BY id LIMIT 1").fetchone()
    due_at = "due_at" in _columns(conn, "proposals")
    remind = "remind_at" in _columns(conn, "rounds")
    starts = [
        conn.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}").fetchone()[0]
        for table in ("people", "teams", "proposals", "rounds", "votes")
    ]
    team_ids, writes = _plan(network_id, starts, count, now, items_per_team, due_at, remind)
    for sql, rows in writes:
        conn.executemany(sql, rows)
    return team_ids


def _plan(
    network_id: int,
    starts: list[int],
    count: int,
    now: datetime,
    items_per_team: int,
    due_at: bool,
    remind: bool,
) -> tuple[list[int], Writes]:
    """The teams made and the statements that write them, for a schema with or without the
    one timer's columns."""
    policy = json.dumps(policy_to_json(Policy()), sort_keys=True)
    opened = now - timedelta(hours=1)
    next_person, next_team, next_proposal, next_round, next_vote = starts
    people: list[tuple[SqlValue, ...]] = []
    teams: list[tuple[SqlValue, ...]] = []
    roster: list[tuple[SqlValue, ...]] = []
    proposals: list[tuple[SqlValue, ...]] = []
    rounds: list[tuple[SqlValue, ...]] = []
    round_electorate: list[tuple[SqlValue, ...]] = []
    votes: list[tuple[SqlValue, ...]] = []
    vote_electorate: list[tuple[SqlValue, ...]] = []
    polls: list[tuple[SqlValue, ...]] = []
    writes: Writes = []

    def add(sql: str, rows: list[tuple[SqlValue, ...]]) -> None:
        writes.append((sql, rows))

    team_ids: list[int] = []
    members: list[int] = []
    chat_id = 0
    for index in range(count):
        if index % items_per_team == 0:
            team_id = next_team + len(team_ids)
            team_ids.append(team_id)
            chat_id = FIRST_CHAT - team_id
            teams.append((team_id, network_id, "LT", f"LT {team_id}", chat_id, at(opened)))
            members = []
            for _ in range(MEMBERS_PER_TEAM):
                person_id = next_person + len(people)
                members.append(person_id)
                people.append(
                    (
                        person_id,
                        network_id,
                        FIRST_TELEGRAM_ID + person_id,
                        f"Mitglied {person_id}",
                        f"p{person_id}",
                        at(opened),
                        at(opened),
                    )
                )
                roster.append((network_id, team_id, person_id, at(opened)))
        proposal_id = next_proposal + index
        deadline = now + timedelta(days=2, minutes=(index * 7) % (12 * 24 * 60))
        remind_at = reminder_at(opened, deadline, REMINDER_BEFORE)
        assert remind_at is not None  # days ahead: a reminder always falls before
        kind = index % 20  # 12 in 20 rounds, 5 votes, 3 revision windows
        status = "round_open" if kind < 12 else "vote_open" if kind < 17 else "awaiting_revision"
        round_number = 0 if status == "vote_open" else 1
        revision_until = deadline if status == "awaiting_revision" else None
        proposals.append(
            (
                proposal_id,
                network_id,
                team_ids[-1],
                members[0],
                f"Vorschlag {proposal_id}",
                f"Vorschlag {proposal_id}: ein offener Punkt",
                policy,
                status,
                int((deadline - opened).total_seconds()),
                round_number,
                at(revision_until) if revision_until else None,
                at(opened),
                at(deadline),
            )
        )
        if status == "vote_open":
            vote_id = next_vote + len(votes)
            votes.append((vote_id, proposal_id, at(opened), at(deadline), at(remind_at)))
            vote_electorate += [(vote_id, person, at(opened)) for person in members]
            polls.append((f"poll-{vote_id}", vote_id, chat_id, 2 * index + 2))
        else:
            round_id = next_round + len(rounds)
            closed = status == "awaiting_revision"
            rounds.append(
                (
                    round_id,
                    proposal_id,
                    f"Vorschlag {proposal_id}: ein offener Punkt",
                    at(opened),
                    at(opened + timedelta(minutes=30) if closed else deadline),
                    at(opened + timedelta(minutes=30)) if closed else None,
                    "objections" if closed else None,
                    chat_id,
                    2 * index + 1,
                    at(opened + timedelta(minutes=30)) if closed else None,
                    None if closed else at(remind_at),
                )
            )
            round_electorate += [(round_id, person, at(opened)) for person in members]
    add(
        "INSERT INTO people (id, network_id, telegram_id, first_name, pseudonym, first_seen_at,"
        " last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        people,
    )
    add(
        "INSERT INTO teams (id, network_id, kind, name, chat_id, chat_type, roster_mode,"
        " bound_at) VALUES (?, ?, ?, ?, ?, 'supergroup', 'chat', ?)",
        teams,
    )
    add(
        "INSERT INTO roster_entries (network_id, team_id, person_id, joined_at, joined_how)"
        " VALUES (?, ?, ?, ?, 'chat')",
        roster,
    )
    columns = (
        "id, network_id, team_id, kind, proposer_id, title, text, policy, status,"
        " round_length_s, round_number, revision_until, created_at"
    )
    if due_at:
        add(
            f"INSERT INTO proposals ({columns}, due_at)"
            " VALUES (?, ?, ?, 'proposal', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            proposals,
        )
    else:
        add(
            f"INSERT INTO proposals ({columns})"
            " VALUES (?, ?, ?, 'proposal', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [row[:-1] for row in proposals],
        )
    round_columns = (
        "id, proposal_id, number, text, opened_at, deadline, closed_at, outcome, card_chat_id,"
        " card_message_id, announced_at"
    )
    if remind:
        add(
            f"INSERT INTO rounds ({round_columns}, remind_at)"
            " VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rounds,
        )
        add(
            "INSERT INTO votes (id, proposal_id, opened_at, deadline, remind_at)"
            " VALUES (?, ?, ?, ?, ?)",
            votes,
        )
    else:
        add(
            f"INSERT INTO rounds ({round_columns}) VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?)",
            [row[:-1] for row in rounds],
        )
        add(
            "INSERT INTO votes (id, proposal_id, opened_at, deadline) VALUES (?, ?, ?, ?)",
            [row[:-1] for row in votes],
        )
    add(
        "INSERT INTO round_electorate (round_id, person_id, joined_at) VALUES (?, ?, ?)",
        round_electorate,
    )
    add(
        "INSERT INTO vote_electorate (vote_id, person_id, joined_at) VALUES (?, ?, ?)",
        vote_electorate,
    )
    add(
        "INSERT INTO vote_polls (poll_id, vote_id, chat_id, message_id) VALUES (?, ?, ?, ?)",
        polls,
    )
    return team_ids, writes
