"""Consensus rounds: their records, electorates, responses (the hot path of a press) and the
objections carried into the next round. The reasons given for an Einwand or Bedenken are
`storage/reasons.py`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import (
    Database,
    Row,
    Transaction,
    from_db,
    from_db_required,
    json_list,
    to_db,
)


@dataclass(frozen=True, slots=True)
class RoundRecord:
    id: int
    proposal_id: int
    number: int
    text: str
    opened_at: datetime
    deadline: datetime
    closed_at: datetime | None
    outcome: str | None
    card_chat_id: int | None
    card_message_id: int | None
    reminder_sent_at: datetime | None
    # The result message, once posted, and the line it ended with (what happened next).
    result_chat_id: int | None = None
    result_message_id: int | None = None
    result_next_step: str | None = None
    # An early close due (everyone responded), and the update that completed the electorate.
    early_close_at: datetime | None = None
    early_close_after: int | None = None


@dataclass(frozen=True, slots=True)
class PressContext:
    round_id: int
    proposal_id: int
    closed: bool
    card_chat_id: int | None
    card_message_id: int | None
    team_id: int
    chat_id: int
    team_name: str
    roster_mode: str


# What record_press returns about the round of the response it stored: RETURNING names only
# the table written to, so subqueries read the rest.
_PRESS_RETURNING = ", ".join(
    [
        f"(SELECT {column} FROM rounds WHERE id = responses.round_id) AS {column}"
        for column in ("proposal_id", "card_chat_id", "card_message_id")
    ]
    + [
        f"(SELECT t.{column} FROM rounds r JOIN proposals p ON p.id = r.proposal_id"
        f" JOIN teams t ON t.id = p.team_id WHERE r.id = responses.round_id) AS {alias}"
        for column, alias in (
            ("id", "team_id"),
            ("name", "name"),
            ("roster_mode", "roster_mode"),
        )
    ]
)


@dataclass(frozen=True, slots=True)
class CarriedObjection:
    person_id: int
    reason: str | None
    first_round: int


@dataclass(frozen=True, slots=True)
class StoredResponse:
    choice: str
    reason: str | None
    update_id: int
    reason_at: datetime | None = None  # when the reason came (after the close: added late)


@dataclass(frozen=True, slots=True)
class NewRound:
    """A round to open; its electorate is the team's roster at that moment (SPEC §3.3),
    taken inside the same transaction."""

    number: int
    text: str
    deadline: datetime
    carried: tuple[CarriedObjection, ...] = ()
    remind_at: datetime | None = None  # when its reminder is due (None: no reminder)


class Rounds:
    def __init__(self, db: Database, network_id: int, reasoned_responses: frozenset[str]) -> None:
        self.db = db
        self.network_id = network_id
        # The responses that keep a reason (bot.charter.outcomes.REASONED_RESPONSES).
        self._reasoned = json_list(reasoned_responses)

    # -- reading ---------------------------------------------------------------------------

    async def current_round(self, proposal_id: int) -> RoundRecord | None:
        row = await self.db.fetchone(
            "SELECT * FROM rounds WHERE proposal_id = ? ORDER BY number DESC LIMIT 1",
            (proposal_id,),
        )
        return _round(row) if row else None

    async def round(self, round_id: int) -> RoundRecord | None:
        row = await self.db.fetchone("SELECT * FROM rounds WHERE id = ?", (round_id,))
        return _round(row) if row else None

    async def rounds(self, proposal_id: int) -> list[RoundRecord]:
        rows = await self.db.fetchall(
            "SELECT * FROM rounds WHERE proposal_id = ? ORDER BY number", (proposal_id,)
        )
        return [_round(row) for row in rows]

    async def round_electorate(self, round_id: int) -> frozenset[int]:
        rows = await self.db.fetchall(
            "SELECT person_id FROM round_electorate WHERE round_id = ? AND left_at IS NULL",
            (round_id,),
        )
        return frozenset(row[0] for row in rows)

    async def responses(self, round_id: int) -> dict[int, StoredResponse]:
        rows = await self.db.fetchall(
            "SELECT person_id, choice, reason, update_id, reason_at FROM responses"
            " WHERE round_id = ?",
            (round_id,),
        )
        return {row[0]: StoredResponse(row[1], row[2], row[3], from_db(row[4])) for row in rows}

    async def carried(self, round_id: int) -> list[CarriedObjection]:
        rows = await self.db.fetchall(
            "SELECT person_id, reason, first_round FROM carried_objections WHERE round_id = ?"
            " ORDER BY first_round, person_id",
            (round_id,),
        )
        return [CarriedObjection(row[0], row[1], row[2]) for row in rows]

    async def round_by_card(self, chat_id: int, message_id: int) -> RoundRecord | None:
        row = await self.db.fetchone(
            "SELECT * FROM rounds WHERE card_chat_id = ? AND card_message_id = ?",
            (chat_id, message_id),
        )
        return _round(row) if row else None

    # -- the hot path: one press -------------------------------------------------------------

    async def press_context(self, round_id: int) -> PressContext | None:
        """What a press needs to know, in one query."""
        row = await self.db.fetchone(
            "SELECT r.id AS round_id, r.proposal_id, r.closed_at, r.card_chat_id,"
            " r.card_message_id, t.id AS team_id, t.chat_id, t.name, t.roster_mode"
            " FROM rounds r JOIN proposals p ON p.id = r.proposal_id"
            " JOIN teams t ON t.id = p.team_id WHERE r.id = ? AND p.network_id = ?",
            (round_id, self.network_id),
        )
        if row is None:
            return None
        return PressContext(
            round_id=row["round_id"],
            proposal_id=row["proposal_id"],
            closed=row["closed_at"] is not None,
            card_chat_id=row["card_chat_id"],
            card_message_id=row["card_message_id"],
            team_id=row["team_id"],
            chat_id=row["chat_id"],
            team_name=row["name"],
            roster_mode=row["roster_mode"],
        )

    async def in_round(self, round_id: int, person_id: int) -> bool:
        row = await self.db.fetchone(
            "SELECT 1 FROM round_electorate WHERE round_id = ? AND person_id = ?"
            " AND left_at IS NULL",
            (round_id, person_id),
        )
        return row is not None

    async def everyone_responded(self, round_id: int) -> bool:
        """Whether every member of the round's electorate has responded, and it has members
        (bot.charter.tally.everyone_responded; tests/test_everyone_responded_property.py checks
        that they agree): one query, asked after every press. While fewer responses are stored
        than members counted — nearly always — it looks up no member one by one."""
        row = await self.db.fetchone(
            "SELECT CASE"
            " WHEN (SELECT COUNT(*) FROM responses WHERE round_id = ?1)"
            "  < (SELECT COUNT(*) FROM round_electorate WHERE round_id = ?1 AND left_at IS NULL)"
            " THEN FALSE"
            " ELSE EXISTS (SELECT 1 FROM round_electorate WHERE round_id = ?1 AND left_at IS NULL)"
            "  AND NOT EXISTS (SELECT 1 FROM round_electorate e"
            "   WHERE e.round_id = ?1 AND e.left_at IS NULL AND NOT EXISTS (SELECT 1 FROM"
            "    responses r WHERE r.round_id = ?1 AND r.person_id = e.person_id))"
            " END",
            (round_id,),
        )
        return bool(row and row[0])

    # -- responses and ballots -----------------------------------------------------------

    async def record_press(
        self,
        round_id: int,
        chat_id: int,
        person_id: int,
        choice: str,
        update_id: int,
        now: datetime,
    ) -> PressContext | None:
        """The usual press in one statement: stored if the round is open and this chat's,
        the person is in its electorate, and no newer press of theirs is stored (SPEC §9).
        Returns what the press needs to know once stored; None if nothing was stored, for
        whatever reason (press_context, in_round and record_response then tell which).

        Atomic by itself (committed with the press's unit of work); a trigger writes it into
        the record."""
        row = await self.db.fetchone(
            "INSERT INTO responses (round_id, person_id, choice, reason, update_id, at)"
            " SELECT r.id, e.person_id, ?, NULL, ?, ?"
            " FROM rounds r JOIN proposals p ON p.id = r.proposal_id"
            " JOIN teams t ON t.id = p.team_id"
            " JOIN round_electorate e ON e.round_id = r.id"
            " WHERE r.id = ? AND p.network_id = ? AND r.closed_at IS NULL AND t.chat_id = ?"
            "  AND (r.card_chat_id IS NULL OR r.card_chat_id = ?)"
            "  AND e.person_id = ? AND e.left_at IS NULL"
            " ON CONFLICT (round_id, person_id) DO UPDATE SET"
            "  choice = excluded.choice, update_id = excluded.update_id, at = excluded.at,"
            # A reason belongs to an Einwand or Bedenken; keep it while the choice keeps one.
            "  reason = CASE WHEN excluded.choice IN (SELECT value FROM json_each(?))"
            "                THEN responses.reason END,"
            "  reason_at = CASE WHEN excluded.choice IN (SELECT value FROM json_each(?))"
            "                THEN responses.reason_at END"
            " WHERE excluded.update_id > responses.update_id"
            " RETURNING " + _PRESS_RETURNING,
            (
                choice,
                update_id,
                to_db(now),
                round_id,
                self.network_id,
                chat_id,
                chat_id,
                person_id,
                self._reasoned,
                self._reasoned,
            ),
        )
        if row is None:
            return None
        return PressContext(
            round_id=round_id,
            proposal_id=row["proposal_id"],
            closed=False,
            card_chat_id=row["card_chat_id"],
            card_message_id=row["card_message_id"],
            team_id=row["team_id"],
            chat_id=chat_id,
            team_name=row["name"],
            roster_mode=row["roster_mode"],
        )

    async def record_response(
        self, round_id: int, person_id: int, choice: str, update_id: int, now: datetime
    ) -> bool | None:
        """Store a press unless a newer one of this person is already stored (SPEC §9).
        True: stored; False: an older press; None: the round is closed.

        One statement, atomic by itself; a trigger writes it into the record."""
        changed = await self.db.change(
            "INSERT INTO responses (round_id, person_id, choice, reason, update_id, at)"
            " SELECT ?, ?, ?, NULL, ?, ?"
            " WHERE EXISTS (SELECT 1 FROM rounds WHERE id = ? AND closed_at IS NULL)"
            " ON CONFLICT (round_id, person_id) DO UPDATE SET"
            "  choice = excluded.choice, update_id = excluded.update_id, at = excluded.at,"
            # A reason belongs to an Einwand or Bedenken; keep it while the choice keeps one.
            "  reason = CASE WHEN excluded.choice IN (SELECT value FROM json_each(?))"
            "                THEN responses.reason END,"
            "  reason_at = CASE WHEN excluded.choice IN (SELECT value FROM json_each(?))"
            "                THEN responses.reason_at END"
            " WHERE excluded.update_id > responses.update_id",
            (
                round_id,
                person_id,
                choice,
                update_id,
                to_db(now),
                round_id,
                self._reasoned,
                self._reasoned,
            ),
        )
        if changed:
            return True
        still_open = await self.db.fetchone(
            "SELECT 1 FROM rounds WHERE id = ? AND closed_at IS NULL", (round_id,)
        )
        return False if still_open else None

    async def join_round(self, round_id: int, person_id: int, now: datetime) -> None:
        await self.db.execute(
            "INSERT INTO round_electorate (round_id, person_id, joined_at) VALUES (?, ?, ?)"
            " ON CONFLICT (round_id, person_id) DO UPDATE SET left_at = NULL",
            (round_id, person_id, to_db(now)),
        )

    # -- messages on Telegram ------------------------------------------------------------

    async def set_card(self, round_id: int, chat_id: int, message_id: int) -> None:
        await self.db.execute(
            "UPDATE rounds SET card_chat_id = ?, card_message_id = ? WHERE id = ?",
            (chat_id, message_id, round_id),
        )

    # -- closing, and what followed a close (finished after a restart if a crash interrupted it)

    async def claim_round(self, round_id: int, now: datetime) -> bool:
        """Stop a round taking responses, before its result is worked out. False if it
        already was (another close got there first, or a restart finishes one)."""
        return bool(
            await self.db.change(
                "UPDATE rounds SET closed_at = ? WHERE id = ? AND closed_at IS NULL",
                (to_db(now), round_id),
            )
        )

    async def schedule_early_close(self, round_id: int, at: datetime, after: int | None) -> bool:
        """Everyone has responded: the round closes early at `at` (a grace after the update
        `after` that completed it), unless its deadline comes first. A later completing update
        moves the moment on. False if the round is closed already."""
        return bool(
            await self.db.change(
                "UPDATE rounds SET early_close_at = ?,"
                " early_close_after = MAX(COALESCE(early_close_after, 0), COALESCE(?, 0))"
                " WHERE id = ? AND closed_at IS NULL",
                (to_db(at), after, round_id),
            )
        )

    async def cancel_early_close(self, round_id: int) -> None:
        """Not everyone has responded any more (the electorate grew): no early close."""
        await self.db.change(
            "UPDATE rounds SET early_close_at = NULL, early_close_after = NULL"
            " WHERE id = ? AND closed_at IS NULL",
            (round_id,),
        )

    async def mark_announced(
        self,
        round_id: int,
        now: datetime,
        chat_id: int | None = None,
        message_id: int | None = None,
        next_step: str | None = None,
    ) -> None:
        """The result message went out (where, and the line it ended with)."""
        await self.db.change(
            "UPDATE rounds SET announced_at = ?, result_chat_id = ?, result_message_id = ?,"
            " result_next_step = ? WHERE id = ? AND announced_at IS NULL",
            (to_db(now), chat_id, message_id, next_step, round_id),
        )


async def open_round(
    tx: Transaction, proposal_id: int, team_id: int, new: NewRound, now: datetime
) -> int:
    round_id = await tx.execute(
        "INSERT INTO rounds (proposal_id, number, text, opened_at, deadline, remind_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (
            proposal_id,
            new.number,
            new.text,
            to_db(now),
            to_db(new.deadline),
            to_db(new.remind_at) if new.remind_at else None,
        ),
    )
    await tx.execute(
        "INSERT INTO round_electorate (round_id, person_id, joined_at)"
        " SELECT ?, person_id, ? FROM roster_entries WHERE team_id = ? AND left_at IS NULL",
        (round_id, to_db(now), team_id),
    )
    # A reason given to the objection in the round before, stored after the caller read it
    # (it came late, while this round was being opened), wins over the copy handed in.
    await tx.executemany(
        "INSERT INTO carried_objections (round_id, person_id, reason, first_round)"
        " VALUES (?1, ?2, COALESCE((SELECT s.reason FROM responses s"
        "  JOIN rounds r ON r.id = s.round_id WHERE r.proposal_id = ?5 AND r.number = ?6"
        "  AND s.person_id = ?2), ?3), ?4)",
        [
            (round_id, o.person_id, o.reason, o.first_round, proposal_id, new.number - 1)
            for o in new.carried
        ],
    )
    return round_id


async def leave_open_rounds(tx: Transaction, team_id: int, person_id: int, now: datetime) -> None:
    """Who leaves the team no longer counts in its open rounds (SPEC §3.3)."""
    await tx.execute(
        "UPDATE round_electorate SET left_at = ? WHERE person_id = ? AND left_at IS NULL"
        " AND round_id IN (SELECT r.id FROM rounds r JOIN proposals p ON p.id = r.proposal_id"
        "  WHERE p.team_id = ? AND r.closed_at IS NULL)",
        (to_db(now), person_id, team_id),
    )


def _round(row: Row) -> RoundRecord:
    return RoundRecord(
        id=row["id"],
        proposal_id=row["proposal_id"],
        number=row["number"],
        text=row["text"],
        opened_at=from_db_required(row["opened_at"]),
        deadline=from_db_required(row["deadline"]),
        closed_at=from_db(row["closed_at"]),
        outcome=row["outcome"],
        card_chat_id=row["card_chat_id"],
        card_message_id=row["card_message_id"],
        reminder_sent_at=from_db(row["reminder_sent_at"]),
        result_chat_id=row["result_chat_id"],
        result_message_id=row["result_message_id"],
        result_next_step=row["result_next_step"],
        early_close_at=from_db(row["early_close_at"]),
        early_close_after=row["early_close_after"],
    )
