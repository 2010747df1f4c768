"""End-to-end harness: the real Application, a real database (a SQLite file, or the
PostgreSQL test database: `backend`), the local Bot API model.

A test says what people do (`await h.say(ST, ANNA, "/members")`) and reads what the bot
sent back; `settle()` waits until every injected update has been handled. A team is set up one
way, `Harness.set_up_team` (through the `team` fixture: `h, d = await team("ST")`), and time
passes one way, `Harness.due`."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import sqlite3
import sys
import tempfile
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.cli import HOLD_UPDATES_ENV
from bot.clock import ManualClock
from bot.config import Config, load_config
from bot.local import LocalBot
from bot.texts.i18n import t
from localapi.model import BotApiModel
from localapi.records import MessageRec

TOKEN = "123456789:TEST-wiq-local"
BOT_USERNAME = "wiq_test_bot"

# People
ADMIN = 1  # network admin
ANNA = 10
BERT = 11
CARL = 12  # no username (carl_x in the bot `start_bot` starts)
DORA = 13  # speaks English
EVE = 14  # in no team
# Chats
PT = -1001000000001
ST = -1001000000002
LT = -1001000000003
KT = -1001000000004
PLAIN = -5005  # a basic group, not a supergroup
UT = -1001000000005
PUBLIC = -1001000000099  # a chat for the public digest, bound to no team
NEWBIE = 77  # never seen by the bot
OUTSIDER = 88

THE_FOUR = (ANNA, BERT, CARL, DORA)  # a team's usual roster; Eve is in its chat, not on it

# -- the backend ---------------------------------------------------------------------------
# The storage and end-to-end tests run on SQLite and, with WIQ_TEST_POSTGRES_URL set, on
# PostgreSQL too (tests/conftest.py: the `backend` fixture empties that database before each
# test and points the harness at it for the test's length).

POSTGRES_URL_ENV = "WIQ_TEST_POSTGRES_URL"
_postgres_url: str | None = None


def use_postgres(url: str | None) -> None:
    """From now on the databases the harness makes are this PostgreSQL one (None: SQLite
    files again)."""
    global _postgres_url
    _postgres_url = url


def on_postgres() -> bool:
    return _postgres_url is not None


def database_at(tmp_path: Path) -> Path | str:
    """Where a test's database is: tmp_path/wiq.sqlite, or the PostgreSQL test database."""
    return _postgres_url or tmp_path / "wiq.sqlite"


# A new SQLite database at the current schema, made once per run: a test's bot (or storage)
# starts on a copy of it instead of running every migration from 001 again (the PostgreSQL
# test database is migrated once too, tests/conftest.py). The tests of the migrations
# themselves (tests/test_ops_migrate.py, test_storage's sqlite_only ones, ...) make their
# files their own way and never come here.
_new_database: list[bytes] = []


async def place_new_database(path: Path | str) -> None:
    """Put at `path`, if nothing is there yet, what the bot's first open makes of a new
    SQLite file (every migration applied, nothing else), mode PRIVATE as it would create it.
    On PostgreSQL (a URL): nothing."""
    from storage.db import Database

    if not isinstance(path, Path):
        return
    if not _new_database:
        with tempfile.TemporaryDirectory() as folder:
            made = Path(folder) / "new.sqlite"
            db = Database(made)
            await db.open()
            await db.close()
            _new_database.append(_read_closed(made))
    _write_new(path, _new_database[0])


def _read_closed(path: Path) -> bytes:
    assert not Path(f"{path}-wal").exists(), "the closed database left its WAL behind"
    return path.read_bytes()


def _write_new(path: Path, content: bytes) -> None:
    from storage.db import PRIVATE

    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE), "wb") as file:
        file.write(content)


class PeekRow(tuple):  # type: ignore[type-arg]
    """A row read by `peek` from PostgreSQL: a tuple (compares as one), also by name."""

    _names: tuple[str, ...] = ()

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._names.index(key))
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._names)


