"""Bot API faults (issue 11): Telegram answering 429, 500 or 502, timing out or dropping the
connection — before it acted, or after (the ambiguous fault) — on every method the bot uses,
each in a scenario that uses it. Nothing is lost, the one rule holds, presses are answered,
deadlines close once, nothing crashes.

Each scenario runs once without faults (its baseline: the same steps on the same clock) and
once with faults switched on before its steps (`localapi.faults`, the table `PLAN`). The
faulty run must show everything the baseline shows: every message Telegram posted (more only
as duplicates of an item in flight at an after-acting fault, at most one per such fault; none
at all when every fault came before Telegram acted), every message as it ends up (cards and
results edited to their last state, polls closed, the command menus), the same record of
events (each state change exactly once, at the same moment: the record is identical — a
deadline closed its round once), every press answered, and no traceback in the log.

Time: the wall clock moves the same in both runs; retries come due on the monotonic clock
alone (`ManualClock.advance(..., wall=False)`), so that a retry never changes a moment that a
text or the record shows. The outbox's back-off comes from `[limits]` retry_base and
retry_max (short here); a timeout's hang is `faults.hang` (short here)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import sqlite3
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram.error import NetworkError, RetryAfter

from bot.clock import ManualClock
from localapi.faults import Fault
from localapi.records import MessageRec
from tests.harness import (
    ADMIN,
    ANNA,
    BERT,
    CARL,
    DORA,
    EVE,
    KT,
    LT,
    NEWBIE,
    OUTSIDER,
    PLAIN,
    PT,
    ST,
    UT,
    DecisionSteps,
    Harness,
    start_bot,
)

# Methods whose retry after an after-acting fault posts the item once more (the one duplicate).
POSTING = ("sendMessage", "sendPoll", "sendDocument")

# Back-offs of 0.05, 0.1, 0.2, 0.2 … seconds. A group's budget of 20 a second: a failed
# attempt may have been acted on and spends it, and the retries' time is not wall time.
LIMITS = 'retry_base = 0.05\nretry_max = 0.2\ngroup_window = "1s"\n'
HANG = 0.05  # a timeout's hang: the client's read timeout, short
WALL_STEP = 2.0  # seconds of wall time after each step, in every run alike
RETRY_STEP = 5.0  # monotonic seconds per round of retries: past retry_after, back-off, spacing
MAX_ROUNDS = 12
MONDAY = datetime(2026, 11, 9, 8, 0, tzinfo=UTC)  # 09:00 in Berlin: the weekly digest


@dataclass(frozen=True)
class Shot:
    """A fault switched on before a step of a scenario (skip: matching calls let through)."""

    scenario: str
    step: str
    method: str
    kind: str
    after: bool = False
    skip: int = 0

    def __str__(self) -> str:
        when = "after" if self.after else "before"
        return f"{self.method} {self.kind} {when} acting at {self.scenario}/{self.step}"


class Run:
    """One run of a scenario: its steps, with the shots of this run switched on before each."""

    def __init__(self, h: Harness, shots: Sequence[Shot] = (), *, strict: bool = True) -> None:
        self.h = h
        self.shots = list(shots)
        self.strict = strict  # every fault must hit (else: one that cannot is switched off)
        self.missed: list[str] = []  # faults that hit no call
        self.steps: list[str] = []
        self.methods: dict[str, Counter[str]] = {}  # step -> the Bot API calls it made

    @property
    def d(self) -> DecisionSteps:
        return DecisionSteps(self.h)

    @property
    def clock(self) -> ManualClock:
        assert isinstance(self.h.clock, ManualClock)
        return self.h.clock

    def arm(self, name: str) -> list[tuple[Shot, Fault]]:
        faults = self.h.model.faults
        return [
            (shot, faults.add(shot.method, shot.kind, after_acting=shot.after, skip=shot.skip))
            for shot in self.shots
            if shot.step == name
        ]

    async def step(self, name: str, action: Callable[[], Awaitable[Any]]) -> None:
        """Arm this step's faults, do it, let the retries come due; every fault must hit (a
        fault on getUpdates hits one of the polls that go on all the time). Not strict, a
        fault that hit no call is switched off after the step."""
        assert name not in self.steps, f"two steps named {name!r}"
        self.steps.append(name)
        armed = self.arm(name)
        first = len(self.h.model.calls)
        await action()
        self.clock.advance(WALL_STEP)  # as in every run of the scenario
        await self.retries()
        loop = asyncio.get_running_loop()
        until = loop.time() + 5.0
        waiting = [f for s, f in armed if self.strict or s.method == "getUpdates"]
        while not all(fault.spent for fault in waiting) and loop.time() < until:
            await asyncio.sleep(0.02)
            await self.retries()
        self.methods[name] = Counter(c.method for c in self.h.model.calls[first:])
        if self.strict:  # reported after what the run lost, which is the likelier cause
            self.missed += [str(shot) for shot, fault in armed if not fault.spent]
        self.h.model.faults.clear()

    async def retries(self) -> None:
        """Monotonic time alone moves on until the outbox is empty (a retry_after passes, a
        back-off ends, a spaced-out edit goes): no moment a text or the record shows moves."""
        await self.h.outbox.flush_all()
        await self.h.settle()
        for _ in range(MAX_ROUNDS):
            if not await self.h.outbox.pending():
                return
            self.clock.advance(RETRY_STEP, wall=False)
            await self.h.outbox.flush_all()
            await self.h.settle()
        with sqlite3.connect(self.h.config.storage_path) as db:
            waiting = db.execute(
                "SELECT id, chat_id, kind, status, attempts, message FROM outbox"
                " WHERE status IN ('queued', 'sending')"
            ).fetchall()
        raise AssertionError(f"the outbox still holds {waiting} after step {self.steps[-1]}")

    async def time_passes(self, seconds: float) -> None:
        """What is due after `seconds` is done, as the one timer does it."""
        self.clock.advance(seconds)
        await self.h.due_timer.run()
        await self.h.settle()

    async def until(self, moment: datetime) -> None:
        await self.time_passes((moment - self.h.clock.now()).total_seconds())

    async def press(self, chat: int, proposal: int, user: int, choice: str) -> None:
        await self.d.press(chat, proposal, user, choice)

    async def press_label(self, chat: int, user: int, label: str) -> None:
        """Press the button `label` on the bot's newest message in `chat` that has it."""
        message = next(
            m
            for m in reversed(self.h.model.bot_messages(chat))
            if any(b.get("text") == label for row in m.buttons for b in row)
        )
        query = self.h.model.press_button(chat, message.message_id, user, button_text=label)
        await self.h.model.wait_callback_answer(query)
        await self.h.settle()

    def invite_link(self, user: int) -> str:
        texts = [t for t in reversed(self.h.bot_texts(user)) if "Link in den Chat" in t]
        found = re.search(r"https://t\.me/\+\S+", texts[0])
        assert found is not None
        return found.group(0)

    async def says(self, chat: int, user: int, text: str) -> None:
        await self.h.say(chat, user, text)


