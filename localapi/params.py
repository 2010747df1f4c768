"""Reading request parameters the way Telegram does: typed per parameter, JSON inside forms."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from localapi.errors import bad_request

# Parameters that are plain strings even if they look like JSON ("123", "true", "[x]").
STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "question",
        "explanation",
        "description",
        "parse_mode",
        "question_parse_mode",
        "explanation_parse_mode",
        "description_parse_mode",
        "caption_parse_mode",
        "callback_query_id",
        "url",
        "name",
        "language_code",
        "invite_link",
        "action",
        "inline_message_id",
        "business_connection_id",
        "message_effect_id",
        "title",
        "file_id",
        "secret_token",
        "emoji",
        "custom_title",
    }
)


def decode_form_value(name: str, value: str) -> Any:
    """Form fields carry JSON-encoded values (PTB's json_parameters); strings stay strings."""
    if name in STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def plain_copy(value: Any) -> Any:
    """A copy of JSON-like data as it reads after crossing the wire: fresh dicts and lists,
    tuples as lists, keys as strings (json.loads(json.dumps(value)) at a fraction of the
    cost: every request and every record goes through it)."""
    if isinstance(value, dict):
        return {str(key): plain_copy(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain_copy(item) for item in value]
    return value


@dataclass
class UploadedFile:
    """A file part of a multipart request."""

    filename: str | None
    data: bytes
    mime_type: str | None = None


class Params:
    """Typed access to one request's parameters; bad values become Telegram's 400 answers."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw

    def has(self, name: str) -> bool:
        return self.raw.get(name) is not None

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.raw.get(name)
        if value is None:
            return default
        return value if isinstance(value, str) else json.dumps(value)

    def required_text(self, name: str) -> str:
        value = self.text(name)
        if value is None:
            raise bad_request(f"{name} is empty")
        return value

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self.raw.get(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def required_integer(self, name: str) -> int:
        value = self.integer(name)
        if value is None:
            raise bad_request(f"{name} is empty")
        return value

    def number(self, name: str, default: float = 0.0) -> float:
        value = self.raw.get(name)
        if value is None or value == "":
            return default
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.raw.get(name)
        if value is None:
            return default
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1", "yes")
        return bool(value)

    def optional_flag(self, name: str) -> bool | None:
        return self.flag(name) if self.has(name) else None

    def obj(self, name: str) -> Any:
        """A JSON-typed parameter (dict/list), decoding it if it arrived as a string."""
        value = self.raw.get(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {name} JSON object") from None
        return value

    def chat_id(self, name: str = "chat_id") -> int | str:
        value = self.raw.get(name)
        if value is None or value == "":
            raise bad_request("chat_id is empty")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        text = str(value).strip()
        if text.startswith("@"):
            return text
        try:
            return int(text)
        except ValueError:
            raise bad_request("chat not found") from None
