"""Benchmark: presses per second over HTTP with several webhook workers, beside a floor.

For each worker count (--workers, default 1 2 4): a fresh database (--database: a
postgresql:// URL, its public schema dropped and made afresh, or by default a temporary
SQLite file), the local Bot API over real HTTP (localapi.server.LocalBotApiServer), a small
round-robin reverse proxy in front of N real `wiq-bot run` processes in webhook mode, each
with its own config differing only in its port (`[webhook] workers_share_database = true`;
--single-worker plain runs the one worker without it). The network admin binds the team
(/setup), an electorate of 500 is put on its roster through storage, --cards members propose
(the cards are posted by the workers), then the members but the last press the cards —
Zustimmung and Enthaltung, so no reason is asked, changing their minds --presses-per-member
times — with --window presses in flight (a new press as soon as one is answered; bench.votes'
closed_loop and Scene). The first --warmup presses are not counted.

The model posts the webhook as Telegram does: one update at a time (the bot asks for
`max_connections=1`), the next once the last was answered 200 — and a worker answers 200
once the update is stored in the inbox (with its person and worker), before it is handled.
So the posting is one line, and N workers share the handling behind it.

The floor, in the same run and over the same transport: bench.floor's minimal Application
(decode the press, one upsert, answer it) as --floor-workers processes behind the same kind of
proxy, fed by the same model's webhook, storing on the same backend (a one-table SQLite file,
or the same PostgreSQL database). `ratio_N_over_floor` is the bot's presses per second with N
workers over the floor's (with one floor process).

Checks, for the bot and the floor: every press got exactly one answer (the "recorded" one),
and the stored responses equal each member's last press on each card.

CPU accounting over the counted presses (utime + stime from /proc): each worker, the sum of
the workers, this process (the model, its HTTP server, the proxy and the driver), the
PostgreSQL backends of the database, and the whole machine's busy time (/proc/stat; other
people's work on a shared machine shows up there), each in seconds and per press, beside the
wall time: on 2 cores, `cpu_busy_share` near 1.0 means the machine was saturated. The proxy
times each post (`webhook_post_p50_ms`, and `webhook_line_busy_share`: their sum over the
wall time — near 1.0, the one line of posts is what bounds the rate). On PostgreSQL the
workers' backends are sampled (`pg_backends_active_avg`, `_waiting_lock_avg`: waiting for the
transaction advisory lock that orders the workers' writes, `_idle_in_transaction_avg`: a
worker's Python inside its transaction). --repeat runs everything again, interleaved, and
reports the medians.

    .venv/bin/python -m bench.http_presses --database 'postgresql:///wiq_b?host=/var/run/postgresql'
    .venv/bin/python -m bench.http_presses --workers 1 2   # SQLite, a temporary file
    .venv/bin/python -m bench.http_presses --workers 1 --floor-workers 1 2 4

Figures go to stdout, one `name value` line each; progress to stderr; the workers' logs to
--logs (default: a temporary directory, removed). It asserts nothing."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import aiosqlite
import asyncpg
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update

from bench.digests import fresh
from bench.floor import BUTTONS, DB, SCHEMA, Floor
from bench.votes import (
    ADMIN,
    CODES,
    GROUP,
    LANG,
    TOKEN,
    Card,
    Member,
    Press,
    Scene,
    closed_loop,
    figure,
    latencies_ms,
    mind_changes,
    percentile,
    progress,
)
from bot.app import CHARTER_TERMS
from localapi.model import BotApiModel
from localapi.proxy import Proxy, free_port, round_robin
from localapi.records import MessageRec
from localapi.server import LocalBotApiServer
from storage import Storage
from storage.postgres import is_url

ROOT = Path(__file__).resolve().parent.parent
NETWORK = "WiQ Bench"
PATH = "/wiq/telegram"
SECRET = "bench-http_presses"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
TICK = os.sysconf("SC_CLK_TCK")


# -- the proxy -----------------------------------------------------------------------------


# -- CPU accounting ------------------------------------------------------------------------


def cpu_of(pid: int) -> float:
    """A process's CPU seconds so far (user + system); 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def machine_busy() -> float:
    """CPU seconds the whole machine was busy so far (all cores; not idle, not iowait)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / TICK


def peak_rss_mib(pid: int) -> float:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def pg_backends(where: str) -> tuple[list[int], int]:
    """The PostgreSQL backends connected to the database (the bench's own one excluded), and
    the transactions committed in it so far (pg_stat_database: flushed within a second)."""
    if not is_url(where):
        return [], 0
    conn = await asyncpg.connect(where)
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        )
        commits = await conn.fetchval(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
        )
    finally:
        await conn.close()
    return [int(row["pid"]) for row in rows], int(commits or 0)


@dataclass
class Cpu:
    """CPU seconds at one moment: per worker, this process, the database's backends."""

    at: float
    workers: list[float]
    own: float
    backends: dict[int, float]
    machine: float
    commits: int

    @classmethod
    async def now(cls, pids: list[int], where: str) -> Cpu:
        at = time.monotonic()
        workers = [cpu_of(pid) for pid in pids]
        times = os.times()
        machine = machine_busy()
        found, commits = await pg_backends(where)
        backends = {pid: cpu_of(pid) for pid in found}
        return cls(at, workers, times.user + times.system, backends, machine, commits)


@contextlib.asynccontextmanager
async def backend_states(where: str, every: float = 0.02) -> AsyncIterator[dict[str, float]]:
    """On PostgreSQL, while inside: how many of the database's backends (the workers'
    connections) are, on average, running a statement, waiting for a lock (a transaction's
    advisory lock, what orders the workers' writes), or idle inside a transaction (its
    worker's Python between two statements, holding what it took) — pg_stat_activity every
    `every` seconds. The averages are in the dict once the block is left."""
    averages: dict[str, float] = {}
    if not is_url(where):
        yield averages
        return
    conn = await asyncpg.connect(where)
    counts: dict[str, int] = {"active": 0, "waiting_lock": 0, "idle_in_transaction": 0}
    samples = 0
    sql = (
        "SELECT state, wait_event_type FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        " AND backend_type = 'client backend'"
    )

    async def sample() -> None:
        nonlocal samples
        while True:
            for row in await conn.fetch(sql):
                if row["wait_event_type"] == "Lock":
                    counts["waiting_lock"] += 1
                elif row["state"] == "active":
                    counts["active"] += 1
                elif row["state"] == "idle in transaction":
                    counts["idle_in_transaction"] += 1
            samples += 1
            await asyncio.sleep(every)

    task = asyncio.get_running_loop().create_task(sample())
    try:
        yield averages
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await conn.close()
        for name, count in counts.items():
            averages[f"pg_backends_{name}_avg"] = count / max(samples, 1)


def cpu_figures(prefix: str, before: Cpu, after: Cpu, presses: int) -> dict[str, float]:
    wall = after.at - before.at
    workers = [b - a for a, b in zip(before.workers, after.workers, strict=True)]
    backends = sum(after.backends[pid] - before.backends.get(pid, 0.0) for pid in after.backends)
    own = after.own - before.own
    machine = after.machine - before.machine
    figures = {f"{prefix}wall_s": wall}
    for index, spent in enumerate(workers):
        figures[f"{prefix}worker{index}_cpu_s"] = spent
    ours = sum(workers) + own + backends
    cores = os.cpu_count() or 1
    figures |= {
        f"{prefix}workers_cpu_s": sum(workers),
        f"{prefix}workers_cpu_share_of_wall": sum(workers) / wall,
        f"{prefix}driver_cpu_s": own,
        f"{prefix}postgres_backends_cpu_s": backends,
        f"{prefix}ours_cpu_s": ours,
        f"{prefix}machine_busy_cpu_s": machine,
        f"{prefix}cpu_busy_share": machine / (wall * cores),
        f"{prefix}others_cpu_s": max(machine - ours, 0.0),
        f"{prefix}workers_cpu_ms_per_press": sum(workers) / presses * 1000,
        f"{prefix}driver_cpu_ms_per_press": own / presses * 1000,
        f"{prefix}postgres_cpu_ms_per_press": backends / presses * 1000,
        f"{prefix}ours_cpu_ms_per_press": ours / presses * 1000,
        f"{prefix}postgres_commits_per_press": (after.commits - before.commits) / presses,
        # What the machine's cores could take if nothing else ran: each worker one core at
        # most, and all of ours together the cores.
        f"{prefix}cpu_bound_ceiling_per_s": min(
            cores * presses / ours, len(workers) * presses / max(sum(workers), 1e-9)
        ),
    }
    return figures


# -- the workers ---------------------------------------------------------------------------


def worker_config(where: str, base_url: str, proxy: int, port: int, shared: bool) -> str:
    place = f'url = "{where}"' if is_url(where) else f'path = "{where}"'
    return f"""
[telegram]
token = "{TOKEN}"
base_url = "{base_url}"
[network]
name = "{NETWORK}"
admins = [{ADMIN}]
language = "{LANG}"
[storage]
{place}
[webhook]
url = "http://127.0.0.1:{proxy}{PATH}"
port = {port}
secret_token = "{SECRET}"
workers_share_database = {"true" if shared else "false"}
"""


@dataclass
class Workers:
    """N processes, their logs, their start."""

    processes: list[asyncio.subprocess.Process] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)
    code: Path = ROOT

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self.processes]

    async def start(
        self, command: list[list[str]], logs: list[Path], ready: str, within: float = 120
    ) -> list[float]:
        """Start every command at once (in `code`, its checkout); the seconds until each
        log has `ready`."""
        env = {**os.environ, "PYTHONPATH": str(self.code)}
        env.pop("WIQ_BOT_TOKEN", None)
        started = time.monotonic()
        for args, log in zip(command, logs, strict=True):
            with log.open("wb") as out:
                process = await asyncio.create_subprocess_exec(
                    sys.executable, *args, cwd=self.code, env=env, stdout=out, stderr=out
                )
            self.processes.append(process)
            self.logs.append(log)
        after: dict[int, float] = {}
        while len(after) < len(logs):
            for index in set(range(len(logs))) - after.keys():
                if ready in logs[index].read_text(errors="replace"):
                    after[index] = time.monotonic() - started
                elif self.processes[index].returncode is not None:
                    tail = logs[index].read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"worker {index} ended:\n{tail}")
            if time.monotonic() - started > within:
                raise TimeoutError(f"not ready after {within:.0f} s: {sorted(after)}")
            await asyncio.sleep(0.01)
        return [after[index] for index in range(len(logs))]

    async def stop(self) -> list[int | None]:
        for process in self.processes:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        codes: list[int | None] = []
        for process in self.processes:
            try:
                codes.append(await asyncio.wait_for(process.wait(), 60))
            except TimeoutError:
                process.kill()
                codes.append(await process.wait())
        return codes

    def tracebacks(self) -> int:
        return sum(log.read_text(errors="replace").count("Traceback") for log in self.logs)