class _Rows:
    def __init__(self, rows: list[PeekRow], rowcount: int) -> None:
        self.rows = rows
        self.rowcount = rowcount

    def fetchall(self) -> list[PeekRow]:
        return self.rows

    def fetchone(self) -> PeekRow | None:
        return self.rows[0] if self.rows else None

    def __iter__(self) -> Any:
        return iter(self.rows)


class Peek:
    """What a test reads (or puts right) in the PostgreSQL test database behind the bot's
    back, as it would with sqlite3: `execute(sql, params).fetchall()`, SQLite's SQL (the
    dialect translates it), each statement committed by itself. Its connection lives in a
    thread of its own, so that the test's loop may wait for it."""

    def __init__(self, url: str) -> None:
        from storage.postgres import PostgresConnection

        self.row_factory: Any = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._conn = self._run(PostgresConnection.connect(url))
        self._run(self._conn.load_schema())

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=30)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _Rows:
        async def run() -> _Rows:
            if sql.lstrip().upper().startswith(("SELECT", "WITH")) or " RETURNING " in sql:
                records = await self._conn.execute_fetchall(sql, params)
                rows = []
                for record in records:
                    row = PeekRow(tuple(record))
                    row._names = tuple(record.keys())
                    rows.append(row)
                return _Rows(rows, len(rows))
            cursor = await self._conn.execute(sql, params)
            return _Rows([], cursor.rowcount)

        return self._run(run())

    def commit(self) -> None:
        pass  # each statement is committed by itself

    def close(self) -> None:
        if self._loop.is_running():
            self._run(self._conn.close())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
            self._loop.close()

    def __enter__(self) -> Peek:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def peek(where: Config | Path | str) -> Any:
    """A plain connection to a test's database: sqlite3's to the file, a `Peek` at the
    PostgreSQL test database."""
    target = where.database if isinstance(where, Config) else where
    if isinstance(target, str) and target.startswith("postgresql://"):
        return Peek(target)
    return sqlite3.connect(target)


def dialect_of(connection: Any) -> Any:
    """The dialect of what `peek` returned: its questions about the schema."""
    from storage.dialect import POSTGRES, SQLITE

    return POSTGRES if isinstance(connection, Peek) else SQLITE


def committed_elsewhere(sql: str) -> list[tuple[Any, ...]]:
    """What another connection to the PostgreSQL test database sees (only what is
    committed)."""
    assert _postgres_url is not None
    with Peek(_postgres_url) as other:
        return [tuple(row) for row in other.execute(sql).fetchall()]


def storage_place(db_path: Path) -> str:
    """The [storage] line that names the database."""
    if _postgres_url is not None:
        return f'url = "{_postgres_url}"'
    return f'path = "{db_path}"'


def config_text(db_path: Path, language: str = "de", extra: str = "", networks: str = "") -> str:
    """The tests' config: one network ("WiQ Test"), or the `[[networks]]` given."""
    network = (
        networks
        or f"""
[network]
name = "WiQ Test"
admins = [{ADMIN}]
language = "{language}"
"""
    )
    return f"""
[telegram]
token = "{TOKEN}"
base_url = "http://127.0.0.1:9/bot"
poll_timeout = 1
{network}
[storage]
{storage_place(db_path)}
{extra}
"""


def make_config(
    tmp_path: Path, language: str = "de", extra: str = "", networks: str = ""
) -> Config:
    path = tmp_path / "config.toml"
    text = config_text(tmp_path / "wiq.sqlite", language, extra, networks)
    path.write_text(text, encoding="utf-8")
    return load_config(path, env={})


