"""Several workers (SPEC §9 "Several workers"): three real `wiq-bot run` processes in webhook
mode on one database, behind a small round-robin proxy that spreads the local Bot API's
webhook posts over them; 100 deadlines fall due together and one worker is killed (SIGKILL)
midway. Every round closes once, every result and poll is posted once (at most one duplicate
per chat: the item in flight at the kill), no group goes over its budget, and each person's
messages are answered once. The claims one by one: tests/test_workers_claims.py."""

from __future__ import annotations

import asyncio
import re
import signal
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import Config
from localapi.model import BotApiModel
from localapi.proxy import round_robin
from localapi.server import LocalBotApiServer
from storage.db import to_db
from tests.harness import (
    ANNA,
    BERT,
    CARL,
    DORA,
    KT,
    PT,
    ST,
    DecisionSteps,
    Teams,
    finish,
    free_port,
    lines_until,
    peek,
    start_process,
    wiq_bot,
)
from tests.test_e2e_process import process_config
from tests.test_ops_webhook import SECRET

GROUPS = (PT, ST, KT)
PROPOSALS = 99 + 1  # 33 or 34 per group
WINDOW = 2.0  # [limits] group_window of the workers
LEASE = 2.0  # [webhook] worker_lease of the workers
PATH = "/wiq/telegram"
RESULT = re.compile(r"Ergebnis Runde 1 zu #(\d+)")
POLL = re.compile(r"Mehrheitsabstimmung zu #(\d+)")


def worker_config(base: Path, proxy: int, port: int, index: int) -> Path:
    """Worker `index`'s config: the shared one, its own port, the webhook at the proxy."""
    text = base.read_text(encoding="utf-8")
    text = re.sub(r'group_window = "[^"]*"\n', "", text)
    text = text.replace("[limits]\n", f'[limits]\ngroup_window = "{WINDOW:g}s"\n', 1)
    text += (
        f'[webhook]\nurl = "http://127.0.0.1:{proxy}{PATH}"\nport = {port}\n'
        f'secret_token = "{SECRET}"\nworkers_share_database = true\n'
        f'worker_lease = "{LEASE:g}s"\n'
    )
    path = base.with_name(f"worker{index}.toml")
    path.write_text(text, encoding="utf-8")
    return path


async def proposals_in_their_rounds(team: Teams) -> Config:
    """In process: the PT, the ST and the KT (Anna, Bert, Carl, Dora each), and 100 proposals
    in their first round spread over them; a failed round goes to the majority vote."""
    h, _ = await team(
        "PT",
        start=datetime.now(UTC),
        limits='group_window = "1s"\n',
        extra='max_consensus_rounds = 1\nreminder_before = "0s"\n',
    )
    await team("ST")
    await team("KT")
    h.model.start_bot(BERT)  # Bert is asked for his reasons privately
    await h.settle()
    for n in range(PROPOSALS):
        h.model.send_message(GROUPS[n % 3], ANNA, f"/propose 1h Vorschlag Nummer {n + 1}")
        if n % 15 == 14:
            await h.due(1.1)  # the cards' budget, in the in-process window
    await h.due(1.1)
    await h.settle()
    database = h.config
    await h.stop()
    with peek(database) as conn:
        open_rounds = conn.execute("SELECT COUNT(*) FROM rounds WHERE closed_at IS NULL")
        assert open_rounds.fetchone()[0] == PROPOSALS
        waiting = conn.execute("SELECT COUNT(*) FROM outbox WHERE status IN ('queued','sending')")
        assert waiting.fetchone()[0] == 0
    return database


def all_due_now(database: Config) -> None:
    """Every round's deadline is now: 100 fall due together."""
    now = to_db(datetime.now(UTC))
    with peek(database) as conn:
        conn.execute("UPDATE rounds SET deadline = ? WHERE closed_at IS NULL", (now,))
        conn.execute("UPDATE proposals SET due_at = ? WHERE status = 'round_open'", (now,))


def sending(
    database: Config, workers: list[asyncio.subprocess.Process]
) -> asyncio.subprocess.Process | None:
    """The worker that holds a group's claim now (it is sending that chat's queue)."""
    with peek(database) as conn:
        rows = conn.execute(
            "SELECT holder FROM claims WHERE kind = 'outbox' AND lease_until >= ?",
            (time.time(),),
        ).fetchall()
    pids = {int(holder.rsplit(":", 1)[1]) for (holder,) in rows}
    return next((worker for worker in workers if worker.pid in pids), None)