# -- one run -------------------------------------------------------------------------------


@dataclass
class Run:
    """What a run of presses gives: its figures, and whether its checks held."""

    figures: dict[str, float | bool] = field(default_factory=dict)
    ok: bool = True


def all_presses(cards: list[Card], members: list[Member], args: argparse.Namespace) -> list[Press]:
    """Each card: every member but the last presses, then changes their mind; the cards'
    presses interleaved (the same for the same seed, bot and floor alike)."""
    rng = random.Random(args.seed)
    pressers = members[:-1]  # the last one never presses: the rounds stay open
    lists = [mind_changes(rng, card, pressers, args.presses_per_member) for card in cards]
    merged: list[Press] = []
    for index in range(max(len(presses) for presses in lists)):
        merged += [presses[index] for presses in lists if index < len(presses)]
    return merged


async def press_all(
    scene: Scene,
    presses: list[Press],
    args: argparse.Namespace,
    label: str,
    pids: list[int],
    where: str,
    proxy: Proxy,
) -> dict[str, float]:
    """The warm-up, then the counted presses; throughput, latency and CPU figures."""
    warmup, counted = presses[: args.warmup], presses[args.warmup :]
    progress(f"{label}: {len(warmup)} presses to warm up, then {len(counted)} counted")
    await closed_loop(scene, warmup, args.window, f"{label} warm-up")
    before = await Cpu.now(pids, where)
    posted = len(proxy.spent)
    async with backend_states(where) as states:
        await closed_loop(scene, counted, args.window, label)
    after = await Cpu.now(pids, where)
    deliveries = proxy.spent[posted:]
    answered = [scene.answers.first_at(press.query_id) for press in counted]
    times = [at for at in answered if at is not None]
    per_s = len(times) / (max(times) - counted[0].pressed_at) if times else 0.0
    loaded_ms = latencies_ms(scene, counted)
    return (
        {
            "presses": len(counted),
            "presses_per_s": per_s,
            "answer_latency_p50_ms": percentile(loaded_ms, 0.5),
            "answer_latency_p99_ms": percentile(loaded_ms, 0.99),
            "webhook_posts": len(deliveries),
            "webhook_post_p50_ms": percentile(deliveries, 0.5) * 1000,
            "webhook_post_p99_ms": percentile(deliveries, 0.99) * 1000,
            "webhook_line_busy_share": sum(deliveries) / (after.at - before.at),
        }
        | cpu_figures("", before, after, len(counted))
        | states
    )


