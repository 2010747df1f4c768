"""Fixtures: an end-to-end harness per test, on a fresh SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.harness import (
    DecisionSteps,
    Harness,
    make_config,
    make_model,
    start_net,
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
    h = await start_net(tmp_path)
    try:
        yield h, DecisionSteps(h)
    finally:
        await h.stop()
