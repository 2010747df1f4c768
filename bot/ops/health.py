"""Is the bot alive (SPEC §9)? The running bot's heartbeat, and `wiq-bot health`, which reads it.

The running bot writes a heartbeat (storage/heartbeats.py, one row per instance) every
`[health] interval` from a JobQueue job — so a beat means its event loop turns — carrying the
end of its last getUpdates round trip (`Heartbeat.request` wraps the request getUpdates goes
through), so that `health` can tell a bot that runs but cannot reach Telegram from one that
does not run at all. `wiq-bot health` exits 0 when the database opens, its schema is the
code's and the heartbeat is fresh (both ages within `[health] stale_after`), else 1 with one
line saying which; and it warns when a file beside the database is readable by others."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram.ext import Application
from telegram.request import BaseRequest

from bot.clock import Clock
from bot.config import Config
from bot.ops.database import loose_files
from bot.telegram_side.request_around import RequestAround
from bot.texts import dates
from storage.db import Database, DatabaseError, code_version
from storage.heartbeats import Beat, Heartbeats

log = logging.getLogger(__name__)

EXIT_HEALTHY = 0
EXIT_UNHEALTHY = 1  # Docker's HEALTHCHECK and systemd read every other code as a failure too
KEEP_GONE = timedelta(days=7)  # rows of instances gone this long are removed at a start


class Heartbeat:
    """The heartbeat of this process. `request` wraps the request that getUpdates goes
    through; `start` begins the beats once the database is open and polling began; `stopped`
    notes a clean stop. `on_token_rejected` is called when getUpdates is refused with 401 (the
    token was revoked while the bot ran)."""

    def __init__(
        self,
        clock: Clock,
        interval: timedelta,
        on_token_rejected: Callable[[], None],
        *,
        remove_on_stop: bool = False,
    ) -> None:
        self.clock = clock
        # One of several webhook workers: a clean stop removes its row (the others' rows say
        # whether the bot runs); one bot notes the stop, which `health` then reports.
        self.remove_on_stop = remove_on_stop
        self.interval = interval
        self.on_token_rejected = on_token_rejected
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.instance = f"{self.host}:{self.pid}"
        self.started_at = clock.now()
        self.telegram_at: datetime | None = None
        self.unreachable_since: datetime | None = None
        self._store: Heartbeats | None = None
        self._soon: asyncio.Task[None] | None = None

    def request(self, inner: BaseRequest) -> BaseRequest:
        return _RoundTrips(inner, self)

    def answered(self, status: int) -> None:
        """A getUpdates round trip ended with this HTTP status."""
        if status == 200:
            first = self.telegram_at is None
            self.telegram_at = self.clock.now()
            if self.unreachable_since is not None:
                log.info(
                    "event=telegram_reachable_again after=%ds",
                    (self.telegram_at - self.unreachable_since).total_seconds(),
                )
                self.unreachable_since = None
                first = True
            if first:
                # The first round trip (or the first after an outage) is news for `health`
                # at once, not at the next beat.
                self._soon = asyncio.get_running_loop().create_task(self.beat())

    def failed(self) -> None:
        """A getUpdates request did not reach Telegram (python-telegram-bot retries it)."""
        if self.unreachable_since is None:
            self.unreachable_since = self.clock.now()

    async def start(
        self, application: Application[Any, Any, Any, Any, Any, Any], db: Database
    ) -> None:
        self._store = Heartbeats(db)
        await self._store.forget_before(self.clock.now() - KEEP_GONE)
        await self.beat()
        assert application.job_queue is not None
        application.job_queue.run_repeating(
            self._job,
            interval=self.interval,
            first=self.interval,
            name="heartbeat",
            job_kwargs={"misfire_grace_time": None, "coalesce": True},
        )

    async def _job(self, _: object) -> None:
        await self.beat()

    async def beat(self) -> None:
        if self._store is None:
            return
        await self._store.beat(
            Beat(
                instance=self.instance,
                host=self.host,
                pid=self.pid,
                started_at=self.started_at,
                beat_at=self.clock.now(),
                telegram_at=self.telegram_at,
                stopped_at=None,
            )
        )

    async def stopped(self) -> None:
        if self._soon is not None and not self._soon.done():
            await asyncio.wait([self._soon])
        if self._store is not None:
            if self.remove_on_stop:
                await self._store.remove(self.instance)
            else:
                await self._store.stopped(self.instance, self.clock.now())


_NO_UPDATES = b'{"ok": true, "result": []}'


class _RoundTrips(RequestAround):
    """Around the request getUpdates goes through: tells the heartbeat how each ended."""

    def __init__(self, inner: BaseRequest, heartbeat: Heartbeat) -> None:
        super().__init__(inner)
        self.heartbeat = heartbeat

    def failed(self) -> None:
        self.heartbeat.failed()

    async def answered(self, url: str, status: int, payload: bytes) -> tuple[int, bytes]:
        if url.endswith("/getUpdates"):
            if status == 401:
                # The token was revoked: the bot stops (one line). python-telegram-bot gets an
                # empty answer instead, so that its polling (and the last getUpdates of its
                # stop) ends quietly rather than with tracebacks of the same news.
                self.heartbeat.on_token_rejected()
                return 200, _NO_UPDATES
            self.heartbeat.answered(status)
        return status, payload


# -- wiq-bot health ------------------------------------------------------------------------


def _age(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h"


def _at(moment: datetime) -> str:
    return dates.utc(moment, seconds=True)


def check(config: Config) -> int:
    """`wiq-bot health`: warnings (stderr) for files more open than 0600, then one line."""
    database = config.storage_path
    if database is not None:
        for path, mode in loose_files(database):
            print(
                f"wiq-bot: warning: {path} has mode {mode:04o}: others may read it"
                f" (chmod 600 {path})",
                file=sys.stderr,
            )
    if database is None or database.is_file():
        ok, line = asyncio.run(verdict(config, datetime.now(UTC)))
    else:
        ok, line = False, f"no database at {database}"
    print(line if ok else f"unhealthy: {line}", flush=True)
    return EXIT_HEALTHY if ok else EXIT_UNHEALTHY


async def verdict(config: Config, now: datetime) -> tuple[bool, str]:
    """The judgement of `wiq-bot health` (and of `GET /healthz` in webhook mode)."""
    db = Database(config.database)
    try:
        await db.open(readonly=True)
        applied = await db.applied_versions()
        schema, known = max(applied, default=0), code_version()
        if schema != known:
            if schema > known:
                return False, f"the database has schema {schema:03d}, newer than this wiq-bot's"
            return False, (
                f"the database has schema {schema:03d}, this wiq-bot needs {known:03d}"
                " (`wiq-bot migrate` applies the rest; `run` does at its start)"
            )
        beats = await Heartbeats(db).every()
    except (*DatabaseError, OSError) as exc:
        return False, f"the database {config.database_where} cannot be read: {exc}"
    finally:
        await db.close()
    running = [beat for beat in beats if beat.stopped_at is None]
    if len(running) > 1:
        return _judge_workers(running, now, config.health.stale_after, schema)
    if running:
        return _judge(running[0], now, config.health.stale_after, schema)
    latest = max(beats, key=lambda beat: beat.beat_at, default=None)
    return _judge(latest, now, config.health.stale_after, schema)


def _judge_workers(
    beats: list[Beat], now: datetime, stale_after: timedelta, schema: int
) -> tuple[bool, str]:
    """Several workers (SPEC §9): healthy while at least one is; one line per worker after
    the verdict (a killed worker's row stays, stale, until a week has passed)."""
    judged = [(beat, *_judge(beat, now, stale_after, schema)) for beat in beats]
    fresh = sum(1 for _, ok, _ in judged if ok)
    lines = [
        f"ok: schema {schema:03d}, {fresh} of {len(beats)} workers fresh"
        if fresh
        else f"none of {len(beats)} workers is fresh"
    ]
    for beat, ok, line in judged:
        lines.append(f"  worker {beat.instance}: {line if ok else 'unhealthy: ' + line}")
    return fresh > 0, "\n".join(lines)


def _judge(
    beat: Beat | None, now: datetime, stale_after: timedelta, schema: int
) -> tuple[bool, str]:
    if beat is None:
        return (
            False,
            "no heartbeat: the bot has not run on this database since it was created or restored",
        )
    who = f"pid {beat.pid} on {beat.host}"
    if beat.stopped_at is not None:
        return False, f"the bot stopped at {_at(beat.stopped_at)} ({who})"
    beat_age = now - beat.beat_at
    if beat_age > stale_after:
        return False, (
            f"the last heartbeat is {_age(beat_age)} old ({who}, at {_at(beat.beat_at)};"
            f" stale after {_age(stale_after)}): the bot is not running, or hangs"
        )
    reached = beat.telegram_at or beat.started_at
    telegram_age = beat.beat_at - reached
    if telegram_age > stale_after:
        since = "since it started" if beat.telegram_at is None else f"for {_age(telegram_age)}"
        return False, (
            f"the bot runs ({who}) but has not reached Telegram {since}"
            f" (last answer from Telegram: {_at(reached) if beat.telegram_at else 'none'})"
        )
    telegram = (
        "no getUpdates round trip yet"
        if beat.telegram_at is None
        else f"Telegram reached {_age(now - beat.telegram_at)} ago"
    )
    return True, (
        f"ok: schema {schema:03d}, heartbeat {_age(beat_age)} ago, {telegram}"
        f" ({who}, up since {_at(beat.started_at)})"
    )
