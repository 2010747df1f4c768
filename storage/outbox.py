"""The outbox's rows (storage/migrations/018_outbox.sql, 019): what the bot is to send or
edit, kept until Telegram confirmed it, the people each row names, and the send times each
group's budget is taken from."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from storage.db import Database, Row, Transaction, to_db

WAITING = ("queued", "sending")


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    chat_id: int
    priority: int
    kind: str
    message: str
    document: bytes | None
    coalesce_key: str | None
    on_posted: str | None
    budget: bool
    attempts: int
    network_id: int | None = None  # the network that said it (NULL: before 025, or none)


class Outbox:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self,
        chat_id: int,
        priority: int,
        kind: str,
        message: str,
        now: datetime,
        *,
        budget: bool,
        document: bytes | None = None,
        coalesce_key: str | None = None,
        on_posted: str | None = None,
        person_ids: Sequence[int] = (),
        subject_id: int | None = None,
        network_id: int | None = None,
    ) -> tuple[int, bool]:
        """Queue one item, in the caller's unit of work (outside one: committed when this
        returns). Returns its id and True, or: a queued edit of the same message takes the
        new state instead, and a waiting post of the same thing (`on_posted`) is kept as it
        is (its id and False). `person_ids`: the people it names; `subject_id`: the one person
        it exists for (`forget_person`)."""
        people = json.dumps(sorted(set(person_ids)))
        if coalesce_key is not None:
            row = await self.db.fetchone(
                "INSERT INTO outbox (chat_id, priority, kind, message, coalesce_key,"
                " person_ids, budget, created_at, network_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (chat_id, coalesce_key)"
                " WHERE status = 'queued' AND coalesce_key IS NOT NULL"
                " DO UPDATE SET kind = excluded.kind, message = excluded.message,"
                " person_ids = excluded.person_ids RETURNING id",
                (
                    chat_id,
                    priority,
                    kind,
                    message,
                    coalesce_key,
                    people,
                    int(budget),
                    to_db(now),
                    network_id,
                ),
            )
            assert row is not None
            return int(row[0]), True  # new, or the waiting edit now carrying this state
        row = await self.db.fetchone(
            "INSERT OR IGNORE INTO outbox (chat_id, priority, kind, message, document,"
            " on_posted, person_ids, subject_id, budget, created_at, network_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                chat_id,
                priority,
                kind,
                message,
                document,
                on_posted,
                people,
                subject_id,
                int(budget),
                to_db(now),
                network_id,
            ),
        )
        if row is not None:
            return int(row[0]), True
        waiting = await self.db.fetchone(
            "SELECT id FROM outbox WHERE chat_id = ? AND on_posted = ?"
            " AND status IN ('queued', 'sending')",
            (chat_id, on_posted),
        )
        assert waiting is not None
        return int(waiting[0]), False

    async def next(self, chat_id: int) -> OutboxItem | None:
        """The chat's next queued item: by priority, then in the order queued."""
        row = await self.db.fetchone(
            "SELECT * FROM outbox WHERE chat_id = ? AND status = 'queued'"
            " ORDER BY priority, id LIMIT 1",
            (chat_id,),
        )
        return _item(row) if row is not None else None

    async def waiting(self, chat_id: int | None = None) -> int:
        if chat_id is None:
            row = await self.db.fetchone(
                "SELECT COUNT(*) FROM outbox WHERE status IN ('queued', 'sending')"
            )
        else:
            row = await self.db.fetchone(
                "SELECT COUNT(*) FROM outbox WHERE chat_id = ? AND status IN ('queued', 'sending')",
                (chat_id,),
            )
        return int(row[0]) if row else 0

    async def chats_waiting(self) -> list[int]:
        rows = await self.db.fetchall(
            "SELECT DISTINCT chat_id FROM outbox WHERE status = 'queued' ORDER BY chat_id"
        )
        return [int(row[0]) for row in rows]

    async def sent_since(self, chat_id: int, since: float) -> list[float]:
        """The times (epoch seconds) the chat's budget was spent since `since`, oldest first:
        every attempt counts, also one whose answer a kill or a lost connection swallowed."""
        rows = await self.db.fetchall(
            "SELECT sent_at FROM outbox WHERE chat_id = ? AND budget = 1 AND sent_at > ?"
            " ORDER BY sent_at",
            (chat_id, since),
        )
        return [float(row[0]) for row in rows]

    async def claim(self, item_id: int, at: float) -> bool:
        """Take a queued item to send it now; False if another took it (or it changed)."""
        changed = await self.db.change(
            "UPDATE outbox SET status = 'sending', sent_at = ?, attempts = attempts + 1"
            " WHERE id = ? AND status = 'queued'",
            (at, item_id),
        )
        return changed == 1

    async def set_message(self, item_id: int, kind: str, message: str) -> None:
        """A deferred item as rendered when it went out (kept, so a retry sends the same)."""
        await self.db.change(
            "UPDATE outbox SET kind = ?, message = ? WHERE id = ?", (kind, message, item_id)
        )

    async def requeue(self, item_id: int, *, spent_at: float | None, now: datetime) -> None:
        """Back to the queue. A 429 sent nothing (`spent_at` None); after a network error
        Telegram may have sent it: that attempt keeps counting to the budget, as a row of its
        own at `spent_at`, and the item waits for its next attempt."""
        async with self.db.transaction() as tx:
            if spent_at is not None:
                await _attempt(tx, "id = ? AND status = 'sending'", (item_id,), spent_at, now)
            await tx.execute(
                "UPDATE outbox SET status = 'queued', sent_at = NULL"
                " WHERE id = ? AND status = 'sending'",
                (item_id,),
            )

    async def done(
        self,
        item_id: int,
        status: str,
        *,
        message_id: int | None = None,
        poll_id: str | None = None,
        error: str | None = None,
        spent: bool = True,
        confirmed_at: float | None = None,
    ) -> None:
        """The item is finished: sent (Telegram confirmed it), failed for good, or dropped.
        What it said is not kept: a group's row keeps only when it spent the budget; a private
        chat's (whose id is a person's) goes at once. `confirmed_at`: when Telegram's answer
        came, the send time kept for the budget from now on (Telegram counted it somewhere
        between the attempt and the answer: the later moment keeps the window on the safe
        side)."""
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE outbox SET status = ?, message_id = ?, poll_id = ?, error = ?,"
                " sent_at = CASE WHEN ? THEN COALESCE(?, sent_at) END, message = '{}',"
                " document = NULL, person_ids = '[]', subject_id = NULL WHERE id = ?",
                (status, message_id, poll_id, error, int(spent), confirmed_at, item_id),
            )
            await tx.execute("DELETE FROM outbox WHERE id = ? AND budget = 0", (item_id,))

    async def move(self, item_id: int, new_chat_id: int) -> None:
        """An item re-filed under a migrated group's new id."""
        await self.db.change(
            "UPDATE outbox SET chat_id = ?, status = 'queued', sent_at = NULL WHERE id = ?",
            (new_chat_id, item_id),
        )

    async def resume(self, at: float, now: datetime) -> int:
        """At start: what was being sent when the process stopped goes again (Telegram may
        have sent it: at most one duplicate). That attempt keeps counting to the budget, at
        `at` (it reached Telegram, if at all, before now)."""
        async with self.db.transaction() as tx:
            await _attempt(tx, "status = 'sending'", (), at, now)
            return await tx.rowcount(
                "UPDATE outbox SET status = 'queued', sent_at = NULL WHERE status = 'sending'"
            )

    async def resume_chat(self, chat_id: int, at: float, now: datetime) -> int:
        """What a killed worker was sending in this chat goes again (a worker that shares the
        database, once it holds the chat's claim: whoever had it before is gone, so what is
        marked 'sending' is theirs). As `resume`: its attempt keeps counting to the budget."""
        async with self.db.transaction() as tx:
            await _attempt(tx, "chat_id = ? AND status = 'sending'", (chat_id,), at, now)
            return await tx.rowcount(
                "UPDATE outbox SET status = 'queued', sent_at = NULL"
                " WHERE chat_id = ? AND status = 'sending'",
                (chat_id,),
            )

    async def chats_unclaimed(self, now: float) -> list[int]:
        """The chats with something waiting (queued, or left 'sending' by a killed worker)
        that no worker is sending now (no live claim, storage/claims.py)."""
        rows = await self.db.fetchall(
            "SELECT DISTINCT chat_id FROM outbox WHERE status IN ('queued', 'sending')"
            " AND NOT EXISTS (SELECT 1 FROM claims WHERE claims.kind = 'outbox'"
            " AND claims.item = outbox.chat_id AND claims.lease_until >= ?) ORDER BY chat_id",
            (now,),
        )
        return [int(row[0]) for row in rows]

    async def posted_message(self, chat_id: int, on_posted: str) -> int | None:
        """The message a sent item of the chat went out as, named by what it is the post of
        (None: not sent, or refused)."""
        row = await self.db.fetchone(
            "SELECT message_id FROM outbox WHERE chat_id = ? AND on_posted = ?"
            " AND status = 'sent' AND message_id IS NOT NULL ORDER BY id DESC LIMIT 1",
            (chat_id, on_posted),
        )
        return int(row[0]) if row is not None else None

    async def purge(self, before: datetime, sent_before: float) -> int:
        """Forget finished items older than the keep time."""
        return await self.db.change(
            "DELETE FROM outbox WHERE status NOT IN ('queued', 'sending')"
            " AND created_at < ? AND (sent_at IS NULL OR sent_at < ?)",
            (to_db(before), sent_before),
        )


