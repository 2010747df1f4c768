"""A request around the one that talks to Telegram: what both the inbox (each getUpdates
answer stored before python-telegram-bot reads it) and the heartbeat (how each round trip
ended) put between python-telegram-bot and Telegram. A subclass says what it does with the
answer in `answered` (and with a failure in `failed`); the delegation is written once."""

from __future__ import annotations

from telegram._utils.types import ODVInput
from telegram.request import BaseRequest, RequestData


class RequestAround(BaseRequest):
    def __init__(self, inner: BaseRequest) -> None:
        self.inner = inner

    @property
    def read_timeout(self) -> float | None:
        return self.inner.read_timeout

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        try:
            status, payload = await self.inner.do_request(
                url,
                method,
                request_data,
                read_timeout=read_timeout,
                write_timeout=write_timeout,
                connect_timeout=connect_timeout,
                pool_timeout=pool_timeout,
            )
        except Exception:
            self.failed()
            raise
        return await self.answered(url, status, payload)

    def failed(self) -> None:
        """The request raised (a timeout, a dropped connection): nothing by default."""

    async def answered(self, url: str, status: int, payload: bytes) -> tuple[int, bytes]:
        """What python-telegram-bot gets of Telegram's answer: the answer itself by default."""
        return status, payload
