"""Telegram-shaped API errors raised inside the model and turned into error answers."""

from __future__ import annotations

from typing import Any

# Descriptions exactly as the Bot API words them, so code matching on them is tested for real.
CHAT_NOT_FOUND = "Bad Request: chat not found"
MESSAGE_TO_EDIT_NOT_FOUND = "Bad Request: message to edit not found"
MESSAGE_TO_DELETE_NOT_FOUND = "Bad Request: message to delete not found"
MESSAGE_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
MESSAGE_TOO_LONG = "Bad Request: message is too long"
CAPTION_TOO_LONG = "Bad Request: message caption is too long"
TEXT_EMPTY = "Bad Request: message text is empty"
BUTTON_DATA_INVALID = "Bad Request: BUTTON_DATA_INVALID"
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
CANT_INITIATE = "Forbidden: bot can't initiate conversation with a user"
BLOCKED = "Forbidden: bot was blocked by the user"
GROUP_UPGRADED = "Bad Request: group chat was upgraded to a supergroup chat"
METHOD_NOT_FOUND = "Not Found: method not found"
UNAUTHORIZED = "Unauthorized"
GETUPDATES_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)

# What a forced failure says when the test gives no description.
DEFAULT_DESCRIPTIONS: dict[int, str] = {
    400: "Bad Request",
    401: UNAUTHORIZED,
    403: BLOCKED,
    404: "Not Found",
    409: GETUPDATES_CONFLICT,
    429: "Too Many Requests: retry after {retry_after}",
    500: "Internal Server Error",
    502: "Bad Gateway",
    504: "Gateway Timeout",
}


class ApiError(Exception):
    """A Bot API error answer: HTTP status, description and optional response parameters."""

    def __init__(
        self, code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{code} {description}")
        self.code = code
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            answer["parameters"] = dict(self.parameters)
        return answer


class NetworkFailure(Exception):
    """A simulated broken connection: the fronts turn it into a dropped request."""


class RequestHung(NetworkFailure):
    """A simulated timeout: the request hung until the client gave up (the in-process front
    raises ``telegram.error.TimedOut``; the HTTP front closes the connection)."""


def bad_request(description: str) -> ApiError:
    """400 with the "Bad Request: " prefix Telegram puts in front of every such error."""
    return ApiError(400, f"Bad Request: {description}")


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(
        429,
        f"Too Many Requests: retry after {retry_after}",
        {"retry_after": retry_after},
    )


def forced_error(code: int, description: str | None, retry_after: int | None) -> ApiError:
    """The error answer of a fault (``faults.add``, ``fail_next``), filled in the way Telegram
    would."""
    if code == 429:
        wait = retry_after if retry_after is not None else 1
        text = description or DEFAULT_DESCRIPTIONS[429].format(retry_after=wait)
        return ApiError(429, text, {"retry_after": wait})
    text = description or DEFAULT_DESCRIPTIONS.get(code, f"Error {code}")
    parameters = {"retry_after": retry_after} if retry_after is not None else None
    return ApiError(code, text, parameters)