# A name as a text showed it, and what shows instead once its person is forgotten.
Rename = tuple[str, str]


async def forget_person(
    tx: Transaction,
    person_id: int,
    private_chat: int | None,
    renames_html: Sequence[Rename],
    renames_plain: Sequence[Rename],
) -> None:
    """/forgetme, for what still waits (in the transaction that forgets the person): nothing
    more goes to their private chat; a row that exists for them alone (`subject_id`) is not
    sent; a row that names them (`person_ids`) is re-rendered with each of the forms its text
    named them by (`renames_*`, from bot.texts.naming: HTML for texts, plain for a poll's
    question and options) changed to what names the forgotten person. A row rendered only when
    it goes out (a card edit, a reminder) shows what is stored then, and needs nothing here.
    Rows are found by the ids they carry, not by searching texts. The one in flight at this
    moment (Telegram may have it already) is re-rendered too, for its retry, if it needs one."""
    if private_chat is not None:
        await tx.execute(
            "DELETE FROM outbox WHERE chat_id = ? AND status = 'queued'", (private_chat,)
        )
    await tx.execute("DELETE FROM outbox WHERE subject_id = ? AND status = 'queued'", (person_id,))
    rows = await tx.fetchall(
        "SELECT id, kind, message, person_ids FROM outbox WHERE status IN ('queued', 'sending')"
        " AND EXISTS"
        " (SELECT 1 FROM json_each(outbox.person_ids) WHERE json_each.value = ?)",
        (person_id,),
    )
    for row in rows:
        message = json.loads(row["message"])
        if isinstance(message.get("text"), str):
            message["text"] = _renamed(message["text"], renames_html)
        if isinstance(message.get("caption"), str):
            message["caption"] = _renamed(message["caption"], renames_html)
        if row["kind"] == "poll":
            message["question"] = _renamed(message["question"], renames_plain)
            message["options"] = [_renamed(o, renames_plain) for o in message["options"]]
        people = [p for p in json.loads(row["person_ids"]) if p != person_id]
        await tx.execute(
            "UPDATE outbox SET message = ?, person_ids = ? WHERE id = ?",
            (json.dumps(message, ensure_ascii=False), json.dumps(people), row["id"]),
        )


