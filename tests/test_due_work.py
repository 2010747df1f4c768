"""Due work in the database, one timer: start-up and the timer's runs cost what is due, not
what is open (bench/startup.py measures it)."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from bench.seed import seed_open_items
from tests.harness import ANNA, ST, Harness, Teams
from tests.test_e2e_reminders import reminders

HOUR = 3600


@pytest.mark.sqlite_only  # the file as an older wiq-bot left it
async def test_with_ten_thousand_open_items_the_bot_starts_closes_what_is_due_and_answers(
    team: Teams,
) -> None:
    h, _ = await team("ST")
    await h.say(ST, ANNA, "/propose 1h Ein Fest im Park")
    await h.say(ST, ANNA, "/propose 3d Ein Bücherschrank")
    await h.stop()
    # Ten thousand open rounds, votes and revision windows of 100 LTs, written into the
    # bot's SQLite file while it is down; meanwhile the ST's first round runs out.
    seed_open_items(h.config.storage_path, 10_000, h.clock.now())
    h.clock.advance(2 * HOUR)

    again = Harness(h.model, h.config, clock=h.clock)
    # Today it starts in well under a second; before the one timer it took minutes.
    await asyncio.wait_for(again.start(), timeout=60)
    try:
        await again.settle()
        results = [t for t in again.bot_texts(ST) if "Ergebnis Runde 1" in t]
        assert len(results) == 1 and "#1" in results[0]  # the round due meanwhile, once
        reply = await again.say(ST, ANNA, "/open")
        assert reply is not None and reply.text is not None
        lines = [line for line in reply.text.splitlines() if line.startswith("• ")]
        assert len(lines) == 2  # the ST's own, none of the LTs'
        assert "#1" in lines[0] and "Überarbeitung" in lines[0]
        assert "#2" in lines[1] and "Runde 1" in lines[1]
    finally:
        await again.stop()


def as_before_the_one_timer(db_path: Path) -> None:
    """The file as the bot wrote it before migration 016: no due moments stored."""
    conn = sqlite3.connect(db_path)
    try:
        indexes = (
            "proposals_due",
            "rounds_remind",
            "votes_remind",
            "rounds_without_card",
            "rounds_unannounced",
            "vote_polls_vote",
            "votes_unannounced",
            "proposals_effects_pending",
            "elections_unfinished",
        )
        for name in indexes:
            conn.execute(f"DROP INDEX {name}")
        conn.execute("ALTER TABLE proposals DROP COLUMN due_at")
        for table in ("rounds", "votes", "elections"):
            conn.execute(f"ALTER TABLE {table} DROP COLUMN remind_at")
        conn.execute("DELETE FROM schema_migrations WHERE version = 16")
        conn.commit()
    finally:
        conn.close()


@pytest.mark.sqlite_only  # the file as an older wiq-bot left it
async def test_a_round_opened_before_the_upgrade_is_reminded_once_and_closes_on_time(
    team: Teams,
) -> None:
    h, d = await team("ST")  # policy default: reminder 24 h before the close
    await h.say(ST, ANNA, "/propose 3d Neues Logo")
    await d.press(ST, 1, ANNA, "agree")
    await h.stop()
    as_before_the_one_timer(h.config.storage_path)

    again = Harness(h.model, h.config, clock=h.clock)
    await again.start()  # migration 016 gives the open round its moments
    try:
        await again.due(2 * 24 * HOUR - 60)  # a minute before the reminder
        assert reminders(again) == []
        await again.due(61)
        [reminder] = reminders(again)
        assert "#1" in (reminder.text or "") and "Neues Logo" in (reminder.text or "")
        await again.due(24 * HOUR - 120)  # just before the deadline
        assert not [t for t in again.bot_texts(ST) if "Ergebnis Runde 1" in t]
        await again.due(120)
        assert len([t for t in again.bot_texts(ST) if "Ergebnis Runde 1" in t]) == 1
        assert len(reminders(again)) == 1
    finally:
        await again.stop()


async def test_a_round_opened_while_the_timer_sleeps_wakes_it(team: Teams) -> None:
    """The timer sleeps until the next moment (or a minute); a round opened meanwhile with an
    earlier deadline moves it earlier."""
    h, _ = await team("ST")
    timer = h.due_timer
    await h.say(ST, ANNA, "/propose 3d Neues Logo")
    assert await timer.next_moment() == h.clock.now() + timedelta(days=2)  # its reminder
    await h.say(ST, ANNA, "/propose 1h Kurz")
    assert await timer.next_moment() == h.clock.now() + timedelta(minutes=30)  # its reminder
