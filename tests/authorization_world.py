"""The machinery of the authorization matrix (tests/test_authorization_matrix.py): the
network it runs in, prepared once; one cell run on a copy of it; what a cell did.

The network: every team kind bound (PT, ST, KT, UT by a network admin with their rosters
entered in the set-up phase; the LT by its chat's admin and the NET by a network admin, both in
roster mode `chat`), in each team a proposal with an open round (A, whose card the presses
use) and one whose round failed (P, waiting for its proposer's revision), an unbound group, and
five questions asked privately of Quinn (a nomination, a delegation, a candidacy, her
Anliegen's choice, /forgetme). Everybody is in every group chat and has started the bot.

A cell runs on a copy of that network (the SQLite file copied, the local Bot API's state
unpickled), in its own bot: a worker keeps its bot for the next cell as long as a cell (and its
person's writing in the chat first, where a cell asks for that) left the database as it found
it, and starts a fresh copy after one that changed something, so every cell meets the prepared
network. Several workers run side by side in one event loop.

`prepare(second=True)` builds a deployment of two networks instead (`_build_two`), for the
matrix's network dimension: "WiQ Test" as above but without Quinn's questions and with its LT
bound by Ada, and "Südwest" (admin Berit, people of its own, chats CHATS_B) alike.
"""

from __future__ import annotations

import asyncio
import html
import pickle
import re
import shutil
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.clock import ManualClock
from bot.config import Config
from bot.texts.i18n import catalogue
from localapi.model import BotApiModel
from localapi.records import MessageRec
from localapi.textparse import detect_entities, sort_entities
from tests.harness import BOT_USERNAME, TOKEN, Harness, make_config

# -- people ---------------------------------------------------------------------------------

ADA = 1  # the network admin (config), on no roster but the NET's (she bound it there)
PAULA, PIET = 21, 22  # PT
STELLA, SVEN = 23, 24  # ST
KARL, KIM = 25, 26  # KT
UWE, UTE = 27, 28  # UT
LARS, LOTTE = 29, 30  # LT: Lotte is its chat's admin and bound it; Lars wrote there
NORA, NILS = 31, 32  # NET: they wrote there
EVE = 40  # on no roster; the unbound group's admin
QUINN = 41  # on no roster; the person the private questions are for
HELPER_BOT = 500  # another bot in every group

PEOPLE = {
    ADA: "Ada",
    PAULA: "Paula",
    PIET: "Piet",
    STELLA: "Stella",
    SVEN: "Sven",
    KARL: "Karl",
    KIM: "Kim",
    UWE: "Uwe",
    UTE: "Ute",
    LARS: "Lars",
    LOTTE: "Lotte",
    NORA: "Nora",
    NILS: "Nils",
    EVE: "Eve",
    QUINN: "Quinn",
}

# The second network ("Südwest", tests/test_authorization_matrix.py's network dimension): its
# admin Berit and two people on each of its teams, in a world of its own (`prepare(second=True)`)
# where everyone is in every group chat of both networks.
BERIT = 50
PEOPLE_B = {
    BERIT: "Berit",
    51: "Pia",
    52: "Pit",
    53: "Stina",
    54: "Sepp",
    55: "Kai",
    56: "Kira",
    57: "Ulf",
    58: "Una",
    59: "Leo",
    60: "Lea",
    61: "Nina",
    62: "Niko",
}
NETWORK_IDS = {"A": 1, "B": 2}  # the networks' ids in the database, in the config's order

# -- chats ----------------------------------------------------------------------------------