def checks(scene: Scene, presses: list[Press], stored_ok: bool) -> dict[str, float | bool]:
    unanswered, twice, unexpected = scene.answer_check(presses)
    return {
        "presses_unanswered": unanswered,
        "presses_answered_twice": twice,
        "answers_not_recorded": unexpected,
        "one_answer_per_press": unanswered == twice == unexpected == 0,
        "stored_equals_last_press": stored_ok,
    }


def last_presses(presses: list[Press], card: Card) -> dict[int, str]:
    """telegram id -> the choice of their last press on the card."""
    return {p.member.telegram_id: p.choice for p in presses if p.card is card}


def model_with_scene(args: argparse.Namespace) -> Scene:
    scene = Scene(args.electorate)
    scene.populate()
    return scene


async def bot_run(args: argparse.Namespace, where: str, tmp: Path, count: int) -> Run:
    """N real workers behind the proxy: the team, its roster, the cards, the presses."""
    await fresh(where)
    scene = model_with_scene(args)
    model = scene.model
    run = Run()
    shared = count > 1 or args.single_worker == "shared"
    async with LocalBotApiServer(model) as server:
        ports = [free_port() for _ in range(count)]
        async with round_robin(ports, PATH) as proxy:
            commands, logs = [], []
            for index, port in enumerate(ports):
                config = tmp / f"worker{count}-{index}.toml"
                config.write_text(
                    worker_config(where, server.base_url, proxy.port, port, shared),
                    encoding="utf-8",
                )
                commands.append(["-m", "bot.cli", "run", "--config", str(config)])
                logs.append(args.logs / f"workers{count}-{index}.log")
            workers = Workers()
            try:
                ready = await workers.start(commands, logs, "event=webhook_serving")
                progress(f"{count} worker(s) serving after {max(ready):.1f} s")
                storage = await Storage.open(where, NETWORK, datetime.now(UTC), CHARTER_TERMS)
                try:
                    person_ids = await setup_team(scene, storage)
                    cards = [
                        await propose(scene, storage, scene.members[i], i)
                        for i in range(args.cards)
                    ]
                    presses = all_presses(cards, scene.members, args)
                    run.figures |= await press_all(
                        scene, presses, args, f"{count} worker(s)", workers.pids, where, proxy
                    )
                    await asyncio.sleep(args.settle)
                    stored_ok = True
                    for card in cards:
                        wanted = {
                            person_ids[telegram_id]: choice
                            for telegram_id, choice in last_presses(presses, card).items()
                        }
                        stored = await storage.rounds.responses(card.round_id)
                        actual = {person: r.choice for person, r in stored.items()}
                        if actual != wanted:
                            wrong = sum(
                                1
                                for p in wanted.keys() | actual.keys()
                                if wanted.get(p) != actual.get(p)
                            )
                            progress(f"card #{card.proposal_id}: {wrong} stored responses differ")
                            stored_ok = False
                    run.figures |= checks(scene, presses, stored_ok)
                    run.figures["worker_updates_handled"] = sum(
                        1 for _ in await storage.db.fetchall("SELECT 1 FROM inbox")
                    )
                finally:
                    await storage.close()
                for index, pid in enumerate(workers.pids):
                    run.figures[f"worker{index}_peak_rss_mib"] = peak_rss_mib(pid)
            finally:
                codes = await workers.stop()
            run.figures["workers_exit_ok"] = all(code == 0 for code in codes)
            run.figures["workers_tracebacks"] = workers.tracebacks()
    run.ok = bool(
        run.figures["one_answer_per_press"]
        and run.figures["stored_equals_last_press"]
        and run.figures["workers_exit_ok"]
    )
    return run