def objections(database: Config) -> dict[int, int]:
    """Two proposals of each group (their ids, and the group's chat)."""
    with peek(database) as conn:
        rows = conn.execute(
            "SELECT p.id, t.chat_id FROM proposals p JOIN teams t ON t.id = p.team_id ORDER BY p.id"
        ).fetchall()
    chosen: dict[int, int] = {}
    for proposal_id, chat in rows:
        if list(chosen.values()).count(chat) < 2:
            chosen[proposal_id] = chat
    return chosen


async def all_handled(model: BotApiModel, database: Config) -> None:
    """Until every update was posted and handled, and nothing waits in the outbox."""
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        with peek(database) as conn:
            unhandled = conn.execute(
                "SELECT COUNT(*) FROM inbox WHERE handled_at IS NULL"
            ).fetchone()[0]
        if not model.pending_updates and not unhandled and counts(database)[2] == 0:
            return
        assert asyncio.get_running_loop().time() < deadline, (unhandled, counts(database))
        await asyncio.sleep(0.05)


def counts(database: Config) -> tuple[int, int, int]:
    with peek(database) as conn:
        closed = conn.execute("SELECT COUNT(*) FROM rounds WHERE outcome IS NOT NULL").fetchone()
        votes = conn.execute("SELECT COUNT(*) FROM votes").fetchone()
        waiting = conn.execute(
            "SELECT COUNT(*) FROM outbox WHERE status IN ('queued', 'sending')"
        ).fetchone()
    return closed[0], votes[0], waiting[0]


def group_calls(model: BotApiModel, since: int) -> dict[int, list[float]]:
    """The moments each group's budget was spent (what Telegram counts), since call `since`."""
    spent: dict[int, list[float]] = {chat: [] for chat in GROUPS}
    for call in model.calls[since:]:
        if call.ok and call.method in ("sendMessage", "editMessageText", "sendPoll", "stopPoll"):
            chat = int(call.params.get("chat_id", 0))
            if chat in spent:
                spent[chat].append(call.at)
    return spent


def most_in_a_window(moments: list[float], window: float) -> int:
    moments = sorted(moments)
    most, start = 0, 0
    for end, moment in enumerate(moments):
        while moments[start] <= moment - window:
            start += 1
        most = max(most, end - start + 1)
    return most