# -- the scenarios -------------------------------------------------------------------------

Scenario = Callable[[Run], Awaitable[None]]


async def decisions(r: Run) -> None:
    """The ST is set up; two rounds close at their deadline with an Einwand (Dora is asked
    for her reason privately); both go to a majority vote that closes at its deadline; two
    members export the decisions; the weekly digest goes out."""
    h = r.h
    await r.step("setup", lambda: r.says(ST, ADMIN, "/setup ST Steuerungsteam"))

    async def hellos() -> None:
        for user in (ANNA, BERT, CARL, DORA):
            h.model.send_message(ST, user, "Hallo")
        h.model.start_bot(DORA)
        await h.settle()

    await r.step("hellos", hellos)

    async def admit() -> None:
        for name in ("anna", "bert", "carl_x", "dora"):
            h.model.send_message(ST, ADMIN, f"/admit @{name} zivilgesellschaft")
        await h.settle()

    await r.step("admit", admit)
    await r.step("propose", lambda: r.says(ST, ANNA, "/propose 1d Gemeinsamer Kalender"))
    await r.step("propose_two", lambda: r.says(ST, BERT, "/propose 1d Neue Kasse"))
    await r.step("press_bert", lambda: r.press(ST, 1, BERT, "agree"))
    await r.step("press_carl", lambda: r.press(ST, 1, CARL, "concern"))
    await r.step("press_dora", lambda: r.press(ST, 1, DORA, "object"))
    await r.step("press_dora_two", lambda: r.press(ST, 2, DORA, "object"))
    await r.step("deadline", lambda: r.time_passes(86400))
    await r.step("majority", lambda: r.says(ST, ANNA, "/majority 1"))
    await r.step("majority_two", lambda: r.says(ST, BERT, "/abstimmung 2"))

    async def ballots() -> None:
        for number in (1, 2):
            # The newest poll of each vote (answers to a duplicate the bot recorded count too).
            poll = next(
                m.poll
                for m in reversed(h.model.bot_messages(ST))
                if m.poll and m.poll.question.startswith(f"Mehrheitsabstimmung zu #{number} ")
            )
            for user, option in ((ANNA, 0), (BERT, 0), (CARL, 1)):
                h.model.answer_poll(poll.id, user, [option])
        await h.settle()

    await r.step("ballots", ballots)
    await r.step("vote_deadline", lambda: r.time_passes(3 * 86400))
    await r.step("export_dora", lambda: r.says(ST, DORA, "/export"))
    await r.step("export_carl", lambda: r.says(ST, CARL, "/exportieren"))
    await r.step("digest", lambda: r.until(MONDAY))


