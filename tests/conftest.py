"""Fixtures: an end-to-end harness per test, on a fresh SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import ManualClock
from tests.harness import (
    ADMIN,
    ANNA,
    BERT,
    CARL,
    DORA,
    EVE,
    NEWBIE,
    OUTSIDER,
    PT,
    ST,
    UT,
    DecisionSteps,
    Harness,
    make_config,
    make_model,
)


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    harness = Harness(make_model(), make_config(tmp_path))
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()


@pytest.fixture
async def net(tmp_path: Path) -> AsyncIterator[tuple[Harness, DecisionSteps]]:
    """PT: Anna, Bert. ST: Carl, Dora. A UT with nobody yet. Eve is the candidate."""
    clock = ManualClock()
    config = make_config(tmp_path, extra='[policy]\nmin_deadline = "1s"\n')
    model = make_model(clock=clock.monotonic)
    model.group_limit_per_minute = None
    model.users[CARL].username = "carl_x"
    model.add_user(NEWBIE, "Nele", username="nele_neu")
    model.add_user(OUTSIDER, "Otto", username="otto")
    model.add_group(UT, "UT", members=[], admins=[ADMIN], bot_status="administrator")
    h = Harness(model, config, clock=clock)
    await h.start()
    await h.bind(PT, "PT", "Projektteam")
    await h.bind(ST, "ST", "Steuerungsteam")
    await h.bind(UT, "UT", "Unterstützungsteam")
    for user in (ANNA, BERT, CARL, DORA, EVE):
        h.model.send_message(PT, user, "Hallo")
    await h.settle()
    for username in ("anna", "bert"):
        await h.admit(PT, username)
    for username in ("carl_x", "dora"):
        await h.admit(ST, username, "zivilgesellschaft")
    try:
        yield h, DecisionSteps(h)
    finally:
        await h.stop()
