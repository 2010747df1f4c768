"""The one callback-data codec: compact, versioned, validated. `1:<round id>:<choice>`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.charter.outcomes import Response

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


@dataclass(frozen=True, slots=True)
class Acceptance:
    """A candidate's answer to a nomination: Annehmen or Ablehnen."""

    nomination_id: int
    accept: bool


_ACCEPTANCE = re.compile(r"^n1:([1-9]\d{0,11}):([ad])$")


def encode_acceptance(nomination_id: int, accept: bool) -> str:
    return f"n1:{nomination_id}:{'a' if accept else 'd'}"


def decode_acceptance(data: str | None) -> Acceptance | None:
    match = _ACCEPTANCE.match(data or "")
    if match is None:
        return None
    return Acceptance(int(match.group(1)), match.group(2) == "a")


@dataclass(frozen=True, slots=True)
class Confirmation:
    """A delegate's answer: Bestätigen or Ablehnen."""

    delegation_id: int
    confirm: bool


_CONFIRMATION = re.compile(r"^d1:([1-9]\d{0,11}):([ad])$")


def encode_confirmation(delegation_id: int, confirm: bool) -> str:
    return f"d1:{delegation_id}:{'a' if confirm else 'd'}"


def decode_confirmation(data: str | None) -> Confirmation | None:
    match = _CONFIRMATION.match(data or "")
    if match is None:
        return None
    return Confirmation(int(match.group(1)), match.group(2) == "a")


@dataclass(frozen=True, slots=True)
class Candidacy:
    """A candidate's answer to an election: standing or not."""

    election_id: int
    position: int
    stands: bool


_CANDIDACY = re.compile(r"^e1:([1-9]\d{0,11}):(\d{1,2}):([ad])$")


def encode_candidacy(election_id: int, position: int, stands: bool) -> str:
    return f"e1:{election_id}:{position}:{'a' if stands else 'd'}"


def decode_candidacy(data: str | None) -> Candidacy | None:
    match = _CANDIDACY.match(data or "")
    if match is None:
        return None
    return Candidacy(int(match.group(1)), int(match.group(2)), match.group(3) == "a")
