"""Reminders before a round or a vote closes: which are due (remind_at), and a claim so each
is sent at most once (rounds.reminder_sent_at, votes.reminder_sent_at)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from storage.db import Database, JsonObject, Row, from_db, to_db


@dataclass(frozen=True, slots=True)
class OpenStage:
    """An open consensus round ("round") or majority vote ("vote") of a proposal, or an
    election's open poll ("election": then `proposal_id` is the election's id and
    `policy` is None, the team's election policy applies). `number`: the network's #N of the
    proposal or election, for the text."""

    stage: str
    stage_id: int
    proposal_id: int
    number: int
    team_id: int
    title: str
    round_number: int
    policy: JsonObject | None
    opened_at: datetime
    deadline: datetime
    # the card (round) or the poll (vote) the reminder answers, if it went out
    chat_id: int | None
    message_id: int | None


TABLES = {"round": "rounds", "vote": "votes", "election": "elections"}


class Reminders:
    def __init__(self, db: Database, network_id: int) -> None:
        self.db = db
        self.network_id = network_id

    async def due(self, now: datetime) -> list[OpenStage]:
        """Open rounds, votes and election polls whose reminder is due (`remind_at`, an
        indexed column: what is due, however much is open) and not sent yet."""
        at = to_db(now)
        rounds = await self.db.fetchall(
            "SELECT r.id, r.proposal_id, p.number AS shown, p.team_id, p.title, r.number,"
            " p.policy, r.opened_at, r.deadline, r.card_chat_id AS chat_id,"
            " r.card_message_id AS message_id"
            " FROM rounds r INDEXED BY rounds_remind JOIN proposals p ON p.id = r.proposal_id"
            " WHERE r.remind_at <= ? AND r.closed_at IS NULL AND r.reminder_sent_at IS NULL"
            " AND p.network_id = ? AND p.status = 'round_open'",
            (at, self.network_id),
        )
        votes = await self.db.fetchall(
            "SELECT v.id, v.proposal_id, p.number AS shown, p.team_id, p.title,"
            " p.round_number AS number, p.policy, v.opened_at, v.deadline, vp.chat_id,"
            " vp.message_id"
            " FROM votes v INDEXED BY votes_remind JOIN proposals p ON p.id = v.proposal_id"
            " LEFT JOIN vote_polls vp ON vp.vote_id = v.id AND vp.active = 1"
            " WHERE v.remind_at <= ? AND v.closed_at IS NULL AND v.reminder_sent_at IS NULL"
            " AND p.network_id = ? AND p.status = 'vote_open'",
            (at, self.network_id),
        )
        elections = await self.db.fetchall(
            "SELECT id, id AS proposal_id, number AS shown, team_id, '' AS title, seats AS number,"
            " NULL AS policy, created_at AS opened_at, vote_deadline AS deadline,"
            " poll_chat_id AS chat_id, poll_message_id AS message_id FROM elections"
            " WHERE network_id = ? AND status = 'voting' AND poll_id IS NOT NULL"
            " AND counting_at IS NULL AND reminder_sent_at IS NULL AND remind_at <= ?",
            (self.network_id, at),
        )
        stages = [_stage("round", row) for row in rounds]
        stages += [_stage("election", row) for row in elections]
        seen_votes: set[int] = set()
        for row in votes:  # after a migration a vote has two polls: the active one counts
            if row["id"] not in seen_votes:
                seen_votes.add(row["id"])
                stages.append(_stage("vote", row))
        return stages

    async def next_due(self, after: datetime) -> datetime | None:
        """The first reminder moment after `after` (the one timer's next moment)."""
        at = to_db(after)
        moments = []
        for table in ("rounds", "votes"):
            row = await self.db.fetchone(
                # the partial index of what is not yet reminded (the planner would rather take
                # the index of everything open)
                f"SELECT MIN(remind_at) FROM {table} INDEXED BY {table}_remind"
                " WHERE reminder_sent_at IS NULL"
                " AND closed_at IS NULL AND remind_at > ?",
                (at,),
            )
            moments.append(from_db(row[0]) if row else None)
        row = await self.db.fetchone(
            "SELECT MIN(remind_at) FROM elections WHERE network_id = ? AND status = 'voting'"
            " AND reminder_sent_at IS NULL AND remind_at > ?",
            (self.network_id, at),
        )
        moments.append(from_db(row[0]) if row else None)
        return min((m for m in moments if m is not None), default=None)

    async def reschedule(self, stage: str, stage_id: int, when: datetime | None) -> None:
        """Store when the reminder is due after all (None: it has none)."""
        await self.db.execute(
            f"UPDATE {TABLES[stage]} SET remind_at = ? WHERE id = ?",
            (to_db(when) if when else None, stage_id),
        )

    async def claim(self, stage: str, stage_id: int, now: datetime) -> bool:
        """Mark the reminder as sent; False if it already was (nothing is sent twice)."""
        table = TABLES[stage]
        changed = await self.db.change(
            f"UPDATE {table} SET reminder_sent_at = ? WHERE id = ? AND reminder_sent_at IS NULL"
            " AND closed_at IS NULL",
            (to_db(now), stage_id),
        )
        return changed == 1

    async def is_open(self, stage: str, stage_id: int) -> bool:
        table = TABLES[stage]
        row = await self.db.fetchone(
            f"SELECT 1 FROM {table} WHERE id = ? AND closed_at IS NULL", (stage_id,)
        )
        return row is not None

    async def not_responded(self, stage: str, stage_id: int) -> list[int]:
        """The electorate members (still in it) without a response or ballot."""
        if stage == "round":
            sql = (
                "SELECT e.person_id FROM round_electorate e WHERE e.round_id = ?"
                " AND e.left_at IS NULL AND NOT EXISTS (SELECT 1 FROM responses r"
                " WHERE r.round_id = e.round_id AND r.person_id = e.person_id)"
                " ORDER BY e.person_id"
            )
        elif stage == "election":
            sql = (
                "SELECT e.person_id FROM election_electorate e WHERE e.election_id = ?"
                " AND NOT EXISTS (SELECT 1 FROM election_ballots b"
                " WHERE b.election_id = e.election_id AND b.person_id = e.person_id"
                " AND b.options != '[]') ORDER BY e.person_id"
            )
        else:
            sql = (
                "SELECT e.person_id FROM vote_electorate e WHERE e.vote_id = ?"
                " AND e.left_at IS NULL AND NOT EXISTS (SELECT 1 FROM ballots b"
                " WHERE b.vote_id = e.vote_id AND b.person_id = e.person_id"
                " AND b.choice IS NOT NULL) ORDER BY e.person_id"
            )
        return [int(row[0]) for row in await self.db.fetchall(sql, (stage_id,))]


def _stage(stage: str, row: Row) -> OpenStage:
    opened_at, deadline = from_db(row["opened_at"]), from_db(row["deadline"])
    assert opened_at is not None and deadline is not None
    return OpenStage(
        stage=stage,
        stage_id=int(row["id"]),
        proposal_id=int(row["proposal_id"]),
        number=int(row["shown"]),
        team_id=int(row["team_id"]),
        title=row["title"],
        round_number=int(row["number"]),
        policy=json.loads(row["policy"]) if row["policy"] else None,
        opened_at=opened_at,
        deadline=deadline,
        chat_id=row["chat_id"],
        message_id=row["message_id"],
    )