async def setup_team(scene: Scene, storage: Storage) -> dict[int, int]:
    """/setup ST by the admin (a worker answers), then everyone on the roster via storage:
    telegram id -> person id."""
    model = scene.model
    sent = model.send_message(GROUP, ADMIN, "/setup ST Steuerungsteam")
    await model.wait_for_message(GROUP, contains="✅", after=sent["message_id"], timeout=30)
    team = await storage.teams.by_chat(GROUP)
    assert team is not None, "the team was not bound"
    now = datetime.now(UTC)
    admin = await storage.people.seen(ADMIN, "Ada", None, "ada_admin", LANG, now)
    person_ids: dict[int, int] = {}
    started = time.monotonic()
    for member in scene.members:
        person = await storage.people.seen(
            member.telegram_id, member.first_name, member.last_name, member.username, LANG, now
        )
        person_ids[member.telegram_id] = person.id
        await storage.rosters.admit(
            team.id, person.id, "admitted", now, by=admin.id, seat="zivilgesellschaft"
        )
    progress(f"{len(person_ids)} members on the roster ({time.monotonic() - started:.1f} s)")
    return person_ids


async def propose(scene: Scene, storage: Storage, proposer: Member, number: int) -> Card:
    """`/propose 7d …` by `proposer`; the card once a worker posted it and stored its id."""
    model = scene.model
    sent = model.send_message(
        GROUP, proposer.telegram_id, f"/propose 7d Vorschlag {number + 1} für das Hochbeet."
    )

    def card_message() -> MessageRec | None:
        for message in model.bot_messages(GROUP):
            if message.message_id > sent["message_id"] and message.reply_markup:
                return message
        return None

    message = await model.wait_until(card_message, 30, "the proposal's card")
    assert message.reply_markup is not None
    data = {
        button["callback_data"]
        for row in message.reply_markup["inline_keyboard"]
        for button in row
        if "callback_data" in button
    }
    by_choice = {
        choice: next(d for d in data if d.endswith(f":{code}")) for choice, code in CODES.items()
    }
    round_id = int(by_choice["agree"].split(":")[1])
    for _ in range(3000):
        round_ = await storage.rounds.round(round_id)
        if round_ is not None and round_.card_message_id == message.message_id:
            return Card(round_.proposal_id, round_id, message.message_id, by_choice)
        await asyncio.sleep(0.01)
    raise TimeoutError("no worker stored the card")


