"""Fixtures: the bot on a fresh database per test, without a team (`h`), with the teams a
test sets up (`team`), or with the network most end-to-end tests start from (`net`).

The backends: every storage and end-to-end test (BOTH_BACKENDS, or marked `both_backends`)
runs on SQLite, and with
WIQ_TEST_POSTGRES_URL set on PostgreSQL too, as `test_x[sqlite]` and `test_x[postgres]`;
without it the PostgreSQL half is left out with one line at the end. A test about SQLite
itself (its files, its migrations from 001) is marked `sqlite_only`. With CI=true a
PostgreSQL that cannot be reached fails the run."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import harness
from tests.harness import DecisionSteps, Harness, Teams, make_config, make_model

# The modules whose tests run on both backends: the storage tests and the end-to-end tests.
BOTH_BACKENDS = {
    "test_storage",
    "test_unit_of_work",
    "test_inbox",
    "test_outbox",
    "test_due_work",
    "test_hostile_updates",
    "test_unreadable_updates",
    "test_port",
    "test_everyone_responded_property",
    "test_metrics",
}
# `pytest_generate_tests` parametrizes the tests of these modules that use the autouse
# `backend` fixture (all of them); tests/test_postgres.py checks the list against the files.

_state: dict[str, Any] = {"url": None, "why_not": None, "left_out": 0, "reset": None}


def _runs_on_both(module_name: str) -> bool:
    name = module_name.rsplit(".", 1)[-1]
    return name.startswith("test_e2e_") or name in BOTH_BACKENDS


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only: a test about SQLite itself, not run on PostgreSQL"
    )
    config.addinivalue_line(
        "markers", "postgres_only: a test of PostgreSQL's own (its tools, the copy to it)"
    )
    config.addinivalue_line(
        "markers", "both_backends: a test outside BOTH_BACKENDS that runs on both as well"
    )
    url = os.environ.get(harness.POSTGRES_URL_ENV, "").strip()
    if not url:
        _state["why_not"] = f"{harness.POSTGRES_URL_ENV} is not set"
        return
    problem = asyncio.run(_prepare_postgres(url))
    if problem is None:
        _state["url"] = url
        return
    if os.environ.get("CI", "").lower() == "true":
        raise pytest.UsageError(
            f"CI=true: the PostgreSQL of {harness.POSTGRES_URL_ENV} cannot be used: {problem}"
        )
    _state["why_not"] = f"the PostgreSQL of {harness.POSTGRES_URL_ENV} cannot be used: {problem}"


async def _prepare_postgres(url: str) -> str | None:
    """Bring the test database to the current schema once, and write the statement that
    empties it before each test. None, or why it cannot be used."""
    import asyncpg

    from storage.db import Database

    try:
        db = Database(url)
        await db.open()
        await db.close()
        conn = await asyncpg.connect(url)
        try:
            rows = await conn.fetch(
                "SELECT c.relname, array_remove(array_agg(DISTINCT f.relname), NULL)"
                " FROM pg_class c LEFT JOIN pg_constraint k ON k.conrelid = c.oid"
                " AND k.contype = 'f' LEFT JOIN pg_class f ON f.oid = k.confrelid"
                " WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace"
                " AND c.relname != 'schema_migrations' GROUP BY c.relname"
            )
        finally:
            await conn.close()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    # DELETE, each table before those it refers to: for the few rows a test leaves, much
    # faster than TRUNCATE (which makes every table's files anew). The record's guard is off
    # for this one transaction only.
    needs = {str(row[0]): set(row[1]) - {row[0]} for row in rows}
    order: list[str] = []
    while needs:
        ready = sorted(table for table, refs in needs.items() if refs <= set(order))
        assert ready, f"foreign keys in a circle: {sorted(needs)}"
        for table in ready:
            order.append(table)
            del needs[table]
    deletes = " ".join(f'DELETE FROM "{table}";' for table in reversed(order))
    _state["reset"] = (
        "BEGIN; ALTER TABLE events DISABLE TRIGGER events_append_only_delete; "
        f"{deletes} ALTER TABLE events ENABLE TRIGGER events_append_only_delete;"
        " ALTER TABLE vote_polls ALTER COLUMN rowid RESTART; COMMIT;"
    )
    return None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    definition = metafunc.definition
    on_both = _runs_on_both(metafunc.module.__name__) or definition.get_closest_marker(
        "both_backends"
    )
    if "backend" not in metafunc.fixturenames or not on_both:
        return
    if definition.get_closest_marker("sqlite_only") or definition.get_closest_marker(
        "postgres_only"
    ):
        return
    if _state["url"] is None:
        _state["left_out"] += 1
        return
    metafunc.parametrize("backend", ["sqlite", "postgres"], indirect=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _state["url"] is not None:
        return
    left = [item for item in items if item.get_closest_marker("postgres_only")]
    if left:
        _state["left_out"] += len(left)
        items[:] = [item for item in items if not item.get_closest_marker("postgres_only")]
        config.hook.pytest_deselected(items=left)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _state["url"] is None and _state["left_out"]:
        terminalreporter.write_line(
            f"PostgreSQL half skipped ({_state['why_not']}): {_state['left_out']} storage and"
            " end-to-end tests ran on SQLite only"
        )


@pytest.fixture(autouse=True)
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """ "sqlite", or "postgres": the test database emptied (its schema kept) and the harness
    pointed at it for this test."""
    which = getattr(request, "param", "sqlite")
    if which != "postgres":
        yield which
        return
    url = _state["url"]
    asyncio.run(_empty(url))
    harness.use_postgres(url)
    try:
        yield which
    finally:
        harness.use_postgres(None)


async def _empty(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(_state["reset"])
    finally:
        await conn.close()


@pytest.fixture
def pg_url() -> str:
    """The PostgreSQL test database, emptied (its schema kept), for a postgres_only test."""
    url = _state["url"]
    assert url is not None, "a postgres_only test runs only with WIQ_TEST_POSTGRES_URL"
    asyncio.run(_empty(url))
    return str(url)


@pytest.fixture
def database(tmp_path: Path, backend: str) -> Iterator[Path | str]:
    """The test's database: tmp_path/wiq.sqlite, or the PostgreSQL test database."""
    yield harness.database_at(tmp_path)


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    """The bot as configured by default (real clock, default policy) without a team; the
    tests of /setup and /admit themselves set one up with `h.set_up_team`."""
    harness_ = Harness(make_model(), make_config(tmp_path))
    await harness_.start()
    try:
        yield harness_
    finally:
        await harness_.stop()


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
