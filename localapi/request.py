"""ModelRequest: a PTB request class that hands an in-process bot's calls to the model."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any
from urllib.parse import unquote, urlsplit

from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from localapi import errors as err
from localapi.errors import NetworkFailure, RequestHung
from localapi.model import BotApiModel
from localapi.params import UploadedFile, plain_copy

_METHOD_PATH = re.compile(r"/bot(?P<token>[^/]+)/(?P<method>[A-Za-z_]+)$")
_FILE_PATH = re.compile(r"/file/bot(?P<token>[^/]+)/(?P<path>.+)$")


def _json(status: int, body: dict[str, Any]) -> tuple[int, bytes]:
    return status, json.dumps(body).encode("utf-8")


def _read(content: Any) -> bytes:
    """PTB hands file contents as bytes or as an open file object."""
    if isinstance(content, bytes):
        return content
    data = content.read()
    return data.encode() if isinstance(data, str) else data


class ModelRequest(BaseRequest):
    """Use as ``ApplicationBuilder().request(...).get_updates_request(...)``; no sockets.

    ``read_timeout`` bounds each call like a real HTTP client would (getUpdates gets its
    long-poll timeout added by PTB); exceeding it raises ``telegram.error.TimedOut``, and so
    does a "timeout" fault (`localapi.faults`) when its hang ends first; a dropped connection
    raises ``telegram.error.NetworkError``.
    """

    def __init__(self, model: BotApiModel, read_timeout: float | None = 5.0) -> None:
        self.model = model
        self._read_timeout = read_timeout
        self._paths: dict[str, str] = {}  # url -> its path, unquoted: a bot uses a few dozen

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        """Nothing to open: the model lives in this process."""

    async def shutdown(self) -> None:
        """Nothing to close."""

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
        path = self._paths.get(url)
        if path is None:
            path = self._paths[url] = unquote(urlsplit(url).path)
        file_match = _FILE_PATH.search(path)
        if file_match:
            return self._download(file_match.group("token"), file_match.group("path"))
        match = _METHOD_PATH.search(path)
        if match is None:
            return _json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        if match.group("token") != self.model.token:
            return _json(401, {"ok": False, "error_code": 401, "description": err.UNAUTHORIZED})

        # The model gets plain data, as it would cross the wire.
        params = plain_copy(request_data.parameters) if request_data else {}
        files: dict[str, UploadedFile] = {}
        if request_data is not None and request_data.contains_files:
            for part, (filename, content, mime_type) in request_data.multipart_data.items():
                files[part] = UploadedFile(filename, _read(content), mime_type)

        # PTB's own requests do the same: a default (DEFAULT_NONE) means this request's own.
        timeout = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        name = match.group("method")
        try:
            if not self.model.may_wait(name) and not self.model.faults.armed(name):
                # It answers before it returns: there is nothing a timeout could cut short.
                return await self.model.call_json(name, params, files)
            # asyncio.timeout, not wait_for: the call runs in this task, not in one of its own.
            async with asyncio.timeout(timeout):
                return await self.model.call_json(name, params, files)
        except RequestHung as exc:  # a fault's hang ended: the client has given up by now
            raise TimedOut(f"simulated timeout: {exc}") from exc
        except NetworkFailure as exc:
            raise NetworkError(f"httpx.ConnectError: {exc}") from exc
        except TimeoutError as exc:
            raise TimedOut from exc

    def _download(self, token: str, file_path: str) -> tuple[int, bytes]:
        if token != self.model.token:
            return _json(401, {"ok": False, "error_code": 401, "description": err.UNAUTHORIZED})
        data = self.model.file_bytes(file_path)
        if data is None:
            return _json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        return 200, data