KINDS = ("PT", "ST", "KT", "UT", "LT", "NET")
CHATS = {
    "PT": -1001000000001,
    "ST": -1001000000002,
    "LT": -1001000000003,
    "KT": -1001000000004,
    "UT": -1001000000005,
    "NET": -1001000000006,
}
UNBOUND = -1001000000007
TEAM_NAMES = {
    "PT": "Projektteam",
    "ST": "Steuerungsteam",
    "KT": "Kernteam",
    "UT": "Unterstützungsteam",
    "LT": "Gemeinschaftsgarten",
    "NET": "Wir im Quartier",
}
# The two people on each team's roster: the first is "the member" of the matrix (and the
# proposer of the team's proposals), the second the one /remove names.
ROSTER = {
    "PT": (PAULA, PIET),
    "ST": (STELLA, SVEN),
    "KT": (KARL, KIM),
    "UT": (UWE, UTE),
    "LT": (LARS, LOTTE),
    "NET": (NORA, NILS),
}
CHAT_MODE = ("LT", "NET")
CHATS_B = {kind: chat_id - 1000000000 for kind, chat_id in CHATS.items()}  # -1002000000001 …
ROSTER_B = {kind: (51 + 2 * index, 52 + 2 * index) for index, kind in enumerate(ROSTER)}
TEAM_NAMES_B = {kind: f"{name} Südwest" for kind, name in TEAM_NAMES.items()}
TWO_NETWORKS = f"""
[[networks]]
name = "WiQ Test"
key = "test"
admins = [{ADA}]
[[networks]]
name = "Südwest"
key = "suedwest"
admins = [{BERIT}]
"""
SEAT = {"ST": " zivilgesellschaft"}

CONFIG_EXTRA = """
[limits]
early_close_grace = "0s"
group_window = "1s"
overall_per_second = 10000
[policy]
min_deadline = "1s"
"""


def username(user_id: int) -> str:
    return {**PEOPLE, **PEOPLE_B}[user_id].lower()


@dataclass(frozen=True)
class Button:
    """A button the bot showed: where, and what pressing it sends."""

    chat_id: int
    message_id: int
    data: str


@dataclass
class World:
    """What the prepared network holds, by name."""

    proposal: dict[str, int] = field(default_factory=dict)  # P per team kind (round failed)
    card: dict[str, Button] = field(default_factory=dict)  # A's Zustimmung per team kind
    questions: dict[str, Button] = field(default_factory=dict)  # Quinn's private questions
    # A message of the bot in each chat (a forged press needs a message to hang on).
    bot_message: dict[int, int] = field(default_factory=dict)
    # The second network's (prepare(second=True)): its P and its A's Zustimmung per team kind.
    proposal_b: dict[str, int] = field(default_factory=dict)
    card_b: dict[str, Button] = field(default_factory=dict)


@dataclass
class Prepared:
    world: World
    database: Path  # the prepared SQLite file (checkpointed, closed)
    template: bytes  # the local Bot API and its clock, stopped, pickled (copied fastest so)
    networks: str = ""  # the config's [[networks]] (none: the one network of make_config)

    def telegram(self) -> tuple[BotApiModel, ManualClock]:
        """A copy of the prepared local Bot API, with its clock."""
        model, clock = pickle.loads(self.template)
        return model, clock


def make_network_model(clock: ManualClock, second: bool = False) -> BotApiModel:
    model = BotApiModel(token=TOKEN, bot_username=BOT_USERNAME, clock=clock.monotonic)
    model.group_limit_per_minute = None
    people = {**PEOPLE, **(PEOPLE_B if second else {})}
    for user_id, name in people.items():
        model.add_user(user_id, name, username=name.lower())
    model.add_user(HELPER_BOT, "Helper", username="helper_bot", is_bot=True)
    everyone = [*people, HELPER_BOT]
    for kind, chat_id in CHATS.items():
        admins = [LOTTE] if kind == "LT" else [ADA]
        members = [user for user in everyone if user not in admins]
        model.add_group(chat_id, kind, members=members, admins=admins, bot_status="administrator")
    for kind, chat_id in CHATS_B.items() if second else ():
        admins = [ROSTER_B["LT"][1]] if kind == "LT" else [BERIT]
        members = [user for user in everyone if user not in admins]
        model.add_group(
            chat_id, f"{kind} Südwest", members=members, admins=admins, bot_status="administrator"
        )
    members = [user for user in everyone if user != EVE]
    model.add_group(
        UNBOUND, "Neue Gruppe", members=members, admins=[EVE], bot_status="administrator"
    )
    return model


