"""The first real run of `wiq-bot run` (SPEC §9): a rejected token, an unreachable Bot API at
start, a second bot on the same database — each one clear line, never a traceback."""

from __future__ import annotations

import re
import signal
from pathlib import Path

from localapi.server import LocalBotApiServer
from tests.harness import (
    ADMIN,
    PT,
    TOKEN,
    finish,
    free_port,
    lines_until,
    make_model,
    start_process,
    write_config,
)


async def test_a_rejected_token_is_one_line_that_names_its_source_never_the_token(
    tmp_path: Path,
) -> None:
    model = make_model()
    async with LocalBotApiServer(model) as server:
        config = write_config(tmp_path, server.base_url, token="123456789:WRONG-but-well-formed")
        process = await start_process(config)
        output = await finish(process)
        assert process.returncode == 2
        [line] = output.splitlines()
        assert "event=token_rejected" in line
        assert f'source="telegram.token in {config}"' in line
        assert "WRONG-but-well-formed" not in output

        # From the environment, which wins over the config: the line says so.
        process = await start_process(config, env={"WIQ_BOT_TOKEN": "123456789:ENV-wrong"})
        output = await finish(process)
        assert process.returncode == 2
        [line] = output.splitlines()
        assert 'source="WIQ_BOT_TOKEN (environment)"' in line
        assert "ENV-wrong" not in output
    # Nothing was set up for a bot that never reached Telegram.
    assert not (tmp_path / "wiq.sqlite").exists()


async def test_an_unreachable_bot_api_is_retried_with_backoff_until_it_answers(
    tmp_path: Path,
) -> None:
    port = free_port()
    config = write_config(
        tmp_path,
        f"http://127.0.0.1:{port}/bot",
        extra="[limits]\nretry_base = 0.2\nretry_max = 0.4\n",
    )
    process = await start_process(config)
    try:
        before = await lines_until(process, "event=telegram_unreachable", count=3)
        attempts = [line for line in before if "event=telegram_unreachable" in line]
        # One line per attempt, the wait doubling up to retry_max.
        waits = [re.findall(r"retry_in=(\S+)", line) for line in attempts]
        assert waits == [["0.2s"], ["0.4s"], ["0.4s"]]
        assert all("attempt=" in line and "error=" in line for line in attempts)
        model = make_model()
        async with LocalBotApiServer(model, port=port):
            before += await lines_until(process, "event=started")
            sent = model.send_message(PT, ADMIN, "/setup PT Projektteam")
            await model.wait_for_message(PT, "✅", after=sent["message_id"], timeout=20)
            process.send_signal(signal.SIGTERM)
            rest = await finish(process)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0
    output = "".join(before) + rest
    assert "Traceback" not in output
    assert re.search(r"event=telegram_reached attempts=\d+", output)


async def test_a_stop_while_telegram_is_unreachable_ends_the_retries_and_exits_0(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path, f"http://127.0.0.1:{free_port()}/bot")
    process = await start_process(config)
    await lines_until(process, "event=telegram_unreachable")
    process.send_signal(signal.SIGTERM)
    output = await finish(process, within=10)
    assert process.returncode == 0
    assert "event=stopped before=telegram_reached" in output
    assert "Traceback" not in output


async def test_a_second_bot_on_the_same_database_is_refused_and_a_kill_does_not_block_a_restart(
    tmp_path: Path,
) -> None:
    model = make_model()
    async with LocalBotApiServer(model) as server:
        config = write_config(tmp_path, server.base_url)
        first = await start_process(config)
        try:
            await lines_until(first, "event=started")
            second = await start_process(config)
            output = await finish(second, within=10)
            assert second.returncode == 2
            [line] = output.splitlines()
            assert "reason=database_in_use" in line and f"pid {first.pid} " in line
            # The first one goes on serving.
            sent = model.send_message(PT, ADMIN, "/setup PT Projektteam")
            await model.wait_for_message(PT, "✅", after=sent["message_id"], timeout=20)
        finally:
            first.kill()  # SIGKILL: no goodbye, the lock file stays behind
            await first.wait()
        assert (tmp_path / "wiq.sqlite.lock").exists()

        third = await start_process(config)  # as systemd's Restart=on-failure would
        try:
            await lines_until(third, "event=started")
            sent = model.send_message(PT, ADMIN, "/team")
            await model.wait_for_message(PT, "Projektteam", after=sent["message_id"], timeout=20)
        finally:
            third.send_signal(signal.SIGTERM)
            await finish(third)
        assert third.returncode == 0


async def test_a_token_revoked_while_the_bot_runs_stops_it_with_one_line(tmp_path: Path) -> None:
    model = make_model()
    async with LocalBotApiServer(model) as server:
        config = write_config(tmp_path, server.base_url)
        process = await start_process(config)
        try:
            await lines_until(process, "event=started")
            await model.wait_for_call("getUpdates", timeout=20)  # polling
            model.token = "123456789:REVOKED"  # /revoke at @BotFather
            output = await finish(process)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert process.returncode == 2, output
    assert output.count("event=token_rejected") == 1
    assert "Traceback" not in output and TOKEN.split(":")[1] not in output
