"""Fixtures: an end-to-end harness per test, on a fresh SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.harness import Harness, make_config, make_model


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    harness = Harness(make_model(), make_config(tmp_path))
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()
