"""A local, in-memory Telegram Bot API for tests and demos: one model, two fronts."""

from localapi.errors import ApiError, NetworkFailure
from localapi.faults import Fault, Faults
from localapi.model import BotApiModel
from localapi.params import UploadedFile
from localapi.records import ANONYMOUS_ADMIN_ID, CallRecord, MessageRec, PollRec
from localapi.request import ModelRequest
from localapi.server import LocalBotApiServer, run_forever

__all__ = [
    "ANONYMOUS_ADMIN_ID",
    "ApiError",
    "BotApiModel",
    "CallRecord",
    "Fault",
    "Faults",
    "LocalBotApiServer",
    "MessageRec",
    "ModelRequest",
    "NetworkFailure",
    "PollRec",
    "UploadedFile",
    "run_forever",
]