# -- the floor -----------------------------------------------------------------------------

PG_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS press (round BIGINT NOT NULL, person BIGINT NOT NULL,"
    " choice TEXT NOT NULL, PRIMARY KEY (round, person))"
)

LITE_SCHEMA = SCHEMA  # bench.floor's


class PgFloorDb:
    """bench.floor's handler awaits `db.execute(sql, params)`: the same upsert on PostgreSQL."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def execute(self, sql: str, params: tuple[Any, ...]) -> None:
        numbered = iter(range(1, len(params) + 1))
        await self.pool.execute(re.sub(r"\?", lambda _: f"${next(numbered)}", sql), *params)


async def serve_floor(where: str, base_url: str, proxy: int, port: int, concurrent: int) -> None:
    """One floor process: bench.floor's Application, its updates from a webhook server that
    queues each update and answers 200 (nothing to store first: the floor's least)."""
    stub = cast(BotApiModel, SimpleNamespace(token=TOKEN))
    floor = Floor(stub, Path(where), concurrent, base_url)
    app = floor.app
    pool: asyncpg.Pool | None = None
    lite: aiosqlite.Connection | None = None
    if is_url(where):
        pool = await asyncpg.create_pool(where, min_size=1, max_size=10)
        await pool.execute(PG_SCHEMA)
        app.bot_data[DB] = PgFloorDb(pool)
    else:
        lite = await aiosqlite.connect(where, isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=5000"):
            await lite.execute(f"PRAGMA {pragma}")
        await lite.execute(LITE_SCHEMA)
        app.bot_data[DB] = lite
    await app.initialize()
    await app.start()

    async def on_update(request: web.Request) -> web.Response:
        if request.headers.get(SECRET_HEADER) != SECRET:
            return web.Response(status=403)
        update = Update.de_json(json.loads(await request.read()), app.bot)
        await app.update_queue.put(update)
        return web.Response(status=200)

    server = web.Application()
    server.router.add_post(PATH, on_update)
    runner = web.AppRunner(server, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await app.bot.set_webhook(
        f"http://127.0.0.1:{proxy}{PATH}",
        secret_token=SECRET,
        allowed_updates=[Update.CALLBACK_QUERY],
        max_connections=1,
    )
    print("event=floor_serving", flush=True)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stopping.set)
    await stopping.wait()
    await runner.cleanup()
    await app.stop()
    await app.shutdown()
    if pool is not None:
        await pool.close()
    if lite is not None:
        await lite.close()


async def floor_run(args: argparse.Namespace, where: str, tmp: Path, count: int) -> Run:
    """`count` floor processes behind the proxy, the same presses on --cards cards."""
    await fresh(where)
    await floor_table(where)  # before the processes (several CREATE TABLE at once collide)
    scene = model_with_scene(args)
    run = Run()
    async with LocalBotApiServer(scene.model) as server:
        ports = [free_port() for _ in range(count)]
        async with round_robin(ports, PATH) as proxy:
            commands = [
                [
                    *("-m", "bench.http_presses", "--serve-floor", where, server.base_url),
                    *(str(proxy.port), str(port), str(args.floor_concurrent_updates)),
                ]
                for port in ports
            ]
            logs = [args.logs / f"floor{count}-{i}.log" for i in range(count)]
            workers = Workers()
            try:
                ready = await workers.start(commands, logs, "event=floor_serving")
                progress(f"{count} floor process(es) serving after {max(ready):.1f} s")
                cards = await floor_cards(server.base_url, args.cards)
                presses = all_presses(cards, scene.members, args)
                run.figures |= await press_all(
                    scene, presses, args, f"floor x{count}", workers.pids, where, proxy
                )
                await asyncio.sleep(args.settle)
                stored_ok = True
                for card in cards:
                    wanted = {
                        telegram_id: CODES[choice]
                        for telegram_id, choice in last_presses(presses, card).items()
                    }
                    if await floor_stored(where, card.round_id) != wanted:
                        progress(f"floor card {card.round_id}: stored differs from presses")
                        stored_ok = False
                run.figures |= checks(scene, presses, stored_ok)
            finally:
                codes = await workers.stop()
            run.figures["workers_exit_ok"] = all(code == 0 for code in codes)
    run.ok = bool(run.figures["one_answer_per_press"] and run.figures["stored_equals_last_press"])
    return run


async def floor_table(where: str) -> None:
    if is_url(where):
        conn = await asyncpg.connect(where)
        try:
            await conn.execute(PG_SCHEMA)
        finally:
            await conn.close()
        return
    with contextlib.closing(sqlite3.connect(where)) as lite:
        lite.execute("PRAGMA journal_mode=WAL")
        lite.execute(LITE_SCHEMA)


async def floor_cards(base_url: str, count: int) -> list[Card]:
    """bench.floor's cards (its four buttons), posted over the same HTTP front."""
    cards = []
    async with Bot(TOKEN, base_url=base_url) as bot:
        for round_id in range(1, count + 1):
            data = {code: f"1:{round_id}:{code}" for _, code in BUTTONS}
            keyboard = [
                [InlineKeyboardButton(label, callback_data=data[code])] for label, code in BUTTONS
            ]
            message = await bot.send_message(
                GROUP, f"Floor round {round_id}", reply_markup=InlineKeyboardMarkup(keyboard)
            )
            by_choice = {choice: data[code] for choice, code in CODES.items()}
            cards.append(Card(0, round_id, message.message_id, by_choice))
    return cards


async def floor_stored(where: str, round_id: int) -> dict[int, str]:
    if is_url(where):
        conn = await asyncpg.connect(where)
        try:
            rows = await conn.fetch("SELECT person, choice FROM press WHERE round = $1", round_id)
        finally:
            await conn.close()
        return {int(row["person"]): str(row["choice"]) for row in rows}
    with contextlib.closing(sqlite3.connect(where)) as conn:
        found = conn.execute("SELECT person, choice FROM press WHERE round = ?", (round_id,))
        return {int(person): str(choice) for person, choice in found.fetchall()}


# -- main ----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.http_presses", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument(
        "--database",
        help="a postgresql:// URL (its public schema is dropped and made afresh for each run:"
        " give it a database of its own) or a SQLite file; default a temporary file",
    )
    parser.add_argument(
        "--workers",
        type=int,
        nargs="*",
        default=[1, 2, 4],
        help="worker counts (none: the floor only)",
    )
    parser.add_argument(
        "--single-worker",
        choices=("shared", "plain"),
        default="shared",
        help="one worker with workers_share_database = true (shared, the default: the same"
        " code path as several) or without it (plain: the one-process deployment)",
    )
    parser.add_argument(
        "--floor-workers",
        type=int,
        nargs="*",
        default=[1],
        help="floor processes behind the proxy (the ratios use the first); none: no floor",
    )
    parser.add_argument("--floor-concurrent-updates", type=int, default=64)
    parser.add_argument("--electorate", type=int, default=500)
    parser.add_argument("--cards", type=int, default=4, help="round cards pressed at once")
    parser.add_argument("--presses-per-member", type=int, default=2, help="on each card")
    parser.add_argument("--window", type=int, default=16, help="presses in flight")
    parser.add_argument("--warmup", type=int, default=200, help="presses not counted")
    parser.add_argument("--settle", type=float, default=1.0, help="seconds before the checks")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs of each (interleaved); medians reported"
    )
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument("--logs", type=Path, help="keep the workers' logs in this directory")
    parser.add_argument("--serve-floor", nargs=5, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def say(prefix: str, figures: dict[str, float | bool]) -> None:
    for name, value in figures.items():
        figure(f"{prefix}{name}", value)


async def main_async(args: argparse.Namespace) -> bool:
    ok = True
    figure("cpus", os.cpu_count() or 0)
    figure("load_avg_1m_at_start", os.getloadavg()[0])
    backend = "postgresql" if args.database and is_url(args.database) else "sqlite"
    print(f"backend {backend}", flush=True)
    with tempfile.TemporaryDirectory(prefix="wiq-http-presses-") as tmp_name:
        tmp = Path(tmp_name)
        if args.logs is None:
            args.logs = tmp
        args.logs.mkdir(parents=True, exist_ok=True)
        where = args.database or str(tmp / "wiq.sqlite")
        floor_where = args.database or str(tmp / "floor.sqlite")
        floor_rates: dict[int, list[float]] = {count: [] for count in args.floor_workers}
        bot_rates: dict[int, list[float]] = {count: [] for count in args.workers}
        for repeat in range(1, args.repeat + 1):
            tag = f"r{repeat}_" if args.repeat > 1 else ""
            for count in args.floor_workers:
                run = await floor_run(args, floor_where, tmp, count)
                say(f"{tag}floor_x{count}_", run.figures)
                floor_rates[count].append(float(run.figures["presses_per_s"]))
                ok = run.ok and ok
            for count in args.workers:
                run = await bot_run(args, where, tmp, count)
                say(f"{tag}workers_{count}_", run.figures)
                figure(f"{tag}load_avg_1m_after_workers_{count}", os.getloadavg()[0])
                bot_rates[count].append(float(run.figures["presses_per_s"]))
                ok = run.ok and ok
        if args.database:
            await fresh(args.database)
    floors = {count: statistics.median(rates) for count, rates in floor_rates.items()}
    rates = {count: statistics.median(found) for count, found in bot_rates.items()}
    if args.repeat > 1:
        print("(the figures below: the median of the repeats)", flush=True)
    floor = floors.get(args.floor_workers[0]) if args.floor_workers else None
    first = rates.get(args.workers[0]) if args.workers else None
    for count, found in floor_rates.items():
        if count != (args.floor_workers[0] if args.floor_workers else None):
            figure(f"presses_per_s_floor_x{count}", statistics.median(found))
    for count, rate in rates.items():
        figure(f"presses_per_s_workers_{count}", rate)
        if floor:
            figure(f"ratio_workers_{count}_over_floor", rate / floor)
        if first:
            figure(f"speedup_workers_{count}_over_{args.workers[0]}", rate / first)
    if floor:
        figure("presses_per_s_floor", floor)
    figure("load_avg_1m_at_end", os.getloadavg()[0])
    figure("all_checks_hold", ok)
    return ok


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve_floor:
        where, base_url, proxy, port, concurrent = args.serve_floor
        asyncio.run(serve_floor(where, base_url, int(proxy), int(port), int(concurrent)))
        return 0
    asyncio.run(main_async(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
