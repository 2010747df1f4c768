"""The due work of one network costs the same however many networks the deployment serves
(issue 14, point 5): the SQL statements of the sweep and of a digest run, counted on the
database's connection (sqlite3's trace callback), for one network with T teams and for three
networks with T teams each."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.clock import ManualClock
from tests.harness import ANNA, BERT, CARL, DORA, DecisionSteps, Harness, start_bot

TEAMS = (("PT", ANNA, BERT), ("ST", CARL, DORA), ("KT", ANNA, DORA))  # T = 3 per network
TUESDAY = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)
MONDAY_NINE = datetime(2026, 11, 9, 8, 0, tzinfo=UTC)  # the digests' moment in Berlin
SLACK = 10  # statements the deployment does once, whatever the number of networks


def admin(index: int) -> int:
    return 300 + index


def chat(index: int, team: int) -> int:
    return -1003000000000 - 10 * index - team


def networks_config(count: int) -> str:
    return "".join(
        f'\n[[networks]]\nname = "Netz {index}"\nkey = "n{index}"\nadmins = [{admin(index)}]\n'
        for index in range(count)
    )


async def deployment_of(tmp_path: Path, count: int) -> Harness:
    """`count` networks, each with the teams of TEAMS, each team with a Beschluss and an open
    proposal with one response."""
    h = await start_bot(tmp_path, networks=networks_config(count), start=TUESDAY)
    d = DecisionSteps(h)
    for index in range(count):
        h.model.add_user(admin(index), f"Admin {index}", username=f"admin_{index}")
        for number, (kind, *members) in enumerate(TEAMS):
            chat_id = chat(index, number)
            h.model.add_group(
                chat_id,
                f"{kind} {index}",
                members=list(members),
                admins=[admin(index)],
                bot_status="administrator",
            )
            await h.set_up_team(
                kind, members, chat=chat_id, name=f"{kind} von Netz {index}", by=admin(index)
            )
            first, second = members
            await h.say(chat_id, first, "/vorschlag 1d Ein Beschluss")
            decided = newest_card(h, chat_id)
            await d.press(chat_id, decided, first, "agree")
            await d.press(chat_id, decided, second, "agree")
            await h.say(chat_id, second, "/vorschlag 3d Noch offen")
            await d.press(chat_id, newest_card(h, chat_id), first, "concern")
    return h


def newest_card(h: Harness, chat_id: int) -> int:
    """The number of the proposal whose card the bot sent last in the chat."""
    card = next(m for m in reversed(h.model.bot_messages(chat_id)) if m.reply_markup)
    found = re.search(r"#(\d+)", card.text or "")
    assert found is not None, card.text
    return int(found.group(1))


@asynccontextmanager
async def counting(h: Harness) -> AsyncIterator[list[str]]:
    """The statements run on the database's one connection inside the block."""
    statements: list[str] = []
    connection = h.services.storage.db.conn
    await connection.set_trace_callback(statements.append)
    try:
        yield statements
    finally:
        await connection.set_trace_callback(None)


async def due_work_at(h: Harness, moment: datetime) -> int:
    """The statements of one run of the due work at `moment` (as the timer fires then), and
    of what it sends."""
    assert isinstance(h.clock, ManualClock)
    h.clock.advance((moment - h.clock.now()).total_seconds())
    await h.settle()
    async with counting(h) as statements:
        await h.due_timer.run()
        await h.settle()
    return len(statements)


async def costs(tmp_path: Path, count: int) -> tuple[int, int]:
    """The sweep's statements (nothing due) and the digest run's, for `count` networks."""
    tmp_path.mkdir()  # noqa: ASYNC240 - before the bot runs
    h = await deployment_of(tmp_path, count)
    try:
        sweep = await due_work_at(h, TUESDAY.replace(hour=12))
        await due_work_at(h, MONDAY_NINE - timedelta(minutes=1))  # the rounds' deadlines
        digest = await due_work_at(h, MONDAY_NINE)
        assert sum(1 for text in h.bot_texts(chat(count - 1, 0)) if text.startswith("📅")) == 1
        return sweep, digest
    finally:
        await h.stop()


async def test_the_due_work_per_network_does_not_grow_with_the_networks(tmp_path: Path) -> None:
    sweep_1, digest_1 = await costs(tmp_path / "one", 1)
    sweep_3, digest_3 = await costs(tmp_path / "three", 3)
    print(f"\nstatements: sweep 1 network {sweep_1}, 3 networks {sweep_3};")
    print(f"digest run 1 network {digest_1}, 3 networks {digest_3}")
    assert sweep_3 <= 3 * sweep_1 + SLACK, (sweep_1, sweep_3)
    assert digest_3 <= 3 * digest_1 + SLACK, (digest_1, digest_3)


async def test_the_digest_reads_the_weeks_decisions_by_their_index(tmp_path: Path) -> None:
    """The week's decided proposals are read through `proposals_closed` (migration 028), not
    by a scan of every proposal a network ever had (a year's history: some 50,000)."""
    h = await deployment_of(tmp_path, 1)
    try:
        await due_work_at(h, MONDAY_NINE - timedelta(minutes=1))
        assert isinstance(h.clock, ManualClock)
        h.clock.advance((MONDAY_NINE - h.clock.now()).total_seconds())
        async with counting(h) as statements:
            await h.due_timer.run()
        decided = [s for s in statements if "p.closed_at >=" in s]
        assert decided, "the digest run read the week's decisions"
        conn = h.services.storage.db.conn
        plan = await conn.execute_fetchall("EXPLAIN QUERY PLAN " + decided[0])
        details = " ".join(str(row[-1]) for row in plan)
        assert "proposals_closed" in details, details
    finally:
        await h.stop()
