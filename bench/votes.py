"""Benchmark: many people pressing the buttons of consensus-round cards.

The real Application (build_application) with its SQLite file on disk, talking to the local
Bot API model in-process (localapi.request.ModelRequest) or, with --http, over real HTTP
(localapi.server.LocalBotApiServer). An electorate of 500, of whom 499 press — only
Zustimmung and Enthaltung, so no reason is asked — and change their minds a few times; the
500th never presses, so the round stays open.

Part 1, throughput: presses as fast as the bot takes them, a fixed number in flight
(--window, default 2: a new press as soon as one is answered). Two in flight already keep the
bot's CPU busy, so more only queue: by Little's law the latency grows with the
window (window / throughput) while the throughput stays the same. Latency is from the moment
the callback query is injected into the model to the moment the model records the bot's
answerCallbackQuery for it. A short run with one press in flight at a time
(--unloaded-presses) first gives the latency without queueing.

The floor, right after part 1 in the same run: bench.floor, a bare python-telegram-bot
Application that decodes the press, upserts it in one SQL statement and answers it, on its own
model over the same transport, driven by the same closed_loop with the same presses (same
seed) and the same --window; its updates are handled concurrently too (as many at once as
the bot may). `throughput_ratio_bot_over_floor` is the bot's presses per second divided by
the floor's: the share of what PTB and the transport allow that the bot reaches.
--floor off skips it, --floor only runs it alone. `cpu_ratio_floor_over_bot` is the same
share from the process's CPU time per press (`throughput_cpu_us_per_press`,
`floor_cpu_us_per_press`), which moves less with what else the machine runs. On a shared
machine whose load changes from second to second, --interleave N runs the bot's part 1 and
the floor's at once, their loaded presses in N parts each, taking turns (bench.votes.Turns):
both meet the same load.

Part 2, a sustained burst (--burst-seconds, default 180; --quick: 20) at --rate presses per
second (default 5) spread over two cards in one group, with the model's flood limit of 20
messages per minute per group on: card edits per minute, 429s provoked, and the seconds from
the last press on each card to the moment the model's card shows the final state (its text
equals a fresh render of what is stored).

Both parts (and the floor) check that the stored responses equal every member's last press,
and that every press got exactly one answer, the "recorded" one.

    .venv/bin/python -m bench.votes --quick
    .venv/bin/python -m bench.votes --part 1   # part 1 and the floor, with their ratio
    .venv/bin/python -m bench.votes --floor only
    .venv/bin/python -m bench.votes            # both parts, the burst for 180 s
    .venv/bin/python -m bench.votes --part 2 --http
    .venv/bin/python -m bench.votes --part 1 --profile   # and where the time goes

--profile samples the event loop's thread during part 1's loaded presses, for the bot and the
floor (bench.profile: a timer signal, not cProfile, which would slow python-telegram-bot's many
small calls down far more than the rest), and prints, after the figures, what the presses
spent their time on (the phases of a press: reading the update, the handler, the unit of work,
the answer, ...) and the functions on top and on the stack, each in µs per press.

Figures go to stdout, one `name value` line each; progress goes to stderr. The benchmark
reports; it asserts nothing (the exit code is 0 unless the run itself broke)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import math
import os
import random
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from telegram.ext import SimpleUpdateProcessor

from bench.floor import Floor
from bench.profile import Sampler
from bot.app import ALLOWED_UPDATES, App, build_application
from bot.clock import Clock
from bot.config import load_config
from bot.services import SERVICES_KEY, Deployment, Services
from bot.texts import cards
from bot.texts.i18n import t
from bot.texts.render import shorten
from localapi.model import BotApiModel
from localapi.records import CallRecord, MessageRec
from localapi.request import ModelRequest
from localapi.server import LocalBotApiServer
from localapi.textparse import format_text

log = logging.getLogger("bench.votes")

PROFILES: list[tuple[str, Sampler, int]] = []  # --profile: (label, samples, presses sampled)

TOKEN = "123456789:BENCH-wiq-local"
BOT_USERNAME = "wiq_bench_bot"
LANG = "de"
ADMIN = 1  # the network admin who binds the team
GROUP = -1001000000002  # the ST's supergroup
FIRST_MEMBER = 100_001  # telegram ids FIRST_MEMBER .. FIRST_MEMBER + electorate - 1
CHOICES = ("agree", "abstain")  # neither asks for a reason
CODES = {"agree": "a", "abstain": "s"}  # the callback codec's codes, for reading the keyboard

FIRST_NAMES = (
    "Anna", "Bert", "Carla", "Dieter", "Emine", "Frank", "Gül", "Hans", "Ilse", "Jonas",
    "Katrin", "Lukas", "Maria", "Nils", "Olga", "Paul", "Rosa", "Sven", "Tanja", "Uwe",
)  # fmt: skip
LAST_NAMES = (
    "Albrecht", "Bauer", "Conrad", "Demir", "Engel", "Fischer", "Graf", "Hoffmann", "Ivanova",
    "Jäger", "Krüger", "Lange", "Meyer", "Neumann", "Otto", "Peters", "Richter", "Schulz",
    "Thiele", "Ulrich", "Vogel", "Wagner", "Yilmaz", "Zimmermann", "Schmidt",
)  # fmt: skip


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def figure(name: str, value: object) -> None:
    if isinstance(value, bool):
        value = "true" if value else "false"
    elif isinstance(value, float):
        value = f"{value:.1f}" if abs(value) >= 100 else f"{value:.2f}"
    print(f"{name} {value}", flush=True)


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def max_in_window(times: Iterable[float], window: float = 60.0) -> int:
    """The most events in any window of `window` seconds (sliding, starting at an event)."""
    ordered = sorted(times)
    best = start = 0
    for end, moment in enumerate(ordered):
        while ordered[start] <= moment - window:
            start += 1
        best = max(best, end - start + 1)
    return best


def config_text(db_path: Path, base_url: str) -> str:
    return f"""