@pytest.mark.both_backends
async def test_three_workers_close_100_deadlines_once_with_one_killed_midway(
    team: Teams,
) -> None:
    database = await proposals_in_their_rounds(team)
    h = team.h
    assert h is not None
    model = h.model
    model.clock = time.monotonic  # the real processes run on real time
    model.group_limit_per_minute = None  # the budget is checked below, per window
    async with LocalBotApiServer(model) as server:
        base = process_config(h, server)
        ports = [free_port() for _ in range(3)]
        async with round_robin(ports, PATH) as proxy:
            configs = [worker_config(base, proxy.port, port, i) for i, port in enumerate(ports)]
            workers = [await start_process(config) for config in configs]
            try:
                for worker in workers:
                    await lines_until(worker, "event=webhook_serving", within=40)
                since = len(model.calls)
                # Bert objects to six proposals, each time giving his reason right after the
                # press: the press and its reason reach different workers (round robin), and
                # each reason must find its press handled first.
                objected = objections(database)
                for proposal_id, chat in objected.items():
                    press = DecisionSteps(h).card(chat, proposal_id)
                    model.press_button(chat, press.message_id, BERT, button_text="Einwand")
                    model.send_message(BERT, BERT, f"Mein Grund zu Nummer {proposal_id}")
                await all_handled(model, database)
                all_due_now(database)
                # Meanwhile each of three people writes to the bot three times, privately:
                # any worker may get any of them.
                asked = Counter[int]()
                for person in (ANNA, CARL, DORA):
                    for _ in range(3):
                        model.send_message(person, person, "/hilfe")
                        asked[person] += 1
                # Midway (a third of the results out), the worker sending a group's queue
                # at that moment is killed.
                loop = asyncio.get_running_loop()
                deadline = loop.time() + 30
                killed = None
                while killed is None:
                    assert loop.time() < deadline, "no worker sent results"
                    if sum(len(RESULT.findall(t)) for t in _texts(model, since)) >= 30:
                        killed = sending(database, workers)
                    if killed is None:
                        await asyncio.sleep(0.01)
                killed.send_signal(signal.SIGKILL)
                await killed.wait()
                # The others finish: every round closed, every vote open, nothing waits.
                deadline = asyncio.get_running_loop().time() + 45
                while counts(database) != (PROPOSALS, PROPOSALS, 0) or model.pending_updates:
                    assert asyncio.get_running_loop().time() < deadline, counts(database)
                    await asyncio.sleep(0.1)
                # `wiq-bot health`: a line per worker (the killed one's not stale yet).
                code, out, _ = await wiq_bot("health", "--config", str(configs[0]))
                assert code == 0, out
                assert out.startswith("ok: schema") and "of 3 workers fresh" in out, out
                assert len([line for line in out.splitlines() if "  worker " in line]) == 3
            finally:
                outputs = []
                for worker in workers:
                    if worker.returncode is None:
                        worker.send_signal(signal.SIGTERM)
                        output = await finish(worker)
                        assert worker.returncode == 0, output
                        outputs.append(output)
    for output in outputs:
        # (a unit that failed — two workers' rows numbered alike — would be a handler error)
        assert "Traceback" not in output and "event=handler_error" not in output, output
    with peek(database) as conn:
        beats = [row[0] for row in conn.execute("SELECT instance FROM heartbeats")]
    assert [int(b.rsplit(":", 1)[1]) for b in beats] == [killed.pid], "clean stops remove theirs"
    with peek(database) as conn:
        closes = conn.execute("SELECT COUNT(*) FROM events WHERE kind = 'round.closed'")
        assert closes.fetchone()[0] == PROPOSALS, "each round closed once"
        per_proposal = conn.execute(
            "SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM votes GROUP BY proposal_id) AS per"
        ).fetchone()[0]
        assert per_proposal == 1
        where = dict(
            conn.execute(
                "SELECT p.id, t.chat_id FROM proposals p JOIN teams t ON t.id = p.team_id"
            ).fetchall()
        )
        ambiguous = conn.execute(
            "SELECT COUNT(*) FROM outbox WHERE status = 'ambiguous'"
        ).fetchone()[0]
    figures = {"attempts_taken_over": ambiguous, "duplicates": 0, "most_in_a_window": 0}
    for chat in GROUPS:
        texts = [m.text or "" for m in model.bot_messages(chat) if m.message_id]
        results = Counter(int(n) for text in texts for n in RESULT.findall(text))
        polls = Counter(
            int(n)
            for m in model.bot_messages(chat)
            if m.poll is not None
            for n in POLL.findall(m.poll.question)
        )
        mine = {n for n, in_chat in where.items() if in_chat == chat}
        assert len(mine) >= PROPOSALS // 3
        assert set(results) == mine and set(polls) == mine, chat
        for proposal_id in (n for n, in_chat in objected.items() if in_chat == chat):
            result = next(t for t in texts if re.search(rf"Runde 1 zu #{proposal_id}\D", t))
            assert f"Bert: Mein Grund zu Nummer {proposal_id}" in result, result
        twice = sum(c - 1 for c in results.values()) + sum(c - 1 for c in polls.values())
        assert twice <= 1, f"{chat}: {twice} duplicates (at most the one in flight at the kill)"
        figures["duplicates"] += twice
    for chat, moments in group_calls(model, since).items():
        most = most_in_a_window(moments, WINDOW)
        assert most <= 20, chat
        figures["most_in_a_window"] = max(figures["most_in_a_window"], most)
    # Each person's messages were each answered once (at most one again: the kill).
    for person, count in asked.items():
        answered = len([m for m in model.bot_messages(person) if m.message_id])
        assert count <= answered <= count + 1, (person, answered)
    print("figures:", figures)  # for the report (pytest -s)


def _texts(model: BotApiModel, since: int) -> list[str]:
    return [
        str(call.params.get("text", ""))
        for call in model.calls[since:]
        if call.ok and call.method == "sendMessage"
    ]