def make_model(clock: Any = None) -> BotApiModel:
    kwargs = {"clock": clock} if clock is not None else {}
    model = BotApiModel(token=TOKEN, bot_username=BOT_USERNAME, **kwargs)
    model.add_user(ADMIN, "Ada", username="ada_admin")
    model.add_user(ANNA, "Anna", username="anna")
    model.add_user(BERT, "Bert", username="bert")
    model.add_user(CARL, "Carl")
    model.add_user(DORA, "Dora", username="dora", language_code="en")
    model.add_user(EVE, "Eve", username="eve")
    everyone = [ANNA, BERT, CARL, DORA, EVE]
    model.add_group(PT, "PT", members=everyone, admins=[ADMIN], bot_status="administrator")
    model.add_group(ST, "ST", members=everyone, admins=[ADMIN], bot_status="administrator")
    model.add_group(KT, "KT", members=everyone, admins=[ADMIN], bot_status="administrator")
    model.add_group(LT, "LT", members=[BERT, CARL, EVE], admins=[ANNA], bot_status="administrator")
    model.add_group(PUBLIC, "Öffentlich", members=[EVE], admins=[ADMIN], bot_status="administrator")
    model.add_group(
        PLAIN, "Plain", type="group", members=everyone, admins=[ADMIN], bot_status="administrator"
    )
    return model