async def prepare(directory: Path, *, second: bool = False) -> Prepared:
    """The network of the matrix, built as people would build it, then stopped; with `second`,
    a deployment of two networks instead, each with every team kind (`_build_two`)."""
    directory.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - before the bot runs
    clock = ManualClock()
    clock.advance(26 * 3600)  # Tuesday 3 November, 11:00 in Berlin: no digest falls due
    model = make_network_model(clock, second)
    networks = TWO_NETWORKS if second else ""
    config = make_config(directory, extra=CONFIG_EXTRA, networks=networks)
    h = Harness(model, config, clock=clock)
    await h.start()
    world = World()
    try:
        await (_build_two(h, world) if second else _build(h, world))
    finally:
        await h.stop()
    model.calls.clear()
    model.log.clear()
    database = config.storage_path
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return Prepared(world, database, pickle.dumps((model, clock)), networks)


async def _build(h: Harness, world: World) -> None:
    model = h.model
    for user_id in PEOPLE:
        model.start_bot(user_id)
    await h.settle()
    for kind in KINDS:
        binder = LOTTE if kind == "LT" else ADA
        await h.bind(CHATS[kind], kind, TEAM_NAMES[kind], by=binder)
    for kind, (first, second) in ROSTER.items():
        for user_id in (first, second):
            if user_id != LOTTE:
                model.send_message(CHATS[kind], user_id, "Hallo")
    await h.settle()
    for kind, people in ROSTER.items():
        if kind in CHAT_MODE:
            continue
        for user_id in people:
            advance(h)
            reply = await h.admit(CHATS[kind], username(user_id), *SEAT.get(kind, "").split())
            assert "✅" in (reply.text or ""), reply
    await h.say(UNBOUND, PAULA, "/help")
    # In each team: P, whose round fails for want of responses (Kein Quorum), waiting for
    # its proposer's revision; A, whose round is open.
    for kind, (first, _) in ROSTER.items():
        advance(h)
        await h.say(CHATS[kind], first, f"/propose 60s Vorschlag P des Teams {kind}")
        world.proposal[kind] = _newest_proposal(h, CHATS[kind])
    advance(h, 61)
    await h.due(0)
    assert all("Zu wenige Antworten" in h.last_text(chat) for chat in CHATS.values())
    for kind, (_, second) in ROSTER.items():
        advance(h)
        await h.say(CHATS[kind], second, f"/propose Vorschlag A des Teams {kind}")
        card = _newest_card(h, CHATS[kind])
        agree = next(b for row in card.buttons for b in row if b["text"] == "Zustimmung")
        world.card[kind] = Button(CHATS[kind], card.message_id, agree["callback_data"])
    # Quinn's questions, each asked privately with buttons.
    advance(h)
    await h.say(CHATS["PT"], PAULA, "/nominate @quinn UT")
    world.questions["accept"] = _question(h, "Annehmen")
    await h.say(ADA, ADA, "/delegate @quinn politik Stadtbezirksbeirat West")
    world.questions["confirm"] = _question(h, "Bestätigen")
    advance(h)
    await h.say(CHATS["NET"], ADA, "/election 1 @quinn")
    world.questions["stand"] = _question(h, "Ich kandidiere")
    await h.say(QUINN, QUINN, "/petition Mir geht es um die Sitzungszeiten")
    world.questions["petition_named"] = _question(h, "Mit meinem Namen")
    await h.say(QUINN, QUINN, "/forgetme")
    world.questions["forget_yes"] = _question(h, "Ja, vergiss mich")
    for chat_id in [*CHATS.values(), UNBOUND, *PEOPLE]:
        world.bot_message[chat_id] = model.bot_messages(chat_id)[0].message_id
    advance(h, 5)


