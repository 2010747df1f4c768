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

--workers N (one or more counts, e.g. `--workers 1 3`) starts, instead of the one polling
process, N real `wiq-bot run` processes at once in webhook mode on the one database
(`[webhook] workers_share_database = true`, each its own config differing only in its port),
behind a small round-robin proxy (bench.http_presses.round_robin) that the local Bot API posts
to. Figures for each count (prefixed `workers_N_`):

- `worker<i>_ready_s`: from starting the processes to worker i's `event=webhook_serving` (its
  start-up work done: from then on it takes updates), `all_ready_s` the last of them,
- `getme_first_s`, `getme_last_s`: from starting them to the first and the last worker's getMe
  (Python's start, the imports and the config done; the start-up work begins),
- `open_answer_s`: from the member's /open (sent once all take updates; any worker may get
  it) to the bot's answer,
- `worker<i>_peak_rss_mib` and `peak_rss_sum_mib`.

--code runs another checkout of the bot (its schema and its code; the seed adapts to the
schema), e.g. a worktree of main to measure before a change:

    .venv/bin/python -m bench.startup
    .venv/bin/python -m bench.startup --items 1000 --code /work/wt-due-base
    .venv/bin/python -m bench.startup --database 'postgresql:///wiq_bench?host=/var/run/postgresql'
    .venv/bin/python -m bench.startup --items 10000 --workers 1 3

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
from bench.http_presses import PATH as HOOK_PATH
from bench.http_presses import SECRET as HOOK_SECRET
from bench.http_presses import Workers, free_port, round_robin
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


def worker_text(where: str, base_url: str, proxy: int, port: int) -> str:
    """One worker's config: the one above with a webhook at the proxy and its own port."""
    return config_text(where, base_url) + (
        f'[webhook]\nurl = "http://127.0.0.1:{proxy}{HOOK_PATH}"\nport = {port}\n'
        f'secret_token = "{HOOK_SECRET}"\nworkers_share_database = true\n'
    )


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


async def seeded(count: int, code: Path, where: str) -> tuple[BotApiModel, int, list[int]]:
    """The database at `where` afresh, its schema made by `code`, `count` open items in it;
    the model with the first LT's chat and members: (model, chat, members)."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    env.pop("WIQ_BOT_TOKEN", None)
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
    return model, chat_id, members


async def measure_workers(
    count: int,
    workers: int,
    code: Path,
    wait: float,
    log: Path | None = None,
    database: str | None = None,
) -> dict[str, float]:
    """`workers` webhook workers started at once on one database with `count` open items."""
    with tempfile.TemporaryDirectory() as tmp:
        where = database or str(Path(tmp) / "wiq.sqlite")
        model, chat_id, members = await seeded(count, code, where)
        figures: dict[str, float] = {}
        getme: list[float] = []

        def on_call(call: CallRecord) -> None:
            if call.method.lower() == "getme":
                getme.append(time.monotonic())

        model.call_listeners.append(on_call)
        async with LocalBotApiServer(model) as server:
            ports = [free_port() for _ in range(workers)]
            async with round_robin(ports) as proxy:
                commands, logs = [], []
                for index, port in enumerate(ports):
                    config = Path(tmp) / f"worker{index}.toml"
                    config.write_text(
                        worker_text(where, server.base_url, proxy.port, port), encoding="utf-8"
                    )
                    commands.append(["-m", "bot.cli", "run", "--config", str(config)])
                    name = f"{log.name}.worker{index}" if log else f"worker{index}.log"
                    logs.append((log.parent if log else Path(tmp)) / name)
                group = Workers(code=code)
                try:
                    started = time.monotonic()
                    ready = await group.start(commands, logs, "event=webhook_serving", wait)
                    figures["getme_first_s"] = getme[0] - started
                    figures["getme_last_s"] = getme[min(workers, len(getme)) - 1] - started
                    for index, seconds in enumerate(ready):
                        figures[f"worker{index}_ready_s"] = seconds
                    figures["all_ready_s"] = max(ready)
                    print(
                        f"{count}: {workers} worker(s) take updates after {max(ready):.2f} s",
                        file=sys.stderr,
                    )
                    sent = model.send_message(chat_id, members[0], "/open")
                    asked = time.perf_counter()
                    await model.wait_for_message(
                        chat_id, "#", after=sent["message_id"], timeout=wait
                    )
                    figures["open_answer_s"] = time.perf_counter() - asked
                    rss = [peak_rss_mib(pid) for pid in group.pids]
                    for index, mib in enumerate(rss):
                        figures[f"worker{index}_peak_rss_mib"] = mib
                    figures["peak_rss_sum_mib"] = sum(rss)
                finally:
                    codes = await group.stop()
                if any(code != 0 for code in codes):
                    print(f"workers ended with {codes}; logs: {logs}", file=sys.stderr)
    return figures


async def measure(
    count: int, code: Path, wait: float, log: Path | None = None, database: str | None = None
) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(code)}
    env.pop("WIQ_BOT_TOKEN", None)
    with tempfile.TemporaryDirectory() as tmp:
        where = database or str(Path(tmp) / "wiq.sqlite")
        model, chat_id, members = await seeded(count, code, where)
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
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        help="instead of one polling process: that many webhook workers sharing the database"
        " (several counts: each in turn)",
    )
    args = parser.parse_args(argv)
    print(f"code {args.code.resolve()}")
    backend = "postgresql" if args.database and is_url(args.database) else "sqlite"
    print(f"backend {backend}")
    print(f"cpus {os.cpu_count()}")
    for count in args.items:
        code = args.code.resolve()
        runs = [(f"items_{count}_", None)] if not args.workers else []
        runs += [(f"items_{count}_workers_{n}_", n) for n in args.workers or []]
        for prefix, workers in runs:
            print(f"{prefix}load_avg_1m_before {os.getloadavg()[0]:.2f}", flush=True)
            if workers is None:
                figures = await measure(count, code, args.timeout, args.log, args.database)
            else:
                figures = await measure_workers(
                    count, workers, code, args.timeout, args.log, args.database
                )
            for name, value in figures.items():
                print(f"{prefix}{name} {value:.2f}", flush=True)
    if args.database:
        await fresh(args.database)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