class Harness(LocalBot):
    """The bot on the local Bot API, with what the tests say and read."""

    jobs_running = 0  # JobQueue jobs (the one timer, outbox flushes) started, not finished

    async def start(self) -> None:
        """The bot starts; on a new SQLite file, one migrated once per run (see
        `place_new_database`). From then on the jobs of its JobQueue are counted while they
        run (for `settle`)."""
        if self.config.storage_path is not None:
            await place_new_database(self.config.storage_path)
        self.jobs_running = 0
        await super().start()
        assert self.app is not None and self.app.job_queue is not None
        scheduler = self.app.job_queue.scheduler  # APScheduler's, under the JobQueue
        add_job = scheduler.add_job

        def add_counted(run: Any, *args: Any, **kwargs: Any) -> Any:
            async def counted(*run_args: Any) -> None:
                self.jobs_running += 1
                try:
                    await run(*run_args)
                finally:
                    self.jobs_running -= 1

            return add_job(counted, *args, **kwargs)

        scheduler.add_job = add_counted  # type: ignore[method-assign]

    async def settle(self, limit: float = 5.0) -> None:
        """Until the bot has fetched and finished handling every update injected so far (but
        those a test holds), and no job is due now or running: what a handler left to the
        timer at once (an early close, due now) is done too. Looked at every millisecond:
        idle three looks in a row is idle (the five milliseconds of `LocalBot.settle` between
        looks were most of an end-to-end test's time)."""
        # A statement on PostgreSQL is a round trip to the server, not a call into the
        # process: on a busy machine a batch of updates takes longer to settle there.
        limit = limit * 3 if on_postgres() else limit
        assert self.app is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        quiet = 0
        while quiet < 3:
            quiet = quiet + 1 if self._idle() else 0
            if quiet == 3 and self._job_due():
                quiet = 0
            if loop.time() > deadline:
                raise TimeoutError("the bot did not finish handling its updates")
            await asyncio.sleep(0.001)

    def _idle(self) -> bool:
        """No update waits to be fetched, to be handled or to be marked in the inbox (but those
        held), and no job runs."""
        assert self.app is not None
        held = self.processor.held
        return not (
            self.model.pending_updates
            or not self.app.update_queue.empty()
            or self.processor.in_flight != held
            # the marks in the inbox too; held updates are in flight there as well
            or self.inbox_processor.in_flight != held
            or self.jobs_running
        )

    def _job_due(self) -> bool:
        """A job of the JobQueue is due now (its moment passed, or comes within 10 ms)."""
        assert self.app is not None and self.app.job_queue is not None
        soon = datetime.now(UTC) + timedelta(milliseconds=10)
        return any(
            job.next_run_time is not None and job.next_run_time <= soon
            for job in self.app.job_queue.scheduler.get_jobs()
        )

    async def flush_edits(self) -> None:
        """Let the outbox's spaced-out card edits go out (time moves on by one interval)."""
        if isinstance(self.clock, ManualClock):
            self.clock.advance(self.outbox.edit_interval)
            await self.outbox.flush_all()
            await self.settle()

    def hold(self, user_id: int) -> None:
        """From now on this person's presses and poll answers wait (handed to the processor,
        their turn taken, not yet handled) until `release`: a slow update, staged."""
        self.processor.hold(("person", user_id))

    def release(self, user_id: int) -> None:
        self.processor.release(("person", user_id))

    def last_id(self, chat_id: int) -> int:
        messages = self.model.messages(chat_id)
        return max((m.message_id for m in messages), default=0)

    async def say(self, chat_id: int, user_id: int, text: str, **kwargs: Any) -> MessageRec | None:
        """A person writes; returns the bot's first message in that chat afterwards, if any."""
        sent = self.model.send_message(chat_id, user_id, text, **kwargs)
        await self.settle()
        return self.reply_after(chat_id, sent["message_id"])

    def reply_after(self, chat_id: int, message_id: int) -> MessageRec | None:
        return next(
            (m for m in self.model.bot_messages(chat_id) if m.message_id > message_id), None
        )

    def bot_texts(self, chat_id: int) -> list[str]:
        return [m.text or "" for m in self.model.bot_messages(chat_id)]

    def last_text(self, chat_id: int) -> str:
        """The bot's last message in the chat but the weekly digests: a week going by
        (`due`) brings the Wochenrückblick too."""
        return next((t for t in reversed(self.bot_texts(chat_id)) if not t.startswith("📅")), "")

    async def bind(self, chat_id: int, kind: str, name: str, by: int = ADMIN) -> MessageRec:
        reply = await self.say(chat_id, by, f"/setup {kind} {name}")
        assert reply is not None and "✅" in (reply.text or ""), reply
        return reply

    async def admit(self, chat_id: int, username: str, *rest: str) -> MessageRec:
        reply = await self.say(chat_id, ADMIN, " ".join(["/admit", f"@{username}", *rest]))
        assert reply is not None
        return reply

    async def roster(self, chat_id: int, asker: int = ADMIN) -> list[str]:
        """The names /members lists in the chat, as the person asking sees them there (in a
        chat-mode team, ask as someone on the roster: writing in the chat puts one on it)."""
        reply = await self.say(chat_id, asker, "/members")
        assert reply is not None and reply.text is not None
        lines = [line[2:] for line in reply.text.splitlines() if line.startswith("• ")]
        return [line.split(" – ")[0].split(" (@")[0] for line in lines]

    async def due(self, seconds: float) -> None:
        """Time moves on by `seconds`; what is due then is done as the one timer does it when
        it fires (deadlines, lapsed nominations, elections, invitations, reminders, the
        digest), and the card edits go out."""
        assert isinstance(self.clock, ManualClock)
        self.clock.advance(seconds)
        await self.due_timer.run()
        await self.settle()
        await self.flush_edits()

    async def set_up_team(
        self,
        kind: str,
        members: Sequence[int] = THE_FOUR,
        *,
        chat: int | None = None,
        name: str | None = None,
        by: int = ADMIN,
    ) -> None:
        """A team as the network sets one up: /setup in its chat, then its members on the
        roster. Each member writes there first (so the bot knows them); a network admin admits
        them by @username, or by replying to their message if they have none, in the ST to a
        civil-society seat. An LT is bound by Anna, its chat's admin, and NET by a network
        admin: their rosters are whoever writes in the chat."""
        chat_id = chat if chat is not None else DEFAULT_CHATS[kind]
        language = self.config.networks[0].language
        binder = {"LT": ANNA}.get(kind, by)
        await self.bind(chat_id, kind, name or TEAM_NAMES[language][kind], by=binder)
        hellos = {}
        for user in members:
            if user != binder:
                hellos[user] = self.model.send_message(chat_id, user, "Hallo")["message_id"]
        if hellos:
            await self.settle()
        if kind in CHAT_ROSTER_KINDS:
            return
        seat = ["zivilgesellschaft"] if kind == "ST" else []
        after = self.last_id(chat_id)
        for user, hello in hellos.items():  # handled in order: one settle for them all
            username = self.model.users[user].username
            if username:
                self.model.send_message(chat_id, by, " ".join(["/admit", f"@{username}", *seat]))
            else:
                self.model.send_message(chat_id, by, " ".join(["/admit", *seat]), reply_to=hello)
        await self.settle()
        replies = [m.text or "" for m in self.model.bot_messages(chat_id) if m.message_id > after]
        assert len(replies) == len(hellos) and all("✅" in r for r in replies), replies