async def network(r: Run) -> None:
    """PT (Anna, Bert), ST (Carl, Dora) and the UT are set up without faults. Eve is
    nominated to the UT, both teams approve, she accepts and joins with her link (Otto, with
    the same link, is declined). Nele declares her intent to join the PT, is admitted, and
    joins with her link (Otto again declined) — retried from the outbox while Telegram fails
    it. The weekly digest goes out."""
    h = r.h
    await h.set_up_team("PT", (ANNA, BERT))
    await h.set_up_team("ST", (CARL, DORA))
    await h.set_up_team("UT", ())
    h.model.send_message(PT, EVE, "Hallo")
    h.model.start_bot(EVE)
    await h.settle()
    await r.step("nominate", lambda: r.says(PT, ANNA, "/nominieren 2d @eve UT kennt alle"))
    await r.step("pt_anna", lambda: r.press(PT, 1, ANNA, "agree"))
    await r.step("pt_bert", lambda: r.press(PT, 1, BERT, "agree"))
    await r.step("st_carl", lambda: r.press(ST, 2, CARL, "agree"))
    await r.step("st_dora", lambda: r.press(ST, 2, DORA, "agree"))
    await r.step("accept", lambda: r.press_label(EVE, EVE, "Annehmen"))

    async def join(chat: int, user: int) -> None:
        link = r.invite_link(user)
        h.model.request_join(chat, OUTSIDER, link)  # a forwarded link lets nobody else in
        h.model.request_join(chat, user, link)
        await h.settle()

    await r.step("join_ut", lambda: join(UT, EVE))

    async def declare() -> None:
        h.model.start_bot(NEWBIE)
        await h.settle()
        await h.say(NEWBIE, NEWBIE, "/beitreten Ich möchte beim Quartiersfest helfen.")

    await r.step("declare", declare)
    await r.step("admit_anna", lambda: r.press(PT, 3, ANNA, "agree"))
    await r.step("admit_bert", lambda: r.press(PT, 3, BERT, "agree"))
    await r.step("sweep", lambda: r.time_passes(60))  # the one timer's minute
    await r.step("join_pt", lambda: join(PT, NEWBIE))
    await r.step("digest", lambda: r.until(MONDAY))


