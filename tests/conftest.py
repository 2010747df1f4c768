"""Fixtures: the bot on a fresh SQLite file per test, without a team (`h`), with the teams a
test sets up (`team`), or with the network most end-to-end tests start from (`net`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.harness import DecisionSteps, Harness, Teams, make_config, make_model


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    """The bot as configured by default (real clock, default policy) without a team; the
    tests of /setup and /admit themselves set one up with `h.set_up_team`."""
    harness = Harness(make_model(), make_config(tmp_path))
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()


@pytest.fixture
async def team(tmp_path: Path) -> AsyncIterator[Teams]:
    """Sets up a team: `h, d = await team("ST")` is the ST with Anna, Bert, Carl and Dora;
    `await team("LT", members=(ANNA, BERT), name="Garten")` adds an LT to the same network.
    The bot stops at the end of the test."""
    teams = Teams(tmp_path)
    try:
        yield teams
    finally:
        await teams.stop()


@pytest.fixture
async def net(team: Teams) -> tuple[Harness, DecisionSteps]:
    """PT: Anna, Bert. ST: Carl, Dora. A UT with nobody yet. Eve is the candidate."""
    return await team.network()
