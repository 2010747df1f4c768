"""Benchmark: how long `wiq-bot run` takes to start with many open items, and its memory.

For each count (--items, default 0, 1000 and 10000; 0 gives the floor: Python's start and the
imports, about 1.5 s on a busy two-core machine): a fresh SQLite file with its schema (made
by the code under test), that many open items written into it with plain SQL (bench/seed.py:
rounds, majority votes and revision windows in LTs of 100 items each, deadlines days ahead),
then the real `wiq-bot run` process against the local Bot API over HTTP
(localapi.server.LocalBotApiServer). Figures:

- `startup_s`: from starting the process to its first getUpdates (the deadlines that passed
  are handled, everything is armed, polling begins),
- `startup_work_s`: of that, from its first Bot API call (getMe, just before the start-up
  work) to its first getUpdates: the bot's own start-up without Python's start and imports,
- `open_answer_s`: from a member's /open in one of the LTs' chats (sent right after the
  first getUpdates) to the bot's answer,
- `peak_rss_mib`: the process's peak resident memory (VmHWM) once it has answered.

--code runs another checkout of the bot (its schema and its code; the seed adapts to the
schema), e.g. a worktree of main to measure before a change:

    .venv/bin/python -m bench.startup
    .venv/bin/python -m bench.startup --items 1000 --code /work/wt-due-base
    .venv/bin/python -m bench.startup --database 'postgresql:///wiq_bench?host=/var/run/postgresql'

--database runs it on PostgreSQL (the URL's database: its public schema is dropped and made
afresh for each count, so give it one of its own; the open items are written through this
checkout's storage gateway) or on a SQLite file of that name (removed first).

Figures go to stdout, one `name value` line each (prefixed with the count); progress to
stderr. It asserts nothing."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.digests import fresh
from bench.seed import FIRST_TELEGRAM_ID, MEMBERS_PER_TEAM, seed_open_items, seed_open_items_in
from bot.app import CHARTER_TERMS
from localapi.model import BotApiModel
from localapi.records import CallRecord
from localapi.server import LocalBotApiServer
from storage import Storage
from storage.postgres import is_url

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456789:BENCH-wiq-startup"
NETWORK = "WiQ Bench"

MAKE_SCHEMA = """
import asyncio, sys
from datetime import UTC, datetime
from bot.app import CHARTER_TERMS
from storage import Storage

async def main():
    storage = await Storage.open(sys.argv[1], "WiQ Bench", datetime.now(UTC), CHARTER_TERMS)
    await storage.close()

asyncio.run(main())
"""


def config_text(where: str, base_url: str) -> str:
    """poll_timeout 0: the model records a call when it answers it, and a long poll would add
    its timeout to the first getUpdates."""
    place = f'url = "{where}"' if is_url(where) else f'path = "{where}"'
    return f"""
[telegram]
token = "{TOKEN}"
base_url = "{base_url}"
poll_timeout = 0
[network]
name = "WiQ Bench"
admins = [1]
[storage]
{place}
"""


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def seed_postgres(url: str, count: int, now: datetime) -> list[int]:
    """The open items through this code's storage gateway (the schema is this code's)."""
    storage = await Storage.open(url, NETWORK, now, CHARTER_TERMS)
    try:
        return await seed_open_items_in(storage.db, count, now)
    finally:
        await storage.close()


async def measure(
    count: int, code: Path, wait: float, log: Path | None = None, database: str | None = None
) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(code)}
    env.pop("WIQ_BOT_TOKEN", None)
    with tempfile.TemporaryDirectory() as tmp:
        where = database or str(Path(tmp) / "wiq.sqlite")
        await fresh(where)
        schema = await asyncio.create_subprocess_exec(
            sys.executable, "-c", MAKE_SCHEMA, where, cwd=code, env=env
        )
        if await schema.wait() != 0:
            raise RuntimeError(f"{code}: the schema could not be made")
        began = time.perf_counter()
        if is_url(where):
            team_ids = await seed_postgres(where, max(count, 1), datetime.now(UTC))
        else:
            team_ids = seed_open_items(Path(where), max(count, 1), datetime.now(UTC))
        print(f"seeded {count} open items in {time.perf_counter() - began:.1f} s", file=sys.stderr)
        model = BotApiModel(token=TOKEN, bot_username="wiq_bench_bot")
        # The first LT's chat, with its members, to ask /open in.
        first_person = FIRST_TELEGRAM_ID + 1
        members = [first_person + i for i in range(MEMBERS_PER_TEAM)]
        for user in members:
            model.add_user(user, f"Mitglied {user}")
        chat_id = -1002000000000 - team_ids[0]
        model.add_group(chat_id, "LT", members=members, admins=[], bot_status="administrator")
        first_calls: dict[str, float] = {}

        def first_call(call: CallRecord) -> None:
            first_calls.setdefault(call.method.lower(), time.perf_counter())

        model.call_listeners.append(first_call)
        async with LocalBotApiServer(model) as server:
            config = Path(tmp) / "config.toml"
            config.write_text(config_text(where, server.base_url), encoding="utf-8")
            log_file = log.open("wb") if log else asyncio.subprocess.DEVNULL
            started = time.perf_counter()
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.cli",
                "run",
                "--config",
                str(config),
                *(["--log-level", "DEBUG"] if log else []),
                cwd=code,
                env=env,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=log_file,
            )
            try:
                await model.wait_for_call("getUpdates", timeout=wait)
                startup = time.perf_counter() - started
                work = first_calls["getupdates"] - first_calls["getme"]
                print(f"{count}: first getUpdates after {startup:.2f} s", file=sys.stderr)
                sent = model.send_message(chat_id, members[0], "/open")
                asked = time.perf_counter()
                await model.wait_for_message(chat_id, "#", after=sent["message_id"], timeout=wait)
                answer = time.perf_counter() - asked
                rss = peak_rss_mib(process.pid)
            finally:
                process.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(process.wait(), 60)
                except TimeoutError:
                    process.kill()
                    await process.wait()
    return {
        "startup_s": startup,
        "startup_work_s": work,
        "open_answer_s": answer,
        "peak_rss_mib": rss,
    }


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.startup", description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, nargs="+", default=[0, 1000, 10000])
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout to run")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait at most")
    parser.add_argument("--log", type=Path, help="write the bot's log (at DEBUG) to this file")
    parser.add_argument(
        "--database",
        help="a postgresql:// URL (its public schema is dropped and made afresh for each"
        " count: give it a database of its own) or a SQLite file; default a temporary file",
    )
    args = parser.parse_args(argv)
    print(f"code {args.code.resolve()}")
    backend = "postgresql" if args.database and is_url(args.database) else "sqlite"
    print(f"backend {backend}")
    for count in args.items:
        figures = await measure(count, args.code.resolve(), args.timeout, args.log, args.database)
        for name, value in figures.items():
            print(f"items_{count}_{name} {value:.2f}", flush=True)
    if args.database:
        await fresh(args.database)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