[telegram]
token = "{TOKEN}"
base_url = "{base_url}"
poll_timeout = 1
[network]
name = "WiQ Bench"
admins = [{ADMIN}]
language = "{LANG}"
[storage]
path = "{db_path}"
"""


@dataclass(frozen=True)
class Member:
    telegram_id: int
    first_name: str
    last_name: str
    username: str | None


def make_members(count: int) -> list[Member]:
    members = []
    for index in range(count):
        first = FIRST_NAMES[index % len(FIRST_NAMES)]
        last = LAST_NAMES[(index // len(FIRST_NAMES)) % len(LAST_NAMES)]
        if index >= len(FIRST_NAMES) * len(LAST_NAMES):
            last = f"{last}-{index}"
        username = f"{first}_{last}_{index}".lower() if index % 2 == 0 else None
        members.append(Member(FIRST_MEMBER + index, first, last, username))
    return members


@dataclass
class Card:
    proposal_id: int
    round_id: int
    message_id: int
    data: dict[str, str]  # choice -> callback_data of its button


@dataclass
class Press:
    card: Card
    member: Member
    choice: str
    query_id: str = ""
    pressed_at: float = 0.0


@dataclass
class Answers:
    """The model's answerCallbackQuery records, taken as the model records them."""

    model: BotApiModel
    by_query: dict[str, list[CallRecord]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.model.call_listeners.append(self._recorded)

    def _recorded(self, call: CallRecord) -> None:
        if call.method == "answerCallbackQuery":
            query_id = str(call.params.get("callback_query_id"))
            self.by_query.setdefault(query_id, []).append(call)

    def first_at(self, query_id: str) -> float | None:
        calls = self.by_query.get(query_id)
        return calls[0].at if calls else None


class Scene:
    """One model with the admin, `size` members and their group; presses and their answers.
    What the driver (closed_loop) needs, for the bot (World) and the floor (FloorWorld)."""

    def __init__(self, size: int) -> None:
        self.members = make_members(size)
        self.model = BotApiModel(token=TOKEN, bot_username=BOT_USERNAME)
        self.answers = Answers(self.model)

    def populate(self) -> None:
        model = self.model
        model.add_user(ADMIN, "Ada", username="ada_admin")
        for member in self.members:
            model.add_user(member.telegram_id, member.first_name, member.last_name, member.username)
        model.add_group(
            GROUP,
            "Steuerungsteam",
            members=[m.telegram_id for m in self.members],
            admins=[ADMIN],
            bot_status="administrator",
        )

    def press(self, press: Press) -> None:
        press.query_id = self.model.press_button(
            GROUP,
            press.card.message_id,
            press.member.telegram_id,
            callback_data=press.card.data[press.choice],
        )
        press.pressed_at = self.model.callback_queries[press.query_id].created_at

    def answer_check(self, presses: list[Press]) -> tuple[int, int, int]:
        """(unanswered, answered more than once, answered with anything but "recorded")."""
        unanswered = twice = unexpected = 0
        for press in presses:
            calls = self.answers.by_query.get(press.query_id, [])
            if not calls:
                unanswered += 1
                continue
            if len(calls) > 1:
                twice += 1
            expected = t(LANG, "press.recorded", choice=t(LANG, f"choice.{press.choice}"))
            params = calls[0].params
            if not calls[0].ok or params.get("text") != expected or params.get("show_alert"):
                unexpected += 1
        return unanswered, twice, unexpected


class World(Scene):
    """One model, one Application on a fresh SQLite file, one team of `size` members."""

    def __init__(self, directory: Path, size: int, http: bool, concurrent: int = 1) -> None:
        super().__init__(size)
        self.directory = directory
        self.http = http
        self.concurrent = concurrent  # updates handled at once; 1 is what `wiq-bot run` does
        self.server: LocalBotApiServer | None = None
        self.app: App | None = None
        self.person_ids: dict[int, int] = {}  # telegram id -> person id
        self.team_id = 0

    @property
    def services(self) -> Services:
        assert self.app is not None
        deployment: Deployment = self.app.bot_data[SERVICES_KEY]
        return deployment.first()

    async def start(self) -> None:
        model = self.model
        self.populate()
        base_url = "http://127.0.0.1:9/bot"
        if self.http:
            self.server = LocalBotApiServer(model)
            await self.server.start()
            base_url = self.server.base_url
        config_path = self.directory / "config.toml"
        config_path.write_text(
            config_text(self.directory / "wiq.sqlite", base_url), encoding="utf-8"
        )
        config = load_config(config_path, env={})
        processor = SimpleUpdateProcessor(self.concurrent) if self.concurrent > 1 else None
        if self.http:
            app = build_application(config, Clock(), update_processor=processor)
        else:
            app = build_application(
                config,
                Clock(),
                request=ModelRequest(model),
                get_updates_request=ModelRequest(model),
                update_processor=processor,
            )
        self.app = app
        await app.initialize()
        if app.post_init:
            await app.post_init(app)
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(
            timeout=config.telegram.poll_timeout,
            poll_interval=0,
            allowed_updates=ALLOWED_UPDATES,
        )

    async def stop(self) -> None:
        app = self.app
        if app is not None:
            assert app.updater is not None
            await app.updater.stop()
            await app.stop()
            if app.post_shutdown:
                await app.post_shutdown(app)
            await app.shutdown()
            self.app = None
        if self.server is not None:
            await self.server.stop()
            self.server = None

    async def setup_team(self) -> None:
        """`/setup ST …` by the network admin, then everyone on the roster via storage."""
        sent = self.model.send_message(GROUP, ADMIN, "/setup ST Steuerungsteam")
        reply = await self.model.wait_for_message(
            GROUP, contains="✅", after=sent["message_id"], timeout=10
        )
        progress(f"team bound: {reply.text!r:.70}")
        storage = self.services.storage
        team = await storage.teams.by_chat(GROUP)
        assert team is not None, "the team was not bound"
        self.team_id = team.id
        now = self.services.clock.now()
        admin = await storage.people.seen(ADMIN, "Ada", None, "ada_admin", LANG, now)
        started = time.monotonic()
        for member in self.members:
            person = await storage.people.seen(
                member.telegram_id,
                member.first_name,
                member.last_name,
                member.username,
                LANG,
                now,
            )
            self.person_ids[member.telegram_id] = person.id
            await storage.rosters.admit(
                team.id, person.id, "admitted", now, by=admin.id, seat="zivilgesellschaft"
            )
        size = await storage.rosters.size(team.id)
        progress(f"{size} members on the roster ({time.monotonic() - started:.1f}s)")

    async def propose(self, proposer: Member, text: str) -> Card:
        """`/propose 7d TEXT`; waits for the card (and for the bot to have stored it)."""
        sent = self.model.send_message(GROUP, proposer.telegram_id, f"/propose 7d {text}")
        started = time.monotonic()

        def card_message() -> MessageRec | None:
            for message in self.model.bot_messages(GROUP):
                if message.message_id > sent["message_id"] and message.reply_markup:
                    return message
            return None

        message = await self.model.wait_until(card_message, 30, "the proposal's card")
        assert message.reply_markup is not None
        data = {
            button["text"]: button["callback_data"]
            for row in message.reply_markup["inline_keyboard"]
            for button in row
        }
        by_choice = {
            choice: next(d for d in data.values() if d.endswith(f":{code}"))
            for choice, code in CODES.items()
        }
        round_id = int(by_choice["agree"].split(":")[1])
        store = self.services.storage.rounds

        async def card_stored() -> bool:
            round_ = await store.round(round_id)
            return round_ is not None and round_.card_message_id == message.message_id

        for _ in range(3000):  # the bot stores the card's message id once it was sent
            if await card_stored():
                break
            await asyncio.sleep(0.01)
        else:
            raise TimeoutError("the bot did not store its card")
        round_ = await store.round(round_id)
        assert round_ is not None
        parts = [
            m
            for m in self.model.bot_messages(GROUP)
            if m.message_id > sent["message_id"] and not m.reply_markup
        ]
        progress(
            f"card of proposal #{round_.proposal_id} posted as message {message.message_id} "
            f"in {time.monotonic() - started:.2f}s ({len(message.text or '')} characters"
            + (f"; {len(parts)} more message(s) after it" if parts else "")
            + ")"
        )
        return Card(round_.proposal_id, round_id, message.message_id, by_choice)

    # -- checks ------------------------------------------------------------------------

    async def stored_equals_last_press(self, card: Card, presses: list[Press]) -> bool:
        last: dict[int, str] = {}
        for press in presses:
            if press.card is card:
                last[self.person_ids[press.member.telegram_id]] = press.choice
        stored = await self.services.storage.rounds.responses(card.round_id)
        actual = {person: response.choice for person, response in stored.items()}
        if actual != last:
            wrong = sum(1 for p in last.keys() | actual.keys() if last.get(p) != actual.get(p))
            progress(f"card #{card.proposal_id}: {wrong} stored response(s) differ from presses")
        return actual == last

    async def fresh_card_text(self, card: Card) -> str:
        """The card's text as the model would show it after an edit from the stored state."""
        services = self.services
        round_ = await services.storage.rounds.round(card.round_id)
        assert round_ is not None
        view = await services.decisions.cards.round_view(round_)
        lang = services.default_language
        html = cards.render_card(view, lang, lambda moment: services.local_datetime(moment, lang))
        text, _ = format_text(shorten(html), "HTML", None, self.model.mention_lookup)
        return text

    def tally_text(self, card: Card, presses: list[Press]) -> str:
        last: dict[int, str] = {}
        for press in presses:
            if press.card is card:
                last[press.member.telegram_id] = press.choice
        counts = {choice: sum(1 for c in last.values() if c == choice) for choice in CHOICES}
        html = t(
            LANG,
            "card.tally",
            agree=counts["agree"],
            concern=0,
            abstain=counts["abstain"],
            object=0,
            electorate=len(self.members),
        )
        return format_text(html, "HTML", None, self.model.mention_lookup)[0]

    def group_calls(self, since: int = 0, ok: bool | None = None) -> list[CallRecord]:
        found = []
        for call in self.model.calls[since:]:
            if call.method in ("getUpdates", "answerCallbackQuery"):
                continue
            if str(call.params.get("chat_id")) != str(GROUP):
                continue
            if ok is None or call.ok == ok:
                found.append(call)
        return found


class FloorWorld(Scene):
    """The floor (bench.floor) on its own model and SQLite file, with World's people."""

    def __init__(self, directory: Path, size: int, http: bool, concurrent: int) -> None:
        super().__init__(size)
        self.directory = directory
        self.http = http
        self.concurrent = concurrent
        self.server: LocalBotApiServer | None = None
        self.floor: Floor | None = None

    async def start(self) -> None:
        self.populate()
        base_url = None
        if self.http:
            self.server = LocalBotApiServer(self.model)
            await self.server.start()
            base_url = self.server.base_url
        self.floor = Floor(self.model, self.directory / "floor.sqlite", self.concurrent, base_url)
        await self.floor.start()

    async def stop(self) -> None:
        if self.floor is not None:
            await self.floor.stop()
            self.floor = None
        if self.server is not None:
            await self.server.stop()
            self.server = None

    async def post_card(self, round_id: int = 1) -> Card:
        assert self.floor is not None
        message_id, data = await self.floor.post_card(GROUP, round_id)
        by_choice = {choice: data[code] for choice, code in CODES.items()}
        return Card(0, round_id, message_id, by_choice)

    async def stored_equals_last_press(self, card: Card, presses: list[Press]) -> bool:
        assert self.floor is not None
        last = {p.member.telegram_id: CODES[p.choice] for p in presses if p.card is card}
        actual = await self.floor.stored(card.round_id)
        if actual != last:
            wrong = sum(1 for p in last.keys() | actual.keys() if last.get(p) != actual.get(p))
            progress(f"floor: {wrong} stored response(s) differ from presses")
        return actual == last


async def closed_loop(world: Scene, presses: list[Press], window: int, label: str) -> float:
    """Keep `window` presses in flight until all are answered; returns the elapsed seconds.

    The next press goes in the moment the model records an answer (from its call listener),
    so the driver takes no turn of its own on the event loop the bot runs on: on one CPU,
    every turn it took would be the bot's."""
    waiting: set[str] = set()
    queue = iter(presses)
    step = max(1, len(presses) // 5)
    started = lap = time.monotonic()
    done = reported = 0
    finished = asyncio.Event()

    def refill() -> None:
        while len(waiting) < window:
            press = next(queue, None)
            if press is None:
                break
            world.press(press)
            waiting.add(press.query_id)
        if not waiting:
            finished.set()

    def on_call(call: CallRecord) -> None:
        nonlocal done, lap, reported
        if call.method != "answerCallbackQuery":
            return
        query_id = str(call.params.get("callback_query_id"))
        if query_id not in waiting:
            return
        waiting.discard(query_id)
        done += 1
        if done % step == 0:
            now = time.monotonic()
            recent = (done - reported) / max(now - lap, 1e-9)
            lap, reported = now, done
            progress(
                f"{label}: {done}/{len(presses)} answered "
                f"({done / (now - started):.0f}/s; lately {recent:.0f}/s)"
            )
        refill()

    world.model.call_listeners.append(on_call)
    try:
        refill()
        while not finished.is_set():
            before = done
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(30):
                    await finished.wait()
            if done == before and not finished.is_set():
                progress(f"{label}: {len(waiting)} press(es) not answered within 30 s; giving up")
                break
    finally:
        world.model.call_listeners.remove(on_call)
    return time.monotonic() - started


def latencies_ms(world: Scene, presses: list[Press]) -> list[float]:
    found = []
    for press in presses:
        at = world.answers.first_at(press.query_id)
        if at is not None:
            found.append((at - press.pressed_at) * 1000)
    return found


def mind_changes(
    rng: random.Random, card: Card, pressers: list[Member], rounds: int
) -> list[Press]:
    """Everyone presses once, then changes their mind `rounds - 1` times, in shuffled order."""
    last: dict[int, str] = {}
    presses = []
    for _ in range(rounds):
        order = list(pressers)
        rng.shuffle(order)
        for member in order:
            before = last.get(member.telegram_id)
            choice = rng.choice(CHOICES) if before is None else _other(before)
            last[member.telegram_id] = choice
            presses.append(Press(card, member, choice))
    return presses


def _other(choice: str) -> str:
    return CHOICES[1] if choice == CHOICES[0] else CHOICES[0]


# -- part 1 ----------------------------------------------------------------------------------


@dataclass
class Throughput:
    """Part 1's measurement, the same for the bot and the floor."""

    presses: list[Press]
    loaded: list[Press]
    elapsed: float  # seconds for the loaded presses
    per_s: float  # answered loaded presses per second
    loaded_ms: list[float]
    unloaded_ms: list[float]
    cpu_us: float  # the process's CPU time (every thread's) per loaded press, in µs


class Turns:
    """Whose presses go now when the bot's part 1 and the floor's run at once (--interleave
    N): each measures its presses in turns, the bot's unloaded ones, the floor's, then N
    parts of the loaded ones each, the bot's and the floor's alternately. So both meet the
    same load of the machine, which on a shared one changes from second to second; while one
    measures, the other has nothing to do (its long poll waits)."""

    def __init__(self) -> None:
        self.names = ("bot", "floor")
        self.taken = 0
        self.changed = asyncio.Condition()

    @contextlib.asynccontextmanager
    async def turn(self, name: str) -> AsyncIterator[None]:
        async with self.changed:
            await self.changed.wait_for(lambda: self.names[self.taken % 2] == name)
        try:
            yield
        finally:
            async with self.changed:
                self.taken += 1
                self.changed.notify_all()


async def measure(
    args: argparse.Namespace,
    world: Scene,
    card: Card,
    label: str,
    turns: Turns | None = None,
) -> Throughput:
    """The members but the last press `card` (the same presses for the same seed), first
    --unloaded-presses one at a time, then the rest with --window in flight — in
    --interleave parts, each in its turn (`turns`), when the bot and the floor run at once."""
    pressers = world.members[:-1]  # the last one never presses: the round stays open
    rng = random.Random(args.seed)
    presses = mind_changes(rng, card, pressers, args.presses_per_member)
    unloaded = presses[: args.unloaded_presses]
    loaded = presses[args.unloaded_presses :]
    name = "floor" if label else "bot"
    parts = args.interleave if turns is not None else 1
    progress(f"{len(unloaded)} presses one at a time, then {len(loaded)} with {args.window}")

    def my_turn() -> contextlib.AbstractAsyncContextManager[None]:
        return turns.turn(name) if turns is not None else contextlib.nullcontext()

    async with my_turn():
        await closed_loop(world, unloaded, 1, f"{label}unloaded")
    sampler = Sampler() if args.profile else None
    elapsed = cpu = 0.0
    size = max(1, math.ceil(len(loaded) / parts))
    for start in range(0, len(loaded), size):
        async with my_turn():
            cpu_before = time.process_time()
            with sampler.sampling() if sampler else contextlib.nullcontext():
                chunk = loaded[start : start + size]
                elapsed += await closed_loop(world, chunk, args.window, f"{label}loaded")
            cpu += time.process_time() - cpu_before
    for _ in range(parts - math.ceil(len(loaded) / size)):  # turns left: pass them on
        async with my_turn():
            pass
    if sampler is not None:
        PROFILES.append((f"{label or 'bot '}profile", sampler, len(loaded)))
    answered_at = [world.answers.first_at(p.query_id) for p in loaded]
    answered_times = [at for at in answered_at if at is not None]
    if parts > 1:
        per_s = len(answered_times) / elapsed if elapsed else 0.0
    elif answered_times:
        span = max(answered_times) - loaded[0].pressed_at
        per_s = len(answered_times) / span
    else:
        per_s = 0.0
    return Throughput(
        presses,
        loaded,
        elapsed,
        per_s,
        latencies_ms(world, loaded),
        latencies_ms(world, unloaded),
        cpu / max(len(loaded), 1) * 1e6,
    )


async def part_throughput(
    args: argparse.Namespace, directory: Path, turns: Turns | None = None
) -> tuple[bool, Throughput]:
    """(stored equals the last presses, the measurement)."""
    world = World(directory, args.electorate, args.http, args.concurrent_updates)
    progress(f"part 1: throughput ({'HTTP' if args.http else 'in-process'})")
    await world.start()
    try:
        await world.setup_team()
        members = world.members
        card = await world.propose(members[0], "Wir kaufen Saatgut für das Hochbeet im Hof.")
        calls_before = len(world.model.calls)
        measured = await measure(args, world, card, "", turns)
        presses = measured.presses
        loaded_ms, unloaded_ms = measured.loaded_ms, measured.unloaded_ms
        unanswered, twice, unexpected = world.answer_check(presses)
        await asyncio.sleep(0.5)  # let the last press's after_press finish
        stored_ok = await world.stored_equals_last_press(card, presses)
        group = world.group_calls(calls_before)
        edits = [c for c in group if c.method == "editMessageText" and c.ok]
        figure("throughput_presses", len(measured.loaded))
        figure("throughput_window", args.window)
        figure("throughput_concurrent_updates", args.concurrent_updates)
        figure("throughput_elapsed_s", measured.elapsed)
        figure("throughput_responses_per_s", measured.per_s)
        figure("throughput_cpu_us_per_press", measured.cpu_us)
        figure("answer_latency_p50_ms", percentile(loaded_ms, 0.50))
        figure("answer_latency_p99_ms", percentile(loaded_ms, 0.99))
        figure("answer_latency_max_ms", max(loaded_ms, default=math.nan))
        figure("answer_latency_unloaded_p50_ms", percentile(unloaded_ms, 0.50))
        figure("answer_latency_unloaded_p99_ms", percentile(unloaded_ms, 0.99))
        figure("part1_presses_unanswered", unanswered)
        figure("part1_presses_answered_twice", twice)
        figure("part1_answers_not_recorded", unexpected)
        figure("part1_one_answer_per_press", unanswered == twice == unexpected == 0)
        figure("part1_card_edits", len(edits))
        figure("part1_provoked_429", sum(1 for c in group if c.status == 429))
        figure("part1_stored_equals_last_press", stored_ok)
        return stored_ok, measured
    finally:
        await world.stop()


def floor_concurrency(args: argparse.Namespace) -> int:
    """--floor-concurrent-updates, or as many at once as the bot may handle: its own
    processor's default bound (bot.telegram_side.updates.OrderedUpdateProcessor, 64) or
    --concurrent-updates."""
    if args.floor_concurrent_updates:
        return int(args.floor_concurrent_updates)
    return int(args.concurrent_updates) if args.concurrent_updates > 1 else 64


async def part_floor(
    args: argparse.Namespace, directory: Path, turns: Turns | None = None
) -> tuple[bool, Throughput]:
    """Part 1 against bench.floor: (stored equals the last presses, the measurement)."""
    concurrent = floor_concurrency(args)
    world = FloorWorld(directory, args.electorate, args.http, concurrent)
    progress(f"floor: throughput ({'HTTP' if args.http else 'in-process'})")
    await world.start()
    try:
        card = await world.post_card()
        measured = await measure(args, world, card, "floor ", turns)
        presses = measured.presses
        loaded_ms, unloaded_ms = measured.loaded_ms, measured.unloaded_ms
        unanswered, twice, unexpected = world.answer_check(presses)
        stored_ok = await world.stored_equals_last_press(card, presses)
        figure("floor_throughput_presses", len(measured.loaded))
        figure("floor_concurrent_updates", concurrent)
        figure("floor_throughput_elapsed_s", measured.elapsed)
        figure("floor_throughput_responses_per_s", measured.per_s)
        figure("floor_cpu_us_per_press", measured.cpu_us)
        figure("floor_answer_latency_p50_ms", percentile(loaded_ms, 0.50))
        figure("floor_answer_latency_p99_ms", percentile(loaded_ms, 0.99))
        figure("floor_answer_latency_unloaded_p50_ms", percentile(unloaded_ms, 0.50))
        figure("floor_one_answer_per_press", unanswered == twice == unexpected == 0)
        figure("floor_stored_equals_last_press", stored_ok)
        return stored_ok, measured
    finally:
        await world.stop()


# -- part 2 ----------------------------------------------------------------------------------


async def part_burst(args: argparse.Namespace, directory: Path) -> bool:
    world = World(directory, args.electorate, args.http, args.concurrent_updates)
    seconds = args.burst_seconds
    progress(
        f"part 2: burst of {seconds:.0f}s at {args.rate}/s over two cards "
        f"({'HTTP' if args.http else 'in-process'}; group limit "
        f"{world.model.group_limit_per_minute}/min on)"
    )
    await world.start()
    try:
        await world.setup_team()
        members = world.members
        first = await world.propose(members[0], "Wir kaufen Saatgut für das Hochbeet im Hof.")
        second = await world.propose(members[1], "Das Sommerfest findet am 12. Juli statt.")
        both = (first, second)
        pressers = members[:-1]
        rng = random.Random(args.seed)
        last: dict[tuple[int, int], str] = {}
        presses: list[Press] = []
        calls_before = len(world.model.calls)
        count = int(seconds * args.rate)
        started = time.monotonic()
        next_report = started + 15
        for index in range(count):
            due = started + index / args.rate
            now = time.monotonic()
            if due > now:
                await asyncio.sleep(due - now)
            card = both[index % 2]
            member = rng.choice(pressers)
            before = last.get((card.round_id, member.telegram_id))
            choice = rng.choice(CHOICES) if before is None else _other(before)
            last[(card.round_id, member.telegram_id)] = choice
            press = Press(card, member, choice)
            world.press(press)
            presses.append(press)
            if time.monotonic() >= next_report:
                next_report += 15
                behind = sum(1 for p in presses if p.query_id not in world.answers.by_query)
                edited = sum(
                    1 for c in world.group_calls(calls_before) if c.method == "editMessageText"
                )
                progress(
                    f"burst: {len(presses)} presses in {time.monotonic() - started:.0f}s, "
                    f"{behind} unanswered, {edited} card edits"
                )
        last_press_at = {card.round_id: 0.0 for card in both}
        for press in presses:
            last_press_at[press.card.round_id] = press.pressed_at
        burst_end = presses[-1].pressed_at
        progress(f"burst over: {len(presses)} presses in {burst_end - started:.1f}s")

        def all_answered() -> bool:
            return all(p.query_id in world.answers.by_query for p in presses)

        try:
            await world.model.wait_until(all_answered, 60, "every press answered")
        except TimeoutError:
            progress("not every press was answered within 60 s of the last")
        unanswered, twice, unexpected = world.answer_check(presses)
        burst_ms = latencies_ms(world, presses)
        stored_ok = True
        for card in both:
            stored_ok = await world.stored_equals_last_press(card, presses) and stored_ok

        final_after: dict[int, float] = {}
        counts_ok = True
        for card in both:
            expected = await world.fresh_card_text(card)
            message = world.model.find_message(GROUP, card.message_id)

            def final(message: MessageRec = message, expected: str = expected) -> bool:
                return message.text == expected

            try:
                await world.model.wait_until(final, args.final_timeout, "final card")
            except TimeoutError:
                progress(f"card #{card.proposal_id}: not final {args.final_timeout:.0f}s later")
                final_after[card.round_id] = math.inf
                counts_ok = False
                continue
            edits = [
                c
                for c in world.group_calls(calls_before, ok=True)
                if c.method == "editMessageText" and c.params.get("message_id") == card.message_id
            ]
            reached = edits[-1].at if edits else math.inf
            final_after[card.round_id] = reached - last_press_at[card.round_id]
            tally = world.tally_text(card, presses)
            counts_ok = counts_ok and tally in (message.text or "")
            progress(
                f"card #{card.proposal_id}: final {final_after[card.round_id]:.1f}s after its "
                f"last press ({len(edits)} edits)"
            )

        group = world.group_calls(calls_before)
        sent = [c for c in group if c.ok]
        edit_times = [c.at for c in sent if c.method == "editMessageText"]
        during = [at for at in edit_times if at <= burst_end]
        gaps = [later - earlier for earlier, later in itertools.pairwise(edit_times)]
        figure("burst_seconds", round(burst_end - started, 1))
        figure("burst_presses", len(presses))
        figure("burst_rate_per_s", len(presses) / max(burst_end - started, 1e-9))
        figure("burst_answer_latency_p50_ms", percentile(burst_ms, 0.50))
        figure("burst_answer_latency_p99_ms", percentile(burst_ms, 0.99))
        figure("burst_answer_latency_max_ms", max(burst_ms, default=math.nan))
        figure("card_edits_total", len(edit_times))
        figure("card_edits_per_min_avg", len(during) / max(burst_end - started, 1e-9) * 60)
        figure("card_edit_gap_min_s", min(gaps, default=math.nan))
        figure("card_edits_per_min_max", max_in_window(edit_times))
        figure("group_messages_per_min_max", max_in_window(c.at for c in sent))
        figure("provoked_429", sum(1 for c in group if c.status == 429))
        for number, card in enumerate(both, start=1):
            figure(f"final_state_after_last_press_s_card{number}", final_after[card.round_id])
        figure("final_state_after_last_press_s", max(final_after.values()))
        figure("final_card_counts_match", counts_ok)
        figure("part2_presses_unanswered", unanswered)
        figure("part2_presses_answered_twice", twice)
        figure("part2_answers_not_recorded", unexpected)
        figure("part2_one_answer_per_press", unanswered == twice == unexpected == 0)
        figure("part2_stored_equals_last_press", stored_ok)
        return stored_ok
    finally:
        await world.stop()


# -- main ------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.votes", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--http", action="store_true", help="talk to the model over HTTP")
    parser.add_argument("--part", choices=("1", "2", "both"), default="both")
    parser.add_argument("--quick", action="store_true", help="a 20 s burst: a smoke check")
    parser.add_argument("--burst-seconds", type=float, default=180.0)
    parser.add_argument("--rate", type=float, default=5.0, help="presses per second in part 2")
    parser.add_argument("--electorate", type=int, default=500)
    parser.add_argument("--presses-per-member", type=int, default=4, help="part 1")
    parser.add_argument("--window", type=int, default=2, help="presses in flight in part 1")
    parser.add_argument("--unloaded-presses", type=int, default=100, help="part 1, one by one")
    parser.add_argument(
        "--concurrent-updates",
        type=int,
        default=1,
        help="above 1: PTB's SimpleUpdateProcessor with that many updates at once instead of"
        " the bot's own ordered processor (default 1: the bot's own, as `wiq-bot run`)",
    )
    parser.add_argument(
        "--floor",
        choices=("on", "off", "only"),
        default="on",
        help="bench.floor, the least an Application does for a press, measured like part 1"
        " right after it (on, the default, whenever part 1 runs), not at all (off) or alone"
        " (only)",
    )
    parser.add_argument(
        "--interleave",
        type=int,
        default=1,
        help="above 1: the bot's part 1 and the floor's run at once, their loaded presses in"
        " that many parts each, taking turns (both meet the same load of a shared machine);"
        " default 1: the bot's, then the floor's",
    )
    parser.add_argument(
        "--floor-concurrent-updates",
        type=int,
        default=0,
        help="the floor's PTB concurrent_updates (default: as many as the bot may handle)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample where part 1's loaded presses spend their time (bench.profile), for the bot"
        " and the floor, and print the top entries after the figures",
    )
    parser.add_argument(
        "--profile-top", type=int, default=12, help="functions listed per profile table"
    )
    parser.add_argument("--final-timeout", type=float, default=120.0)
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--db-dir", type=Path, default=None, help="where the SQLite files go")
    parser.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING"])
    args = parser.parse_args(argv)
    if args.quick:
        args.burst_seconds = 20.0
    return args


async def run(args: argparse.Namespace) -> bool:
    ok = True
    load = os.getloadavg()[0]
    progress(f"load average at start: {load:.2f} on {os.cpu_count()} CPU(s)")
    figure("host_load_avg_1m_at_start", load)
    bot_part1 = args.floor != "only" and args.part in ("1", "both")
    floor = args.floor == "only" or (args.floor == "on" and bot_part1)
    bot_part2 = args.floor != "only" and args.part in ("2", "both")
    with tempfile.TemporaryDirectory(prefix="wiq-bench-", dir=args.db_dir) as tmp:
        root = Path(tmp)
        bot: Throughput | None = None
        floor_run: Throughput | None = None
        if bot_part1 and floor and args.interleave > 1:
            for name in ("part1", "floor"):
                (root / name).mkdir()
            turns = Turns()
            (bot_ok, bot), (floor_ok, floor_run) = await asyncio.gather(
                part_throughput(args, root / "part1", turns),
                part_floor(args, root / "floor", turns),
            )
            ok = bot_ok and floor_ok and ok
        else:
            if bot_part1:
                directory = root / "part1"
                directory.mkdir()
                stored_ok, bot = await part_throughput(args, directory)
                ok = stored_ok and ok
            if floor:
                directory = root / "floor"
                directory.mkdir()
                stored_ok, floor_run = await part_floor(args, directory)
                ok = stored_ok and ok
        if bot is not None and floor_run is not None and floor_run.per_s:
            ratio = bot.per_s / floor_run.per_s
            progress(
                f"bot {bot.per_s:.0f}/s, floor {floor_run.per_s:.0f}/s: ratio bot/floor {ratio:.2f}"
            )
            figure("throughput_ratio_bot_over_floor", ratio)
            # The same ratio from CPU time: what a press costs the process, whatever else the
            # machine runs meanwhile (the wall-time ratio moves with the other processes' load).
            if bot.cpu_us:
                figure("cpu_ratio_floor_over_bot", floor_run.cpu_us / bot.cpu_us)
        if bot_part2:
            directory = root / "part2"
            directory.mkdir()
            ok = await part_burst(args, directory) and ok
    figure("stored_equals_last_press", ok)
    for label, sampler, presses in PROFILES:
        print("\n".join(sampler.report(label, presses, top=args.profile_top)), flush=True)
    return ok


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level,
        stream=sys.stderr,
        format="%(asctime)s level=%(levelname)s logger=%(name)s %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