async def chats(r: Run) -> None:
    """Teams whose roster is whoever is in the chat: an LT bound by Anna, its chat's admin;
    a second LT and the network chat bound by a network admin. Members never seen before
    press on a card (Telegram confirms they are in the chat). Three people start a petition
    in a group: the bot takes their text out of the chat, and says so."""
    await r.step("setup_lt", lambda: r.says(LT, ANNA, "/setup LT Gemeinschaftsgarten"))
    await r.step("setup_plain", lambda: r.says(PLAIN, ADMIN, "/setup LT Hofladen"))
    await r.step("setup_net", lambda: r.says(KT, ADMIN, "/setup NET Wir im Quartier"))
    await r.step("propose", lambda: r.says(LT, BERT, "/propose 1d Beete teilen"))
    await r.step("press_carl", lambda: r.press(LT, 1, CARL, "agree"))
    await r.step("press_eve", lambda: r.press(LT, 1, EVE, "agree"))
    await r.step("propose_plain", lambda: r.says(PLAIN, ANNA, "/propose 1d Kasse prüfen"))
    await r.step("press_plain", lambda: r.press(PLAIN, 2, DORA, "agree"))
    await r.step("petition_carl", lambda: r.says(LT, CARL, "/anliegen Mein Anliegen: Lärm"))
    await r.step("petition_eve", lambda: r.says(LT, EVE, "/anliegen Auch ich: zu spät"))
    await r.step("petition_dora", lambda: r.says(PLAIN, DORA, "/petition Zu laut hier"))


async def restarts(r: Run) -> None:
    """The bot starts three times (getMe, deleteWebhook, the command menus, getUpdates), and
    is asked for help in between."""
    for number in (1, 2, 3):
        await r.h.stop()
        again = Harness(r.h.model, r.h.config, clock=r.h.clock)

        async def start(again: Harness = again) -> None:
            await again.start()
            r.h = again
            await again.settle()

        await r.step(f"start_{number}", start)
        await r.step(f"help_{number}", lambda: r.says(ANNA, ANNA, "/hilfe"))


async def journey(r: Run) -> None:
    """For the generated schedules: in the network of `network`, a round in the ST closes at
    its deadline with an Einwand, the majority vote closes once both have voted, Eve is
    nominated, approved, accepts and joins the UT, and the weekly digest goes out."""
    h = r.h
    await h.set_up_team("PT", (ANNA, BERT))
    await h.set_up_team("ST", (CARL, DORA))
    await h.set_up_team("UT", ())
    h.model.send_message(PT, EVE, "Hallo")
    h.model.start_bot(EVE)
    h.model.start_bot(DORA)
    await h.settle()
    await r.step("propose", lambda: r.says(ST, CARL, "/propose 1d Haushalt 2027"))
    await r.step("press_carl", lambda: r.press(ST, 1, CARL, "agree"))
    await r.step("press_dora", lambda: r.press(ST, 1, DORA, "object"))
    await r.step("deadline", lambda: r.time_passes(86400))
    await r.step("majority", lambda: r.says(ST, CARL, "/majority 1"))

    async def ballots() -> None:
        poll = next(m.poll for m in reversed(h.model.bot_messages(ST)) if m.poll)
        for user in (CARL, DORA):
            h.model.answer_poll(poll.id, user, [0])
        await h.settle()

    await r.step("ballots", ballots)
    await r.step("nominate", lambda: r.says(PT, ANNA, "/nominieren 2d @eve UT kennt alle"))
    for chat, proposal, user in ((PT, 2, ANNA), (PT, 2, BERT), (ST, 3, CARL), (ST, 3, DORA)):
        await r.step(
            f"approve_{user}", lambda c=chat, p=proposal, u=user: r.press(c, p, u, "agree")
        )
    await r.step("accept", lambda: r.press_label(EVE, EVE, "Annehmen"))

    async def join() -> None:
        h.model.request_join(UT, EVE, r.invite_link(EVE))
        await h.settle()

    await r.step("join", join)
    await r.step("digest", lambda: r.until(MONDAY))


# The deadlines (and early closes) each scenario closes: the record, identical in the faulty
# run, shows each closed exactly once.
CLOSES: dict[str, dict[str, int]] = {
    "decisions": {"round.closed": 2, "vote.closed": 2},
    "network": {"round.closed": 3, "nomination.appointed": 1, "invitation.used": 2},
    "chats": {"team.bound": 3},
    "restarts": {},
    "journey": {"round.closed": 3, "vote.closed": 1, "nomination.appointed": 1},
}

SCENARIOS: dict[str, Scenario] = {
    "decisions": decisions,
    "network": network,
    "chats": chats,
    "restarts": restarts,
    "journey": journey,
}


# -- the faults: each kind on every method, in a scenario that uses it ------------------------


