"""Webhook mode (SPEC §9): a real `wiq-bot run` with `[webhook] url` set, the local Bot API
posting each update to it; the answer only once the update is stored; the secret; /healthz;
switching between polling and the webhook, either way, with nothing lost."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.config import ConfigError, load_config
from localapi.model import BotApiModel
from localapi.server import LocalBotApiServer
from tests.harness import (
    ADMIN,
    ANNA,
    BERT,
    CARL,
    DORA,
    EVE,
    PT,
    ST,
    UT,
    Teams,
    config_text,
    finish,
    free_port,
    lines_until,
    make_model,
    start_process,
    write_config,
)
from tests.test_e2e_process import a_majority_vote_and_a_round, process_config, unhandled

SECRET = "wiq-hook_S3cret"
PATH = "/wiq/telegram"


def webhook_table(port: int, secret: str = SECRET) -> str:
    return (
        f'[webhook]\nurl = "http://127.0.0.1:{port}{PATH}"\nport = {port}\n'
        f'secret_token = "{secret}"\n'
    )


def with_webhook(config_path: Path, port: int) -> None:
    """The same config, in webhook mode."""
    text = config_path.read_text(encoding="utf-8")
    config_path.write_text(text + webhook_table(port), encoding="utf-8")


def without_webhook(config_path: Path) -> None:
    text = config_path.read_text(encoding="utf-8")
    config_path.write_text(text.split("[webhook]")[0], encoding="utf-8")


async def serving(process: asyncio.subprocess.Process) -> list[str]:
    return await lines_until(process, "event=webhook_serving", within=30)


async def stop(process: asyncio.subprocess.Process) -> str:
    process.send_signal(signal.SIGTERM)
    output = await finish(process)
    assert process.returncode == 0, output
    assert "Traceback" not in output, output
    return output


def inbox_rows(database: Path) -> set[int]:
    with sqlite3.connect(database) as conn:
        return {row[0] for row in conn.execute("SELECT update_id FROM inbox")}


def delivered(model: BotApiModel, update_id: int) -> list[int]:
    """The answers the webhook gave to each posting of the update."""
    return [d.status for d in model.webhook_deliveries if d.update_id == update_id]


def replies_to(model: BotApiModel, chat_id: int, message_id: int) -> list[str]:
    return [m.text or "" for m in model.bot_messages(chat_id) if m.reply_to == message_id]


async def post(url: str, body: bytes, secret: str | None) -> tuple[int, str]:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers) as answer,
    ):
        return answer.status, await answer.text()


async def test_a_round_and_a_vote_through_the_webhook_and_what_it_refuses(team: Teams) -> None:
    h, d, poll_id = await a_majority_vote_and_a_round(team)
    model, database = h.model, h.config.storage_path
    port = free_port()
    hook = f"http://127.0.0.1:{port}{PATH}"
    async with LocalBotApiServer(model) as server:
        config_path = process_config(h, server)
        with_webhook(config_path, port)
        polls = len(model.calls_of("getUpdates"))  # the bot in process polled
        process = await start_process(config_path)
        try:
            await serving(process)
            assert model.webhook_url == hook and model.webhook_secret == SECRET
            [registered] = model.calls_of("setWebhook")
            assert registered.params["drop_pending_updates"] in (False, "false")
            assert "chat_member" in registered.params["allowed_updates"]
            assert "chat_member" in model.allowed_updates
            assert registered.params["max_connections"] in (1, "1")  # one at a time, in order

            # Presses in the round, through the webhook: each answered, the card counts them.
            card = d.card(ST, 2)
            for user in (ANNA, DORA):
                query = model.press_button(ST, card.message_id, user, button_text="Zustimmung")
                answer = await model.wait_callback_answer(query, timeout=20)
                assert "Zustimmung" in (answer.get("text") or "")
            # The vote: everyone votes, it closes and counts each ballot once.
            for user, option in ((ANNA, 0), (BERT, 1), (CARL, 0), (DORA, 0)):
                model.answer_poll(poll_id, user, [option])
            result = await model.wait_for_message(ST, "Angenommen", timeout=30)
            assert "Ja 3 · Nein 1" in (result.text or "")
            await model.wait_idle(timeout=10)
            assert len(model.calls_of("getUpdates")) == polls  # it all came by the webhook
            assert model.webhook_deliveries and {x.status for x in model.webhook_deliveries} == {
                200
            }

            # What the webhook refuses changes nothing: no row in the inbox, no answer.
            sent = model.send_message(ST, BERT, "Hallo")  # a message to forge an update from
            await model.wait_idle(timeout=10)
            rows = inbox_rows(database)
            forged = {
                "update_id": 900001,
                "message": {
                    **model.message_view(model.find_message(ST, sent["message_id"])),
                    "text": "/members",
                    "entities": [{"type": "bot_command", "offset": 0, "length": 8}],
                },
            }
            body = json.dumps(forged).encode()
            assert (await post(hook, body, None))[0] == 403
            assert (await post(hook, body, "wrong-secret"))[0] == 403
            assert (await post(hook, b'{"update_id": 900002, "mess', SECRET))[0] == 400
            assert (await post(hook, b'["not", "an", "update"]', SECRET))[0] == 400
            status, _ = await post(f"http://127.0.0.1:{port}/elsewhere", body, SECRET)
            assert status == 404
            assert inbox_rows(database) == rows
            assert not replies_to(model, ST, sent["message_id"])

            # /healthz says what `wiq-bot health` says.
            async with (
                aiohttp.ClientSession() as session,
                session.get(f"http://127.0.0.1:{port}/healthz") as answer,
            ):
                assert answer.status == 200
                assert (await answer.text()).startswith("ok: schema ")
            # An update Telegram posts twice (its 200 was lost) is handled once.
            forged["update_id"] = 900003
            body = json.dumps(forged).encode()
            assert [(await post(hook, body, SECRET))[0] for _ in range(2)] == [200, 200]
            await model.wait_for_message(ST, "Mitglieder", after=sent["message_id"], timeout=20)
        finally:
            output = await stop(process)
        assert output.count("reason=wrong_secret") == 1 and output.count("reason=no_secret") == 1
        assert SECRET not in output
        # After the stop Telegram keeps the webhook and what comes meanwhile.
        assert model.webhook_url == hook
        assert unhandled(database) == set()
        assert len(replies_to(model, ST, sent["message_id"])) == 1
        # The server is gone with the process.
        async with aiohttp.ClientSession() as session:
            with pytest.raises(aiohttp.ClientConnectionError):
                await session.get(f"http://127.0.0.1:{port}/healthz")


async def test_a_nomination_through_the_webhook(team: Teams) -> None:
    """PT and ST approve Eve for the UT, and she accepts: every step came by the webhook."""
    h, d = await team.network(start=datetime.now(UTC))
    model = h.model
    await h.stop()
    port = free_port()
    async with LocalBotApiServer(model) as server:
        config_path = process_config(h, server)
        with_webhook(config_path, port)
        process = await start_process(config_path)
        try:
            await serving(process)
            model.start_bot(EVE)
            model.send_message(PT, ANNA, "/nominieren 2d @eve UT kennt alle Lösungsteams")
            await model.wait_for_message(ST, "Nominierung von Eve", timeout=20)
            for chat, proposal, users in ((PT, 1, (ANNA, BERT)), (ST, 2, (CARL, DORA))):
                card = d.card(chat, proposal)
                for user in users:
                    query = model.press_button(
                        chat, card.message_id, user, button_text="Zustimmung"
                    )
                    await model.wait_callback_answer(query, timeout=20)
            question = await model.wait_until(
                lambda: next((m for m in model.bot_messages(EVE) if m.reply_markup), None),
                20,
                "the question to Eve",
            )
            query = model.press_button(EVE, question.message_id, EVE, button_text="Annehmen")
            await model.wait_callback_answer(query, timeout=20)
            appointed = await model.wait_for_message(UT, "ist jetzt ernannt", timeout=30)
            assert "Eve" in (appointed.text or "")
            assert sum("ist jetzt ernannt" in (m.text or "") for m in model.bot_messages(UT)) == 1
        finally:
            await stop(process)
        assert model.webhook_deliveries and all(x.status == 200 for x in model.webhook_deliveries)


async def test_an_update_answered_200_survives_a_kill_before_it_was_handled(
    tmp_path: Path,
) -> None:
    model = make_model()
    port = free_port()
    async with LocalBotApiServer(model) as server:
        config_path = write_config(tmp_path, server.base_url, extra=webhook_table(port))
        database = tmp_path / "wiq.sqlite"
        # Each update waits a minute before its handling begins: the kill comes first.
        process = await start_process(config_path, hold_updates=60)
        try:
            await serving(process)
            sent = model.send_message(PT, ADMIN, "/setup PT Projektteam")
            await model.wait_idle(timeout=20)  # posted and answered 200: Telegram forgets it
            [update_id] = inbox_rows(database)
            assert delivered(model, update_id) == [200]
            assert unhandled(database) == {update_id}
        finally:
            process.send_signal(signal.SIGKILL)
            await process.wait()
        assert not model.bot_messages(PT)

        process = await start_process(config_path)
        try:
            await serving(process)
            reply = await model.wait_for_message(PT, "✅", after=sent["message_id"], timeout=20)
            assert "Projektteam" in (reply.text or "")
        finally:
            await stop(process)
        assert delivered(model, update_id) == [200]  # handled from the inbox, not posted again
        assert len(replies_to(model, PT, sent["message_id"])) == 1
        assert unhandled(database) == set()


async def test_switching_polling_to_webhook_and_back_loses_no_update(tmp_path: Path) -> None:
    model = make_model()
    port = free_port()
    async with LocalBotApiServer(model) as server:
        config_path = tmp_path / "config.toml"
        config_path.write_text(
            config_text(tmp_path / "wiq.sqlite").replace("http://127.0.0.1:9/bot", server.base_url),
            encoding="utf-8",
        )
        commands: list[int] = []

        def ask(text: str = "/team") -> None:
            commands.append(model.send_message(PT, ADMIN, text)["message_id"])

        async def all_answered() -> None:
            await model.wait_until(
                lambda: all(replies_to(model, PT, command) for command in commands),
                20,
                "an answer to every command",
            )

        # Polling.
        process = await start_process(config_path)
        try:
            ask("/setup PT Projektteam")
            await all_answered()
        finally:
            await stop(process)
        ask()  # while no bot runs: Telegram keeps them
        ask()
        polls = len(model.calls_of("getUpdates"))

        # To the webhook: what Telegram kept comes by the webhook, and what comes now.
        with_webhook(config_path, port)
        process = await start_process(config_path)
        try:
            await serving(process)
            ask()
            await all_answered()
        finally:
            await stop(process)
        assert len(model.calls_of("getUpdates")) == polls  # they came by the webhook
        ask()  # the webhook is set but nobody answers: Telegram keeps trying
        ask()
        await model.wait_until(
            lambda: any(d.status == 0 for d in model.webhook_deliveries), 10, "a failed post"
        )

        # Back to polling: deleteWebhook keeps them; getUpdates brings them.
        without_webhook(config_path)
        process = await start_process(config_path)
        try:
            await lines_until(process, "event=started", within=30)
            ask()
            await all_answered()
            await asyncio.sleep(0.3)  # nothing more comes
        finally:
            await stop(process)
    assert model.webhook_url is None
    assert model.calls_of("deleteWebhook")[-1].params.get("drop_pending_updates") in (
        None,
        False,
        "false",
    )
    answers = [len(replies_to(model, PT, command)) for command in commands]
    assert answers == [1] * 7, model.transcript(PT)


async def test_a_port_taken_is_one_line_and_exit_2(tmp_path: Path) -> None:
    model = make_model()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        async with LocalBotApiServer(model) as server:
            config_path = write_config(tmp_path, server.base_url, extra=webhook_table(port))
            process = await start_process(config_path)
            output = await finish(process)
    assert process.returncode == 2, output
    [line] = output.splitlines()
    assert "reason=webhook_listen" in line and f"port={port}" in line
    assert not model.calls_of("setWebhook")  # Telegram was not pointed at a server not there


# -- the local Bot API's delivery ------------------------------------------------------------


async def test_the_local_bot_api_posts_in_order_and_again_after_a_failure() -> None:
    """One update at a time, the secret in its header, the same one again after a non-2xx."""
    model = make_model()
    seen: list[tuple[int, str | None]] = []
    failures = {2: 2}  # update 2 is answered 500 twice

    async def hook(request: web.Request) -> web.Response:
        update = await request.json()
        seen.append((update["update_id"], request.headers.get("X-Telegram-Bot-Api-Secret-Token")))
        if failures.get(update["update_id"], 0) > 0:
            failures[update["update_id"]] -= 1
            return web.Response(status=500)
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        for text in ("eins", "zwei", "drei"):
            model.send_message(PT, ADMIN, f"/team {text}")
        status, answer = await model.call(
            "setWebhook", {"url": f"http://127.0.0.1:{port}/hook", "secret_token": "abc"}
        )
        assert status == 200 and answer["result"] is True
        await model.wait_idle(timeout=10)
        assert seen == [(1, "abc"), (2, "abc"), (2, "abc"), (2, "abc"), (3, "abc")]
        status, info = await model.call("getWebhookInfo")
        assert info["result"]["pending_update_count"] == 0
        assert "500" in info["result"]["last_error_message"]
        # getUpdates is refused while a webhook is set, as Telegram refuses it.
        status, _ = await model.call("getUpdates")
        assert status == 409
        # A refused secret is Telegram's 400.
        status, _ = await model.call("setWebhook", {"url": "http://x/y", "secret_token": "a b"})
        assert status == 400
    finally:
        await model.stop_delivery()
        await runner.cleanup()


# -- the [webhook] table -----------------------------------------------------------------------


def config_with(tmp_path: Path, table: str, base_url: str = "http://127.0.0.1:9/bot") -> Path:
    path = tmp_path / "config.toml"
    text = config_text(tmp_path / "wiq.sqlite").replace("http://127.0.0.1:9/bot", base_url)
    path.write_text(text + table, encoding="utf-8")
    return path


def test_the_webhook_table(tmp_path: Path) -> None:
    assert load_config(config_with(tmp_path, ""), env={}).webhook is None
    assert load_config(config_with(tmp_path, "[webhook]\nport = 9000\n"), env={}).webhook is None
    path = config_with(
        tmp_path, '[webhook]\nurl = "https://bot.example.org/wiq/hook"\nsecret_token = "abc"\n'
    )
    webhook = load_config(path, env={}).webhook
    assert webhook is not None
    assert (webhook.listen, webhook.port, webhook.path) == ("127.0.0.1", 8080, "/wiq/hook")
    assert webhook.secret_token == "abc" and webhook.secret_source.startswith("webhook.")
    # The environment wins, as for the token.
    webhook = load_config(path, env={"WIQ_WEBHOOK_SECRET": "from-env"}).webhook
    assert webhook is not None and webhook.secret_token == "from-env"
    assert webhook.secret_source == "WIQ_WEBHOOK_SECRET (environment)"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('url = "https://b.example/h"\n', r"webhook\.secret_token: missing .*WIQ_WEBHOOK_SECRET"),
        ('url = "https://b.example/h"\nsecret_token = "a b"\n', r"webhook\.secret_token: must"),
        ('url = "ftp://b.example/h"\nsecret_token = "a"\n', r"webhook\.url: must be an https"),
        ('url = "https://b.example/healthz"\nsecret_token = "a"\n', r"health check's path"),
        ('url = "https://b.example/h?x=1"\nsecret_token = "a"\n', r"no \?query"),
        ("port = 70000\n", r"webhook\.port: must be between"),
        ("path = '/x'\n", r"webhook\.path: unknown key"),
    ],
)
def test_a_wrong_webhook_table_is_one_line(tmp_path: Path, table: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(config_with(tmp_path, "[webhook]\n" + table), env={})


def test_telegram_itself_posts_only_to_https(tmp_path: Path) -> None:
    table = '[webhook]\nurl = "http://b.example/h"\nsecret_token = "a"\n'
    with pytest.raises(ConfigError, match=r"only to https://"):
        load_config(config_with(tmp_path, table, "https://api.telegram.org/bot"), env={})
