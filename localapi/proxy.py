"""A round-robin reverse proxy in front of several webhook workers, as nginx's `upstream` or
Caddy's `reverse_proxy a b c` would be: each post Telegram (here the local Bot API) sends goes
to the next worker in turn, and to the one after it when that one does not answer (a killed
worker); its answer goes back. Kept-alive connections, and the time each post took through
it (`Proxy.spent`: the model posts one at a time, so their sum over the wall time is how busy
that one line is). tests/test_workers.py and bench/http_presses.py put it in front of their
`wiq-bot run` workers."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web


@dataclass
class Proxy:
    """The proxy's port, and the seconds each post took through it (to a worker and back)."""

    port: int
    spent: list[float] = field(default_factory=list)


def free_port() -> int:
    """A port nothing listens on (yet)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.asynccontextmanager
async def round_robin(ports: list[int], path: str) -> AsyncIterator[Proxy]:
    """The proxy on a port of its own, forwarding posts to `path` on the workers' `ports`."""
    turn = 0
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    proxy = Proxy(free_port())

    async def forward(request: web.Request) -> web.Response:
        nonlocal turn
        began = time.monotonic()
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower().startswith("x-")}
        headers["Content-Type"] = "application/json"
        try:
            for _ in ports:
                port = ports[turn % len(ports)]
                turn += 1
                try:
                    async with session.post(
                        f"http://127.0.0.1:{port}{path}", data=body, headers=headers
                    ) as answer:
                        return web.Response(status=answer.status, body=await answer.read())
                except aiohttp.ClientError:
                    continue
            return web.Response(status=502)
        finally:
            proxy.spent.append(time.monotonic() - began)

    app = web.Application()
    app.router.add_post(path, forward)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", proxy.port).start()
    try:
        yield proxy
    finally:
        await runner.cleanup()
        await session.close()
