"""The reasons given for an Einwand or Bedenken (SPEC §3.4): the question for one, the reason
stored with the response — also after the round closed, until the Beschluss — and carried into
the objection the next rounds carry from it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage import events
from storage.db import Database, Transaction, json_list, to_db


@dataclass(frozen=True, slots=True)
class ReasonSet:
    """What became of a reason given for a round's Einwand or Bedenken."""

    attached: bool  # stored with the person's Einwand or Bedenken
    decided: bool = False  # not stored: the proposal has its Beschluss
    after_close: bool = False  # the round had closed when it came
    # Later rounds whose carried objection of the person now has the reason, in order.
    carried_into: tuple[int, ...] = ()


class Reasons:
    def __init__(self, db: Database, network_id: int, reasoned_responses: frozenset[str]) -> None:
        self.db = db
        self.network_id = network_id
        # The responses that keep a reason (bot.charter.outcomes.REASONED_RESPONSES).
        self._reasoned = json_list(reasoned_responses)

    async def set_reason(
        self, round_id: int, person_id: int, reason: str, now: datetime, team_id: int
    ) -> ReasonSet:
        """Attach a reason to the person's Einwand or Bedenken in the round (only while the
        response is one), also after the round closed, until the proposal is decided (SPEC
        §3.4). A reason that comes after the close also goes to the objection the next
        rounds carry from it, as far as they carry this reason (not past a round where the
        person gave a newer one). One transaction, with its event in the record; the question
        for a reason is answered either way."""
        async with self.db.transaction() as tx:
            await tx.execute(
                "DELETE FROM reason_requests WHERE person_id = ? AND round_id = ?",
                (person_id, round_id),
            )
            round_ = await tx.fetchone(
                "SELECT r.proposal_id, r.number, r.closed_at, p.outcome FROM rounds r"
                " JOIN proposals p ON p.id = r.proposal_id WHERE r.id = ? AND p.network_id = ?",
                (round_id, self.network_id),
            )
            if round_ is None:
                return ReasonSet(attached=False)
            if round_["outcome"] is not None:  # a Beschluss: the record is complete
                return ReasonSet(attached=False, decided=True)
            stored = await tx.fetchone(
                "UPDATE responses SET reason = ?, reason_at = ? WHERE round_id = ?"
                " AND person_id = ? AND choice IN (SELECT value FROM json_each(?))"
                " RETURNING choice",
                (reason, to_db(now), round_id, person_id, self._reasoned),
            )
            if stored is None:
                return ReasonSet(attached=False)
            after_close = round_["closed_at"] is not None
            carried_into: list[int] = []
            if after_close:
                carried_into = await _carry_reason(
                    tx, round_["proposal_id"], round_["number"], round_id, person_id, reason
                )
            await events.append(
                tx,
                self.network_id,
                "round.reason",
                now,
                team_id=team_id,
                actor_id=person_id,
                data={
                    "round": round_id,
                    "choice": stored["choice"],
                    "reason": reason,
                    "after_close": after_close,
                    "carried_into": carried_into,
                },
            )
        return ReasonSet(attached=True, after_close=after_close, carried_into=tuple(carried_into))

    async def ask_reason(self, person_id: int, round_id: int, now: datetime) -> None:
        await self.db.execute(
            "INSERT INTO reason_requests (person_id, round_id, asked_at) VALUES (?, ?, ?)"
            " ON CONFLICT (person_id, round_id) DO UPDATE SET asked_at = excluded.asked_at",
            (person_id, round_id, to_db(now)),
        )

    async def pending_reason(self, person_id: int) -> int | None:
        """The round of the newest unanswered question for a reason, if any."""
        row = await self.db.fetchone(
            "SELECT round_id FROM reason_requests WHERE person_id = ?"
            " ORDER BY asked_at DESC LIMIT 1",
            (person_id,),
        )
        return int(row[0]) if row else None


async def _carry_reason(
    tx: Transaction,
    proposal_id: int,
    number: int,
    round_id: int,
    person_id: int,
    reason: str,
) -> list[int]:
    """A late reason for round `number`: the objection the following rounds carry from it
    takes the reason, round by round, until a round where the person gave a reason of their
    own (theirs is the newer one) or one that no longer carries the objection."""
    into: list[int] = []
    previous = round_id
    while True:
        following = await tx.fetchone(
            "SELECT id FROM rounds WHERE proposal_id = ? AND number = ?",
            (proposal_id, number + 1 + len(into)),
        )
        if following is None:
            return into
        if previous != round_id:
            own = await tx.fetchone(
                "SELECT 1 FROM responses WHERE round_id = ? AND person_id = ?"
                " AND reason IS NOT NULL",
                (previous, person_id),
            )
            if own is not None:
                return into
        changed = await tx.rowcount(
            "UPDATE carried_objections SET reason = ? WHERE round_id = ? AND person_id = ?",
            (reason, following["id"], person_id),
        )
        if not changed:
            return into
        into.append(following["id"])
        previous = following["id"]