def shots(scenario: str, step: str, method: str, *kinds: str, skip: int = 0) -> list[Shot]:
    """`kinds` as "429", "500", "timeout", "drop+" (the + : after acting)."""
    return [
        Shot(scenario, step, method, kind.rstrip("+"), kind.endswith("+"), skip) for kind in kinds
    ]


PLAN: list[Shot] = [
    # decisions
    *shots("decisions", "setup", "getChatMember", "429", "500"),
    *shots("decisions", "setup", "sendMessage", "500"),
    *shots("decisions", "admit", "sendMessage", "502"),
    *shots("decisions", "admit", "sendMessage", "drop+", skip=1),
    *shots("decisions", "propose", "sendMessage", "timeout+"),  # a second card
    *shots("decisions", "propose", "getUpdates", "429"),
    *shots("decisions", "propose_two", "sendMessage", "timeout"),
    *shots("decisions", "propose_two", "getUpdates", "500"),
    *shots("decisions", "press_bert", "answerCallbackQuery", "429", "502+"),
    *shots("decisions", "press_bert", "editMessageText", "502"),
    *shots("decisions", "press_carl", "answerCallbackQuery", "500", "timeout+"),
    *shots("decisions", "press_carl", "editMessageText", "429", "502+"),
    *shots("decisions", "press_dora", "answerCallbackQuery", "502", "drop"),
    *shots("decisions", "press_dora", "editMessageText", "timeout"),
    *shots("decisions", "press_dora", "sendMessage", "502+"),  # her reason, asked twice
    *shots("decisions", "press_dora_two", "answerCallbackQuery", "timeout", "drop+"),
    *shots("decisions", "press_dora_two", "editMessageText", "drop", "500"),
    *shots("decisions", "press_dora_two", "getUpdates", "timeout"),
    *shots("decisions", "deadline", "editMessageText", "timeout+", "drop+"),
    *shots("decisions", "deadline", "sendMessage", "429"),
    *shots("decisions", "majority", "sendPoll", "429", "500", "502", "timeout", "502+"),
    *shots("decisions", "majority", "getUpdates", "drop"),
    *shots("decisions", "majority_two", "sendPoll", "timeout+", "drop", "drop+"),
    *shots("decisions", "majority_two", "getUpdates", "timeout+"),
    *shots("decisions", "ballots", "getUpdates", "drop+"),
    *shots("decisions", "vote_deadline", "stopPoll", "429", "500", "502", "timeout", "drop"),
    *shots("decisions", "vote_deadline", "stopPoll", "timeout+", "drop+"),  # one per poll
    *shots("decisions", "vote_deadline", "sendMessage", "drop"),
    *shots("decisions", "export_dora", "sendDocument", "429", "500", "timeout+"),
    *shots("decisions", "export_carl", "sendDocument", "502", "timeout", "drop", "drop+"),
    *shots("decisions", "export_carl", "sendDocument", "502+", skip=1),
    *shots("decisions", "digest", "sendMessage", "drop+"),
    # network: nomination, admission, join requests, digest
    *shots("network", "nominate", "sendMessage", "429", "timeout+"),
    *shots("network", "pt_anna", "answerCallbackQuery", "502"),
    *shots("network", "accept", "createChatInviteLink", "429", "500"),
    *shots("network", "accept", "answerCallbackQuery", "drop"),
    *shots("network", "accept", "sendMessage", "drop", "502+"),
    *shots("network", "join_ut", "declineChatJoinRequest", "429", "500", "502", "timeout+"),
    *shots("network", "join_ut", "approveChatJoinRequest", "429", "500", "502", "timeout+"),
    *shots("network", "declare", "sendMessage", "timeout"),
    # Five in a row: the link is an outbox row, retried with back-off until it is made.
    *shots(
        "network",
        "admit_bert",
        "createChatInviteLink",
        "502",
        "timeout",
        "timeout+",
        "drop+",
        "drop",
    ),
    *shots("network", "join_pt", "declineChatJoinRequest", "timeout", "drop", "drop+"),
    *shots("network", "join_pt", "approveChatJoinRequest", "timeout", "drop", "drop+"),
    *shots("network", "digest", "sendMessage", "500", "timeout+", "drop+"),
    # chats: bound by a chat admin, rosters from the chat, petitions taken out of a group
    *shots("chats", "setup_lt", "getChatMember", "502", "timeout+"),
    *shots("chats", "setup_lt", "getChatAdministrators", "429", "502+"),
    *shots("chats", "setup_plain", "getChatMember", "drop"),
    *shots("chats", "setup_plain", "getChatAdministrators", "500", "timeout", "drop+"),
    *shots("chats", "setup_net", "getChatAdministrators", "502", "drop", "timeout+"),
    *shots("chats", "press_carl", "getChatMember", "timeout", "drop+"),
    *shots("chats", "press_eve", "getChatMember", "502+"),
    *shots("chats", "petition_carl", "deleteMessage", "429", "500", "timeout+"),
    *shots("chats", "petition_eve", "deleteMessage", "502", "timeout", "drop+"),
    *shots("chats", "petition_dora", "deleteMessage", "drop", "502+"),
    # restarts: what the start does
    *shots("restarts", "start_1", "getMe", "429", "500", "timeout+"),
    *shots("restarts", "start_1", "deleteWebhook", "502", "drop", "502+"),
    *shots("restarts", "start_1", "setMyCommands", "429", "500"),
    *shots("restarts", "start_1", "setMyCommands", "timeout+", skip=2),
    *shots("restarts", "start_2", "getMe", "502", "drop+"),
    *shots("restarts", "start_2", "deleteWebhook", "429", "timeout+"),
    *shots("restarts", "start_2", "setMyCommands", "502", "timeout", "drop+"),
    *shots("restarts", "start_3", "getMe", "timeout", "drop", "502+"),
    *shots("restarts", "start_3", "deleteWebhook", "500", "timeout", "drop+"),
    *shots("restarts", "start_3", "setMyCommands", "drop", "502+"),
    *shots("restarts", "help_1", "getUpdates", "502"),
]


