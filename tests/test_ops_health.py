"""`wiq-bot health` (SPEC §9): 0 while the bot runs and reaches Telegram; 1 with one line
saying what is wrong — a stale heartbeat, a stopped bot, no database, a schema behind."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.ops.health import _judge
from localapi.server import LocalBotApiServer
from storage.db import code_version, to_db
from storage.heartbeats import Beat
from tests.harness import (
    database_at_schema,
    lines_until,
    make_model,
    start_process,
    wiq_bot,
    write_config,
)

FAST = '[health]\ninterval = "1s"\nstale_after = "30s"\n'


async def health(config: Path) -> tuple[int, str]:
    code, out, err = await wiq_bot("health", "--config", str(config))
    assert "Traceback" not in err
    return code, out.strip()


async def test_health_is_0_while_the_bot_runs_and_1_once_its_heartbeat_is_stale(
    tmp_path: Path,
) -> None:
    model = make_model()
    async with LocalBotApiServer(model) as server:
        config = write_config(tmp_path, server.base_url, extra=FAST)
        process = await start_process(config)
        try:
            await lines_until(process, "event=started")
            for _ in range(50):  # the first getUpdates round trip is in the heartbeat
                code, line = await health(config)
                if "Telegram reached" in line:
                    break
                await asyncio.sleep(0.2)
            assert code == 0, line
            assert line.startswith(f"ok: schema {code_version():03d}, heartbeat ")
            assert f"pid {process.pid} on " in line
        finally:
            process.kill()  # kill -9: the last heartbeat stays as it was, not marked stopped
            await process.wait()

    code, line = await health(config)
    assert code == 0  # fresh still: health cannot tell a kill from a moment ago
    # Ten minutes later (the row aged, as time would age it), the heartbeat is stale.
    ago = to_db(datetime.now(UTC) - timedelta(minutes=10))
    with contextlib.closing(sqlite3.connect(tmp_path / "wiq.sqlite")) as db, db:
        db.execute("UPDATE heartbeats SET beat_at = ?, telegram_at = ?", (ago, ago))
    code, line = await health(config)
    assert code == 1
    assert line.startswith("unhealthy: the last heartbeat is 10m old (pid ")
    assert "the bot is not running, or hangs" in line


async def test_health_is_1_without_a_database_or_with_a_schema_behind(tmp_path: Path) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9/bot")
    code, line = await health(config)
    assert (code, line) == (1, f"unhealthy: no database at {tmp_path / 'wiq.sqlite'}")

    database_at_schema(tmp_path / "wiq.sqlite", 12)
    code, line = await health(config)
    assert code == 1
    assert line.startswith(
        f"unhealthy: the database has schema 012, this wiq-bot needs {code_version():03d}"
    )
    assert not (tmp_path / "wiq.sqlite.lock").exists()  # health took nothing


def beat(now: datetime, beat_ago: float, telegram_ago: float | None, stopped: bool) -> Beat:
    return Beat(
        instance="host:42",
        host="host",
        pid=42,
        started_at=now - timedelta(hours=1),
        beat_at=now - timedelta(seconds=beat_ago),
        telegram_at=None if telegram_ago is None else now - timedelta(seconds=telegram_ago),
        stopped_at=now - timedelta(seconds=beat_ago) if stopped else None,
    )


def test_health_tells_a_bot_that_cannot_reach_telegram_from_one_that_stopped() -> None:
    now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    stale = timedelta(minutes=2)
    ok, line = _judge(beat(now, 5, 20, stopped=False), now, stale, 19)
    assert ok and line.startswith("ok: schema 019, heartbeat 5s ago, Telegram reached 20s ago")
    ok, line = _judge(beat(now, 5, 300, stopped=False), now, stale, 19)
    assert not ok and line.startswith("the bot runs (pid 42 on host) but has not reached")
    assert "for 4m" in line  # the beat 5 s ago carried a round trip 4m55s before it
    ok, line = _judge(beat(now, 5, None, stopped=False), now, stale, 19)
    assert not ok and "has not reached Telegram since it started" in line
    ok, line = _judge(beat(now, 60, 70, stopped=True), now, stale, 19)
    assert not ok and line == "the bot stopped at 2026-05-01 11:59:00 UTC (pid 42 on host)"
    ok, line = _judge(None, now, stale, 19)
    assert not ok and line.startswith("no heartbeat")