def _renamed(text: str, renames: Sequence[Rename]) -> str:
    """Each form, longest first, as a whole (an @username in any case: Telegram's handles
    are case-insensitive): "Eve" goes, "Evening" stays."""
    for old, new in sorted(renames, key=lambda pair: -len(pair[0])):
        if old:
            flags = re.IGNORECASE if old.startswith("@") else 0
            pattern = rf"(?<!\w){re.escape(old)}(?!\w)"
            text = re.sub(pattern, new.replace("\\", "\\\\"), text, flags=flags)
    return text


async def _attempt(
    tx: Transaction, where: str, params: tuple[int, ...], at: float, now: datetime
) -> None:
    """An attempt Telegram may have acted on: a row of its own that only spends the budget."""
    await tx.execute(
        "INSERT INTO outbox (chat_id, priority, kind, message, budget, status, created_at,"
        " sent_at) SELECT chat_id, priority, 'attempt', '{}', budget, 'ambiguous', ?, ?"
        f" FROM outbox WHERE budget = 1 AND {where}",
        (to_db(now), at, *params),
    )


def _item(row: Row) -> OutboxItem:
    return OutboxItem(
        id=int(row["id"]),
        chat_id=int(row["chat_id"]),
        priority=int(row["priority"]),
        kind=row["kind"],
        message=row["message"],
        document=row["document"],
        coalesce_key=row["coalesce_key"],
        on_posted=row["on_posted"],
        budget=bool(row["budget"]),
        attempts=int(row["attempts"]),
        network_id=None if row["network_id"] is None else int(row["network_id"]),
    )
