"""The local Bot API's switchable faults (`localapi.faults`) behave as Telegram's do, on both
fronts: 429 with retry_after, 500/502, a timeout, a dropped connection — before Telegram acted
(nothing happened) or after (it happened, the answer is lost) — and which calls they hit.
Also: every call the outbox makes is one the limiter leaves to the outbox's own retries."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from telegram import Bot
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from bot.telegram_side.bot_calls import QUEUED_ENDPOINTS, bot_call
from localapi import BotApiModel, LocalBotApiServer, ModelRequest

ANNA = 101
ST = -1001000000001


@pytest.fixture
def model() -> BotApiModel:
    model = BotApiModel()
    model.add_user(ANNA, "Anna")
    model.add_group(ST, "ST", members=[ANNA], creator=ANNA)
    model.faults.hang = 0.05
    return model


@pytest_asyncio.fixture
async def bot(model: BotApiModel) -> AsyncIterator[Bot]:
    async with Bot(model.token, request=ModelRequest(model)) as bot:
        yield bot


def posted(model: BotApiModel) -> list[str]:
    return [m.text or "" for m in model.bot_messages(ST)]


async def test_429_says_when_to_try_again_and_nothing_happens(model: BotApiModel, bot: Bot) -> None:
    model.faults.add(method="sendMessage", kind="429", retry_after=3, times=1)
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(ST, "eins")
    assert info.value.retry_after in (3, 3.0) or info.value.retry_after.total_seconds() == 3
    assert posted(model) == []
    await bot.send_message(ST, "zwei")  # times=1: the next call goes through
    assert posted(model) == ["zwei"]
    [failed, ok] = model.calls_of("sendMessage")
    assert failed.status == 429 and failed.fault == "429 before acting" and ok.fault is None


@pytest.mark.parametrize("kind", ["500", "502"])
async def test_a_server_error_before_or_after_acting(
    model: BotApiModel, bot: Bot, kind: str
) -> None:
    model.faults.add("sendMessage", kind)
    model.faults.add("sendMessage", kind, after_acting=True)
    for text in ("vorher", "nachher"):
        with pytest.raises(NetworkError, match=r"Internal Server Error|Bad Gateway"):
            await bot.send_message(ST, text)
    assert posted(model) == ["nachher"]  # after acting, Telegram did post it
    assert [c.status for c in model.calls_of("sendMessage")] == [int(kind), int(kind)]


async def test_a_timeout_hangs_then_the_client_gives_up(model: BotApiModel, bot: Bot) -> None:
    model.faults.hang = 0.2
    model.faults.add("editMessageText", "timeout")
    model.faults.add("sendMessage", "timeout", after_acting=True)
    start = time.monotonic()
    with pytest.raises(TimedOut):
        await bot.send_message(ST, "angekommen?")
    assert time.monotonic() - start >= 0.2
    [message] = model.bot_messages(ST)
    assert message.text == "angekommen?"
    with pytest.raises(TimedOut):
        await bot.edit_message_text("geändert?", chat_id=ST, message_id=message.message_id)
    assert message.text == "angekommen?"  # before acting: not edited


async def test_a_client_timeout_shorter_than_the_hang_cuts_it(model: BotApiModel) -> None:
    model.faults.hang = 30.0
    model.faults.add("sendMessage", "timeout")
    async with Bot(model.token, request=ModelRequest(model, read_timeout=0.1)) as bot:
        start = time.monotonic()
        with pytest.raises(TimedOut):
            await bot.send_message(ST, "x")
        assert time.monotonic() - start < 5


async def test_a_dropped_connection_before_or_after_acting(model: BotApiModel, bot: Bot) -> None:
    model.start_bot(ANNA)
    model.faults.add("sendMessage", "drop", chat_id=ANNA)  # only calls for Anna's chat
    model.faults.add("sendMessage", "drop", after_acting=True, chat_id=ANNA)
    await bot.send_message(ST, "Gruppe")  # not hit
    for _ in range(2):
        with pytest.raises(NetworkError):
            await bot.send_message(ANNA, "privat")
    assert len([m for m in model.bot_messages(ANNA) if m.text == "privat"]) == 1
    assert posted(model) == ["Gruppe"]


async def test_skip_times_and_what_was_injected(model: BotApiModel, bot: Bot) -> None:
    fault = model.faults.add("sendMessage", "500", times=2, skip=1)
    outcomes = []
    for number in range(4):
        try:
            await bot.send_message(ST, str(number))
            outcomes.append("ok")
        except NetworkError:
            outcomes.append("fault")
    assert outcomes == ["ok", "fault", "fault", "ok"]
    assert fault.spent and not model.faults.pending()
    assert model.faults.counts() == {("sendMessage", "500", False): 2}
    assert [i.params["text"] for i in model.faults.injected] == ["1", "2"]


async def test_an_after_acting_fault_waits_for_a_call_telegram_carries_out(
    model: BotApiModel, bot: Bot
) -> None:
    sent = await bot.send_message(ST, "gleich")
    model.faults.add("editMessageText", "drop", after_acting=True)
    with pytest.raises(BadRequest, match="not modified"):  # refused: the fault waits
        await bot.edit_message_text("gleich", chat_id=ST, message_id=sent.message_id)
    with pytest.raises(NetworkError):
        await bot.edit_message_text("anders", chat_id=ST, message_id=sent.message_id)
    assert posted(model) == ["anders"]


def test_a_fault_that_could_never_fire_is_refused(model: BotApiModel) -> None:
    with pytest.raises(ValueError, match="does not model"):
        model.faults.add("sendMesage", "500")  # a typo
    with pytest.raises(ValueError, match="never acts"):
        model.faults.add("sendMessage", "429", after_acting=True)
    with pytest.raises(ValueError, match="unknown fault kind"):
        model.faults.add("sendMessage", "slow")


async def test_over_http_a_drop_and_a_timeout_end_the_request(model: BotApiModel) -> None:
    model.faults.hang = 1.0
    model.faults.add("sendMessage", "drop")
    model.faults.add("getChatMember", "timeout", after_acting=True)
    async with LocalBotApiServer(model) as server:
        request = HTTPXRequest(read_timeout=0.2)
        async with Bot(model.token, base_url=server.base_url, request=request) as bot:
            with pytest.raises(NetworkError):
                await bot.send_message(ST, "x")
            with pytest.raises(TimedOut):
                await bot.get_chat_member(ST, ANNA)
    assert posted(model) == []


@pytest.mark.parametrize("kind", ["text", "edit", "document", "poll", "stop_poll", "approve"])
def test_every_call_of_the_outbox_is_left_to_its_own_retries(kind: str) -> None:
    message = {
        "text": "x",
        "message_id": 1,
        "filename": "f.csv",
        "question": "?",
        "options": ["a", "b"],
        "multiple_answers": False,
        "user_id": 1,
    }
    method, _ = bot_call(kind, message, ST, b"")
    endpoint = method.split("_")[0] + "".join(part.title() for part in method.split("_")[1:])
    assert endpoint in QUEUED_ENDPOINTS
