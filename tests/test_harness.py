"""The harness itself: `settle` returns only once what the bot was handed is done, including
what a handler left to the JobQueue at once (the one timer's job due now, an outbox flush)."""

from __future__ import annotations

import asyncio

from tests.harness import Harness


async def test_settle_waits_for_a_job_due_now_and_for_one_still_running(h: Harness) -> None:
    assert h.app is not None and h.app.job_queue is not None
    done: list[str] = []

    async def slow(_: object) -> None:
        await asyncio.sleep(0.05)  # longer than three looks, and than LocalBot's 15 ms
        done.append("slow")

    h.app.job_queue.run_once(slow, when=0)
    await h.settle()
    assert done == ["slow"]
    assert h.jobs_running == 0