TEAM_NAMES = {
    "de": {
        "PT": "Projektteam",
        "ST": "Steuerungsteam",
        "UT": "Unterstützungsteam",
        "KT": "Kernteam",
        "LT": "Gemeinschaftsgarten",
        "NET": "Wir im Quartier",
    },
    "en": {
        "PT": "Project team",
        "ST": "Steering team",
        "UT": "Support team",
        "KT": "Core team",
        "LT": "Community garden",
        "NET": "Wir im Quartier",
    },
}
DEFAULT_CHATS = {"PT": PT, "ST": ST, "UT": UT, "KT": KT, "LT": LT, "NET": KT}
CHAT_ROSTER_KINDS = ("LT", "NET")


CARD_WORDS = {"de": ("Vorschlag", "Konsensrunde"), "en": ("Proposal", "consensus round")}


class DecisionSteps:
    """Mixin-free helpers for the decision tests, on top of a Harness."""

    def __init__(self, h: Harness, lang: str = "de") -> None:
        self.h = h
        self.lang = lang

    def card(self, chat_id: int, proposal_id: int, round_number: int = 1) -> MessageRec:
        proposal, round_ = CARD_WORDS[self.lang]
        header = f"{proposal} #{proposal_id}</b> · {round_} {round_number} "
        plain = f"{proposal} #{proposal_id} · {round_} {round_number} "
        for message in reversed(self.h.model.bot_messages(chat_id)):
            text = message.text or ""
            if plain in text or header in text:
                return message
        raise AssertionError(f"no card for #{proposal_id} round {round_number}")

    async def press(
        self, chat_id: int, proposal_id: int, user_id: int, choice: str, round_number: int = 1
    ) -> dict[str, Any]:
        card = self.card(chat_id, proposal_id, round_number)
        query = self.h.model.press_button(
            chat_id, card.message_id, user_id, button_text=str(t(self.lang, f"choice.{choice}"))
        )
        answer = await self.h.model.wait_callback_answer(query)
        await self.h.settle()
        await self.h.flush_edits()
        return answer

    async def press_closed(
        self, chat_id: int, proposal_id: int, user_id: int, round_number: int = 1
    ) -> dict[str, Any]:
        """Press a button of a card whose keyboard is gone, as a stale client still shows it."""
        card = self.card(chat_id, proposal_id, round_number)
        [[first, *_], *_] = keyboard_once_shown(self.h.model, chat_id, card.message_id)
        query = self.h.model.press_button(
            chat_id, card.message_id, user_id, callback_data=first["callback_data"], forge=True
        )
        answer = await self.h.model.wait_callback_answer(query)
        await self.h.settle()
        await self.h.flush_edits()
        return answer


def keyboard_once_shown(model: BotApiModel, chat_id: int, message_id: int) -> list[list[Any]]:
    """The last inline keyboard the bot gave a message (a client may still show it)."""
    for call in reversed(model.calls):
        params = call.params
        if not call.ok or str(params.get("chat_id")) != str(chat_id):
            continue
        target = params.get("message_id") or (call.result or {}).get("message_id")
        markup = params.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        if str(target) == str(message_id) and markup and markup.get("inline_keyboard"):
            return [list(row) for row in markup["inline_keyboard"]]
    raise AssertionError(f"message {message_id} in {chat_id} never had a keyboard")


