"""Due work in the database, one timer: start-up and the timer's runs cost what is due, not
what is open (bench/startup.py measures it)."""

from __future__ import annotations

import asyncio

from bench.seed import seed_open_items
from tests.harness import ANNA, ST, Harness, Teams

HOUR = 3600


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