async def _build_two(h: Harness, world: World) -> None:
    """Both networks with every team kind, each bound by its network's admin (with several
    networks an LT's group admin binds it with a code only), its rosters entered (in the LT
    and the NET: the two wrote there), in each team P (round failed) and A (round open).
    Everyone wrote in both PTs: both networks know everyone (each as a person of its own);
    and but for Eve, everyone wrote in both LTs and NETs (on those rosters by sighting, so that
    a cell's writing there first changes nothing)."""
    model = h.model
    networks = (
        (ADA, CHATS, ROSTER, TEAM_NAMES, world.proposal, world.card),
        (BERIT, CHATS_B, ROSTER_B, TEAM_NAMES_B, world.proposal_b, world.card_b),
    )
    for user_id in {**PEOPLE, **PEOPLE_B}:
        model.start_bot(user_id)
    await h.settle()
    for admin, chats, roster, names, proposals, _ in networks:
        for kind in KINDS:
            await h.bind(chats[kind], kind, names[kind], by=admin)
        for kind, people in roster.items():
            for user_id in people:
                model.send_message(chats[kind], user_id, "Hallo")
        # Both networks know everyone (Eve too), and everyone is on their chat-mode rosters
        # (so that a cell's writing there first changes nothing).
        for user_id in (*PEOPLE, *PEOPLE_B):
            if user_id != QUINN:
                model.send_message(chats["PT"], user_id, "Hallo")
            if user_id not in (QUINN, EVE):
                for kind in CHAT_MODE:
                    model.send_message(chats[kind], user_id, "Hallo")
        await h.settle()
        for kind, people in roster.items():
            if kind in CHAT_MODE:
                continue
            for user_id in people:
                advance(h)
                seat = SEAT.get(kind, "")
                reply = await h.say(chats[kind], admin, f"/admit @{username(user_id)}{seat}")
                assert reply is not None and "✅" in (reply.text or ""), reply
        for kind, (first, _) in roster.items():
            advance(h)
            await h.say(chats[kind], first, f"/propose 60s Vorschlag P des Teams {kind}")
            proposals[kind] = _newest_proposal(h, chats[kind])
    advance(h, 61)
    await h.due(0)
    for _, chats, roster, _, _, cards in networks:
        for kind, (_, second) in roster.items():
            assert "Zu wenige Antworten" in h.last_text(chats[kind]), h.last_text(chats[kind])
            advance(h)
            await h.say(chats[kind], second, f"/propose Vorschlag A des Teams {kind}")
            card = _newest_card(h, chats[kind])
            agree = next(b for row in card.buttons for b in row if b["text"] == "Zustimmung")
            cards[kind] = Button(chats[kind], card.message_id, agree["callback_data"])
    for user_id in {**PEOPLE, **PEOPLE_B}:  # they write privately: both networks may write back
        model.start_bot(user_id)
    await h.settle()
    for chat_id in [*CHATS.values(), *CHATS_B.values(), ADA, BERIT, *ROSTER_B["PT"]]:
        world.bot_message[chat_id] = model.bot_messages(chat_id)[0].message_id
    advance(h, 5)


def advance(h: Harness, seconds: float = 1.1) -> None:
    """Time moves on past the group window of the budget (1 s in this network)."""
    assert isinstance(h.clock, ManualClock)
    h.clock.advance(seconds)


def _newest_proposal(h: Harness, chat_id: int) -> int:
    card = _newest_card(h, chat_id)
    found = re.search(r"#(\d+)", card.text or "")
    assert found, card.text
    return int(found.group(1))


def _newest_card(h: Harness, chat_id: int) -> MessageRec:
    return next(m for m in reversed(h.model.bot_messages(chat_id)) if m.reply_markup)


def _question(h: Harness, label: str) -> Button:
    message = next(m for m in reversed(h.model.bot_messages(QUINN)) if m.reply_markup)
    button = next(b for row in message.buttons for b in row if b["text"] == label)
    return Button(QUINN, message.message_id, button["callback_data"])