# -- what a run shows --------------------------------------------------------------------

_LINK = re.compile(r"https://t\.me/\+\w+")


def _plain(text: str) -> str:
    """A text as it is compared: invite links are each run's own."""
    return _LINK.sub("<invite link>", text)


def shown(message: MessageRec) -> str:
    parts = [message.text or "", message.caption or ""]
    if message.document is not None:
        parts.append(message.document.file_name or "")
    if message.poll is not None:
        parts.append(f"poll {message.poll.question} closed={message.poll.is_closed}")
    if message.reply_markup:
        parts.append(f"buttons {message.buttons}")
    return _plain(" | ".join(part for part in parts if part))


def posted_shown(result: dict[str, Any]) -> str:
    parts = [result.get("text") or "", result.get("caption") or ""]
    document = result.get("document")
    if document:
        parts.append(document.get("file_name") or "")
    poll = result.get("poll")
    if poll:
        parts.append(f"poll {poll['question']}")
    return _plain(" | ".join(part for part in parts if part))


@dataclass
class Seen:
    """What a run left behind, to compare with the baseline."""

    # Every message Telegram posted and told the bot of: chat, what it showed.
    posted: Counter[tuple[int, str]]
    # Those it posted at an after-acting fault (the bot never learnt of them): duplicates.
    duplicates: Counter[tuple[int, str]]
    final: Counter[tuple[int, str]]  # every message still there (but duplicates), as it ends
    events: list[tuple[Any, ...]]  # the record of events
    menus: dict[Any, Any]  # the command menus
    unanswered: list[str]  # presses without an answer
    tracebacks: list[str]
    hits: Counter[tuple[str, str, bool]] = field(default_factory=Counter)
    missed: list[str] = field(default_factory=list)  # faults of the plan that hit no call


def events(h: Harness) -> list[tuple[Any, ...]]:
    with sqlite3.connect(h.config.storage_path) as db:
        return db.execute(
            "SELECT team_id, at, actor_id, kind, subject_id, data FROM events ORDER BY id"
        ).fetchall()


