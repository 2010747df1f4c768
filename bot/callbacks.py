"""The one callback-data codec: compact, versioned, validated. `1:<round id>:<choice>`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.rules import Response

VERSION = "1"
_CODES = {
    Response.AGREE: "a",
    Response.CONCERN: "c",
    Response.ABSTAIN: "s",
    Response.OBJECT: "o",
}
_CHOICES = {code: choice for choice, code in _CODES.items()}
_PATTERN = re.compile(r"^1:([1-9]\d{0,11}):([acso])$")


@dataclass(frozen=True, slots=True)
class Press:
    round_id: int
    choice: Response


def encode(round_id: int, choice: Response) -> str:
    return f"{VERSION}:{round_id}:{_CODES[choice]}"


def decode(data: str | None) -> Press | None:
    """None for anything we did not make (forged, foreign or from an older version)."""
    if not data:
        return None
    match = _PATTERN.match(data)
    if match is None:
        return None
    return Press(round_id=int(match.group(1)), choice=_CHOICES[match.group(2)])