# -- one cell -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Act:
    """What a cell does: someone writes `text` in a chat (as the group itself if `user_id` is
    None: an anonymous admin), or presses a button whose data is `data` on a message."""

    chat_id: int
    user_id: int | None
    text: str | None = None
    data: str | None = None
    message_id: int | None = None
    forged: bool = False  # the data is not that message's: a forged press
    seen_first: bool = False  # they write in the chat first (a chat-mode roster takes them)


Rows = frozenset[tuple[Any, ...]]


@dataclass
class Seen:
    """What a cell did."""

    messages: dict[int, list[MessageRec]]  # the bot's new messages, per chat
    edits: list[int]  # chats in which the bot edited a message
    answer: dict[str, Any] | None  # the answer to a press (text, show_alert), if any
    changed: dict[str, tuple[Rows, Rows]]  # per table: rows added, rows gone


# Tables that change with every update and say nothing about what was done: the inbox and
# the outbox, and when a person was last seen.
NOT_STATE = {"inbox", "outbox", "schema_migrations", "sqlite_sequence"}
NOT_STATE_COLUMNS = {"people": {"last_seen_at"}}


class State:
    """The database's content, table by table, read beside the bot (WAL lets it)."""

    def __init__(self, path: Path) -> None:
        self.connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        names = self.connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
        ).fetchall()
        self.queries: dict[str, str] = {}
        for (name,) in names:
            if name in NOT_STATE:
                continue
            columns = [row[1] for row in self.connection.execute(f"PRAGMA table_info({name})")]
            kept = [c for c in columns if c not in NOT_STATE_COLUMNS.get(name, set())]
            self.queries[name] = f"SELECT {', '.join(kept)} FROM {name}"

    def read(self) -> dict[str, Rows]:
        return {
            name: frozenset(self.connection.execute(query).fetchall())
            for name, query in self.queries.items()
        }

    def close(self) -> None:
        self.connection.close()


def difference(before: dict[str, Rows], after: dict[str, Rows]) -> dict[str, tuple[Rows, Rows]]:
    return {
        name: (after[name] - rows, rows - after[name])
        for name, rows in before.items()
        if after[name] != rows
    }


class Worker:
    """One bot at a time on a copy of the prepared network; a fresh copy after a cell that
    changed the database."""

    def __init__(self, prepared: Prepared, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.prepared = prepared
        self.config: Config = make_config(directory, extra=CONFIG_EXTRA, networks=prepared.networks)
        self.h: Harness | None = None
        self.state: State | None = None
        self.known: dict[str, Rows] | None = None  # the state after the last cell
        self.restarts = 0

    async def _fresh(self) -> Harness:
        database = self.config.storage_path
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)  # noqa: ASYNC240 - no bot runs
        shutil.copyfile(self.prepared.database, database)
        model, clock = self.prepared.telegram()
        h = Harness(model, self.config, clock=clock)
        await h.start()
        self.h, self.state = h, State(database)
        self.restarts += 1
        return h

    async def stop(self) -> None:
        if self.h is not None:
            await self.h.stop()
            assert self.state is not None
            self.state.close()
        self.h = self.state = self.known = None

    async def run(self, act: Act) -> Seen:
        h = self.h or await self._fresh()
        assert self.state is not None
        model = h.model
        written = False  # what writing first did (a chat-mode roster took them)
        if act.seen_first:
            assert act.user_id is not None
            prior = self.known or self.state.read()
            model.send_message(act.chat_id, act.user_id, "Hallo")
            await h.settle()
            self.known = None
            written = self.state.read() != prior
        before = self.known or self.state.read()
        advance(h)  # a fresh budget in every chat
        marks = {chat_id: _last_bot_message(chat) for chat_id, chat in model.chats.items()}
        calls = len(model.calls)
        query = None
        if act.data is not None:
            assert act.user_id is not None and act.message_id is not None
            query = model.press_button(
                act.chat_id, act.message_id, act.user_id, callback_data=act.data, forge=act.forged
            )
        elif act.user_id is None:
            model.send_anonymous_admin_message(act.chat_id, act.text or "")
        elif model.users[act.user_id].is_bot:
            _from_a_bot(model, act.chat_id, act.user_id, act.text or "")
        else:
            model.send_message(act.chat_id, act.user_id, act.text or "")
        await h.settle()
        after = self.state.read()
        changed = difference(before, after)
        self.known = after
        seen = Seen(
            messages={
                chat_id: new
                for chat_id, chat in model.chats.items()
                if (new := _bot_messages_after(chat, marks[chat_id]))
            },
            edits=[
                int(call.params.get("chat_id", 0))
                for call in model.calls[calls:]
                if call.ok and call.method in ("editMessageText", "editMessageReplyMarkup")
            ],
            answer=model.callback_queries[query].answer if query is not None else None,
            changed=changed,
        )
        if changed or written:
            await self.stop()
        return seen