def seen(h: Harness, tracebacks: list[str]) -> Seen:
    posted: Counter[tuple[int, str]] = Counter()
    duplicates: Counter[tuple[int, str]] = Counter()
    unknown: set[tuple[int, int]] = set()
    for call in h.model.calls:
        if call.method not in POSTING or call.result_json is None:
            continue
        chat_id = int(call.params["chat_id"])
        if call.fault is None:
            posted[(chat_id, posted_shown(call.result))] += 1
        else:  # after acting: posted, and the answer lost
            duplicates[(chat_id, posted_shown(call.result))] += 1
            unknown.add((chat_id, call.result["message_id"]))
    final = Counter(
        (m.chat_id, shown(m))
        for m in h.model.bot_messages()
        if not m.deleted and (m.chat_id, m.message_id) not in unknown
    )
    unanswered = [
        f"{q.user_id} on {q.chat_id}/{q.message_id}: {q.data}"
        for q in h.model.callback_queries.values()
        if not q.answered
    ]
    return Seen(
        posted,
        duplicates,
        final,
        events(h),
        dict(h.model.commands),
        unanswered,
        tracebacks,
        h.model.faults.counts(),
    )


RUN: ContextVar[str] = ContextVar("fault_run", default="")  # which run a log record is of


class LogCatcher(logging.Handler):
    """Every record with a traceback, and every error, but those that are part of a retry;
    each with the run it came from (runs go on side by side)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.found: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info is None and record.levelno < logging.ERROR:
            return
        error = record.exc_info[1] if record.exc_info else None
        if record.name.startswith("telegram.ext") and isinstance(error, NetworkError | RetryAfter):
            # PTB logs a failed getUpdates (and polls again) and a 429 it hands on to the
            # caller (the outbox waits, the limiter tries again).
            return
        if record.name.startswith("apscheduler") and isinstance(error, asyncio.CancelledError):
            # A job that fires between PTB's wait for the running jobs and the scheduler's
            # shutdown is cancelled when the bot stops (an outbox flush: what it was sending
            # is resumed at the next start).
            return
        if error is None and "event=outbox_refused" in record.getMessage():
            # A retry Telegram refuses because it acted already ("poll has already been
            # closed", "HIDE_REQUESTER_MISSING"): that item is done.
            return
        self.found.append((RUN.get(), f"{record.name}: {record.getMessage()} {error!r}"))

    def tracebacks(self, run: str) -> list[str]:
        return [text for name, text in self.found if name in (run, "")]


@pytest.fixture
def logs() -> Iterator[LogCatcher]:
    with catching() as catcher:
        yield catcher


@contextlib.contextmanager
def catching() -> Iterator[LogCatcher]:
    catcher = LogCatcher()
    root = logging.getLogger()
    root.addHandler(catcher)
    previous = root.level
    root.setLevel(logging.WARNING)
    try:
        yield catcher
    finally:
        root.removeHandler(catcher)
        root.setLevel(previous)


async def run(
    tmp_path: Path,
    scenario: str,
    plan: Sequence[Shot],
    logs: LogCatcher,
    *,
    strict: bool = True,
) -> tuple[Seen, Run]:
    """One run of the scenario with the plan's shots for it, in a bot of its own."""
    name = f"{scenario}:{tmp_path.name}"
    RUN.set(name)  # this task's context, and the bot's tasks started from it
    await asyncio.to_thread(tmp_path.mkdir, parents=True, exist_ok=True)
    h = await start_bot(tmp_path, limits=LIMITS)
    h.model.faults.hang = HANG
    r = Run(h, [shot for shot in plan if shot.scenario == scenario], strict=strict)
    try:
        await SCENARIOS[scenario](r)
    finally:
        await r.h.stop()
    result = seen(r.h, logs.tracebacks(name))
    result.missed = r.missed
    return result, r


_baselines: dict[str, tuple[Seen, Run]] = {}


async def baseline(tmp_path: Path, scenario: str, logs: LogCatcher) -> tuple[Seen, Run]:
    """The scenario without faults (run once per session)."""
    if scenario not in _baselines:
        _baselines[scenario] = await run(tmp_path / f"{scenario}-base", scenario, (), logs)
    return _baselines[scenario]