async def start_bot(
    tmp_path: Path,
    *,
    extra: str = "",
    language: str = "de",
    start: datetime | None = None,
    grace: str = "0s",
    limits: str = "",
    networks: str = "",
) -> Harness:
    """The bot as the team tests run it: on a manual clock (from `start`), deadlines as short as
    1 s, no flood limit of the model in the way, an early close at once once everything before
    the completing answer was handled (`grace`: `early_close_grace`, as the races test it;
    `limits`: more lines of the `[limits]` table). Carl has a username (carl_x); Nele (never
    seen by the bot) and Otto exist; so does the UT's chat, with nobody in it. In a network of
    another language everyone speaks that language."""
    clock = ManualClock(start)
    limits = f'[limits]\nearly_close_grace = "{grace}"\n{limits}'
    config = make_config(
        tmp_path,
        language=language,
        extra=limits + '[policy]\nmin_deadline = "1s"\n' + extra,
        networks=networks,
    )
    model = make_model(clock=clock.monotonic)
    if networks:
        everyone = [ADMIN, ANNA, BERT, CARL, DORA, EVE]
        model.add_user(ADMIN_B, "Berit", username="berit_admin")
        for kind, chat_id in CHATS_B.items():
            admins = [ANNA] if kind == "LT" else [ADMIN_B]
            model.add_group(
                chat_id,
                f"{kind} Südwest",
                members=everyone,
                admins=admins,
                bot_status="administrator",
            )
    model.group_limit_per_minute = None
    model.users[CARL].username = "carl_x"
    model.add_user(NEWBIE, "Nele", username="nele_neu")
    model.add_user(OUTSIDER, "Otto", username="otto")
    model.add_group(UT, "UT", members=[], admins=[ADMIN], bot_status="administrator")
    if language != "de":
        for user in model.users.values():
            user.language_code = language
    h = Harness(model, config, clock=clock)
    await h.start()
    return h


# A second network beside the first ("WiQ Test"), for the tests of a deployment of several
# (SPEC §1): its admin, and its chats. Anna, Bert, Carl and Dora are known to both networks
# once they write in its chats; Ada is the first network's admin only (and in the second's
# chats too), Berit the second's.
ADMIN_B = 2
PT_B = -1002000000001
ST_B = -1002000000002
LT_B = -1002000000003
KT_B = -1002000000004
CHATS_B = {"PT": PT_B, "ST": ST_B, "LT": LT_B, "KT": KT_B}
SECOND_NETWORK = f"""
[[networks]]
name = "WiQ Test"
key = "test"
admins = [{ADMIN}]
[[networks]]
name = "Südwest"
key = "suedwest"
admins = [{ADMIN_B}]
"""


async def start_two_networks(tmp_path: Path, **options: Any) -> Harness:
    """`start_bot` for a deployment of two networks: "WiQ Test" (key test, admin Ada, the
    usual chats) and "Südwest" (key suedwest, admin Berit, the chats of CHATS_B, where the
    usual people are members too)."""
    h = await start_bot(tmp_path, networks=SECOND_NETWORK, **options)
    return h


class Teams:
    """The one way to set up teams in a test (the `team` fixture): the first call starts the
    bot (`start_bot`, its options go with that call), every call sets up one more team of the
    same network (`Harness.set_up_team`) and returns the bot with the decision steps."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.h: Harness | None = None

    async def __call__(
        self,
        kind: str = "ST",
        members: Sequence[int] = THE_FOUR,
        *,
        chat: int | None = None,
        name: str | None = None,
        **bot_options: Any,
    ) -> tuple[Harness, DecisionSteps]:
        h = await self.bot(**bot_options)
        await h.set_up_team(kind, members, chat=chat, name=name)
        return h, DecisionSteps(h, h.config.network.language)

    async def bot(self, **bot_options: Any) -> Harness:
        if self.h is None:
            self.h = await start_bot(self.tmp_path, **bot_options)
        elif bot_options:
            raise ValueError(f"the bot is already running; {bot_options} go with the first team")
        return self.h

    async def network(self, **bot_options: Any) -> tuple[Harness, DecisionSteps]:
        """PT: Anna, Bert. ST: Carl, Dora. A UT with nobody yet. Eve, the usual candidate, has
        written in the PT's chat, so the bot knows her; she is on no roster."""
        h, _ = await self("PT", (ANNA, BERT), **bot_options)
        await self("ST", (CARL, DORA))
        h.model.send_message(PT, EVE, "Hallo")  # handled while the UT is set up
        return await self("UT", ())

    async def stop(self) -> None:
        if self.h is not None:
            await self.h.stop()