def _from_a_bot(model: BotApiModel, chat_id: int, user_id: int, text: str) -> None:
    """Another bot writes. Telegram does not hand bots each other's messages (nor does the
    local Bot API), so this update is handed over as it is: the bot must not trust it."""
    chat = model.chat(chat_id)
    entities = sort_entities(detect_entities(text, []))
    message = model._new_message(chat, user_id, text=text, entities=entities)
    model._enqueue("message", model.message_dict(message))


def _last_bot_message(chat: Any) -> int:
    return max((m.message_id for m in chat.messages.values() if m.by_bot), default=0)


def _bot_messages_after(chat: Any, mark: int) -> list[MessageRec]:
    return sorted(
        (m for m in chat.messages.values() if m.by_bot and m.message_id > mark),
        key=lambda m: m.message_id,
    )


async def run_all(
    prepared: Prepared, directory: Path, acts: Sequence[tuple[Any, Act]], workers: int
) -> tuple[dict[Any, Seen], int]:
    """Every act on the prepared network, by `workers` bots side by side; returns what each
    did and how many bots were started."""
    queue: asyncio.Queue[tuple[Any, Act]] = asyncio.Queue()
    for item in acts:
        queue.put_nowait(item)
    seen: dict[Any, Seen] = {}
    pool = [Worker(prepared, directory / f"worker{index}") for index in range(workers)]

    async def work(worker: Worker) -> None:
        try:
            while not queue.empty():
                key, act = queue.get_nowait()
                seen[key] = await worker.run(act)
        finally:
            await worker.stop()

    await asyncio.gather(*(work(worker) for worker in pool))
    return seen, sum(worker.restarts for worker in pool)


# -- texts ----------------------------------------------------------------------------------


def _pattern(template: str) -> str:
    """A catalogue text as a reader sees it (tags gone, entities read), with `.+?` where
    it is filled in."""
    parts = re.split(r"\{[a-z_]+\}", re.sub(r"<[^>]+>", "", template))
    return "(?s:.*?)".join(re.escape(html.unescape(part)) for part in parts)


def says(text: str, key: str, *, whole: bool = True, lang: str = "de") -> bool:
    """Whether `text` is the catalogue's text `key` (filled in however): the whole of it, or
    (whole=False) what it begins with. An answer to a press cut at Telegram's 200
    characters ends in "…"."""
    template = catalogue(lang)[key]
    if text.endswith("…") and len(text) == 200:
        first = html.unescape(re.sub(r"<[^>]+>", "", template)).split("{")[0]
        return text.startswith(first[:199])
    pattern = _pattern(template)
    matcher = re.fullmatch if whole else re.match
    return matcher(pattern, text.strip()) is not None


def any_of(texts: Iterable[str], key: str, *, whole: bool = True) -> bool:
    return any(says(text, key, whole=whole) for text in texts)