def compare(base: Seen, faulty: Seen) -> None:
    """The faulty run lost nothing and did nothing twice but what the one rule allows: what
    Telegram posted and told the bot of is exactly what it posted in the baseline; the rest
    (posted at an after-acting fault: the bot never learnt of it, and sent the item again) is
    each a copy of something the baseline posted, one per such fault — so none at all for a
    fault before Telegram acted."""
    assert not base.unanswered and not base.tracebacks, (base.unanswered, base.tracebacks)
    assert not base.duplicates
    lost, extra = base.posted - faulty.posted, faulty.posted - base.posted
    assert not lost, f"never posted: {list(lost)}"
    assert not extra, f"posted more than once, or what the baseline never did: {list(extra)}"
    strange = [key for key in faulty.duplicates if key not in base.posted]
    assert not strange, f"posted at a fault, and never in the baseline: {strange}"
    gone, more = base.final - faulty.final, faulty.final - base.final
    assert not gone, f"not as it should end up: {list(gone)}"
    assert not more, f"more than the baseline shows: {list(more)}"
    assert faulty.menus == base.menus, "the command menus differ"
    assert faulty.events == base.events, "the record of events differs"
    assert not faulty.unanswered, f"presses never answered: {faulty.unanswered}"
    assert not faulty.tracebacks, faulty.tracebacks
    assert not faulty.missed, f"faults that hit no call: {faulty.missed}"


async def test_every_fault_on_every_method_loses_nothing(tmp_path: Path, logs: LogCatcher) -> None:
    """`PLAN`: each kind of fault at least once on every method the bot uses. The scenarios
    run side by side (their waits for Telegram's retry_after and PTB's polling overlap)."""

    async def check(scenario: str) -> None:
        plan = [shot for shot in PLAN if shot.scenario == scenario]
        (base, _), (faulty, _) = await asyncio.gather(
            baseline(tmp_path, scenario, logs),
            run(tmp_path / f"{scenario}-faulty", scenario, plan, logs),
        )
        compare(base, faulty)
        kinds = Counter(event[3] for event in faulty.events)
        assert {kind: kinds[kind] for kind in CLOSES[scenario]} == CLOSES[scenario]
        assert sum(faulty.hits.values()) == len(plan)

    scenarios = [name for name in SCENARIOS if name != "journey"]
    outcomes = await asyncio.gather(*map(check, scenarios), return_exceptions=True)
    failed = [
        f"{name}: {type(outcome).__name__}: {outcome}"
        for name, outcome in zip(scenarios, outcomes, strict=True)
        if isinstance(outcome, BaseException)
    ]
    assert not failed, "\n".join(failed)


# -- a generated schedule of faults over a whole round, vote, nomination and digest ---------

settings.register_profile(
    "faults",
    max_examples=int(os.environ.get("WIQ_FAULT_EXAMPLES", "3")),
    deadline=None,  # each example is a whole run of the bot
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
DRAWN_KINDS = [
    (kind, after)
    for kind in ("429", "500", "502", "timeout", "drop")
    for after in (
        False,
        True,
    )
    if not (kind == "429" and after)
]
PER_CALL = 3  # faults drawn on one method in one step: a call made at once is tried 4 times


def schedule(data: st.DataObject, methods: dict[str, Counter[str]]) -> list[Shot]:
    """1–6 faults, each on a method a step of the journey uses (after `skip` of its calls)."""
    places = sorted(
        (step, method, n) for step, made in methods.items() for method, n in made.items()
    )
    drawn = data.draw(
        st.lists(
            st.tuples(st.sampled_from(places), st.sampled_from(DRAWN_KINDS), st.integers(0, 2)),
            min_size=1,
            max_size=6,
        ),
        label="faults",
    )
    plan: list[Shot] = []
    for (step, method, calls), (kind, after), skip in drawn:
        if sum(1 for s in plan if (s.step, s.method) == (step, method)) < PER_CALL:
            skip = 0 if method == "getUpdates" else min(skip, calls - 1)
            plan.append(Shot("journey", step, method, kind, after, skip))
    return plan


@settings(settings.get_profile("faults"))
@given(data=st.data())
def test_a_generated_schedule_of_faults_loses_nothing(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    root = tmp_path_factory.mktemp("journey")
    with catching() as logs:
        base, base_run = asyncio.run(baseline(root, "journey", logs))
        plan = schedule(data, base_run.methods)
        faulty, _ = asyncio.run(run(root / "faulty", "journey", plan, logs, strict=False))
    compare(base, faulty)
    kinds = Counter(event[3] for event in faulty.events)
    assert {kind: kinds[kind] for kind in CLOSES["journey"]} == CLOSES["journey"]