ROOT = Path(__file__).resolve().parent.parent


async def start_process(
    config_path: Path,
    *,
    hold_updates: float | None = None,
    log_level: str | None = None,
    log_format: str | None = None,
    env: dict[str, str] | None = None,
) -> asyncio.subprocess.Process:
    """A real `wiq-bot run` (as systemd would start it), its output piped; the token comes
    from the config, never from this environment (unless `env` sets WIQ_BOT_TOKEN, which it
    adds to it). `hold_updates`: the test-only hold before each update is handled (the window
    in which a test kills it)."""
    args = ["run", "--config", str(config_path)]
    if log_level is not None:
        args += ["--log-level", log_level]
    if log_format is not None:
        args += ["--log-format", log_format]
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        cwd=ROOT,
        env=_process_env(hold_updates, env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


def _process_env(hold_updates: float | None, extra: dict[str, str] | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("WIQ_BOT_TOKEN", HOLD_UPDATES_ENV)}
    if hold_updates is not None:
        env[HOLD_UPDATES_ENV] = str(hold_updates)
    return env | (extra or {})


async def wiq_bot(*args: str, within: float = 30) -> tuple[int, str, str]:
    """An operator's `wiq-bot` command (health, backup, restore, migrate, …) as a real
    process: (exit code, stdout, stderr)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        cwd=ROOT,
        env=_process_env(None, None),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), within)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def write_config(tmp_path: Path, base_url: str, extra: str = "", token: str = TOKEN) -> Path:
    """The config of a real process (`start_process`, `wiq_bot`) on tmp_path/wiq.sqlite,
    against the Bot API at `base_url` (a LocalBotApiServer's)."""
    path = tmp_path / "config.toml"
    text = config_text(tmp_path / "wiq.sqlite", extra=extra)
    path.write_text(
        text.replace("http://127.0.0.1:9/bot", base_url).replace(TOKEN, token), encoding="utf-8"
    )
    return path


def free_port() -> int:
    """A port nothing listens on (yet)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def lines_until(
    process: asyncio.subprocess.Process, pattern: str, count: int = 1, within: float = 20
) -> list[str]:
    """A running process's output lines up to the `count`-th that contains `pattern`."""
    assert process.stdout is not None
    seen: list[str] = []
    found = 0
    async with asyncio.timeout(within):
        while found < count:
            raw = await process.stdout.readline()
            assert raw, "the process ended:\n" + "".join(seen)
            line = raw.decode()
            seen.append(line)
            found += pattern in line
    return seen


async def finish(process: asyncio.subprocess.Process, within: float = 20) -> str:
    """The rest of a process's output, once it has ended by itself (or by a signal sent);
    one that does not end in time is killed (no test leaves a bot running)."""
    try:
        output, _ = await asyncio.wait_for(process.communicate(), within)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    return output.decode()


def database_at_schema(path: Path, version: int) -> None:
    """A database as a wiq-bot of schema `version` left it: the migrations 001 … `version`
    applied, each recorded as Database._migrate records it (the file's own SQL, in order)."""
    folder = ROOT / "storage" / "migrations"
    files = sorted(f for f in folder.glob("*.sql") if int(f.name.split("_", 1)[0]) <= version)
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(
            "CREATE TABLE schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        for file in files:
            db.executescript("BEGIN;\n" + file.read_text(encoding="utf-8") + "\nCOMMIT;")
            db.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, '2026-01-01T00:00:00.000000Z')",
                (int(file.name.split("_", 1)[0]), file.name),
            )
            db.commit()
