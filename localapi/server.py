"""LocalBotApiServer: the model behind real HTTP, at an address PTB can use as base_url."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from types import TracebackType
from typing import Any

from aiohttp import web

from localapi import errors as err
from localapi.errors import NetworkFailure
from localapi.model import BotApiModel
from localapi.params import UploadedFile, decode_form_value

_UNAUTHORIZED = {"ok": False, "error_code": 401, "description": err.UNAUTHORIZED}
_MAX_UPLOAD = 50 * 1024 * 1024  # Telegram's upload limit for bots


class LocalBotApiServer:
    """``async with LocalBotApiServer(model) as server:`` then ``.base_url(server.base_url)``."""

    def __init__(self, model: BotApiModel, host: str = "127.0.0.1", port: int = 0) -> None:
        self.model = model
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    @property
    def root_url(self) -> str:
        if self._runner is None:
            raise RuntimeError("server not started")
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """PTB appends the token: ``ApplicationBuilder().base_url(server.base_url)``."""
        return f"{self.root_url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.root_url}/file/bot"

    async def start(self) -> None:
        app = web.Application(client_max_size=_MAX_UPLOAD)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        # Cancel handlers of dropped connections (a stopped bot's long poll) and
        # do not wait a minute for them on shutdown.
        self._runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        addresses = self._runner.addresses
        if addresses:
            self.port = int(addresses[0][1])

    async def stop(self) -> None:
        await self.model.stop_delivery()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> LocalBotApiServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _handle_method(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.model.token:
            return web.json_response(_UNAUTHORIZED, status=401)
        params, files = await _read_params(request)
        try:
            status, body = await self.model.call_json(request.match_info["method"], params, files)
        except NetworkFailure:
            # A real network failure (a dropped connection, or a timeout's hang that outlasted
            # a patient client): the connection just ends without an answer.
            if request.transport is not None:
                request.transport.close()
            raise web.HTTPBadGateway() from None
        return web.Response(body=body, status=status, content_type="application/json")

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.model.token:
            return web.json_response(_UNAUTHORIZED, status=401)
        data = self.model.file_bytes(request.match_info["path"])
        if data is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        return web.Response(body=data, content_type="application/octet-stream")


async def _read_params(
    request: web.Request,
) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """Query string, then a JSON, urlencoded or multipart body, decoded like Telegram does."""
    params: dict[str, Any] = {
        key: decode_form_value(key, value) for key, value in request.query.items()
    }
    files: dict[str, UploadedFile] = {}
    if not request.can_read_body:
        return params, files
    if request.content_type == "application/json":
        raw = await request.read()
        if raw.strip():
            body = json.loads(raw)
            if isinstance(body, dict):
                params.update(body)
        return params, files
    form = await request.post()
    for key, value in form.items():
        if isinstance(value, web.FileField):
            files[key] = UploadedFile(value.filename, value.file.read(), value.content_type)
        else:
            params[key] = decode_form_value(key, str(value))
    return params, files


async def run_forever(
    model: BotApiModel,
    host: str = "127.0.0.1",
    port: int = 8081,
    on_ready: Callable[[LocalBotApiServer], None] | None = None,
) -> None:
    """Serve until cancelled (Ctrl-C in a CLI); on_ready gets the running server."""
    async with LocalBotApiServer(model, host, port) as server:
        if on_ready is not None:
            on_ready(server)
        await asyncio.Event().wait()
