"""The one callback-data codec: a registry from each payload type to its prefix (which
carries its version) and its compact wire format, validated on the way back in.

    1:<round>:<a|c|s|o>               Press         a response on a round's card
    n1:<nomination>:<a|d>             Acceptance    a candidate accepts or declines
    d1:<delegation>:<a|d>             Confirmation  a delegate confirms or declines
    e1:<election>:<position>:<a|d>    Candidacy     a candidate stands or not
    c1:<petition>:<n|a|x>             PetitionPress named, anonymous, or cancelled
    f1:<person>:<y|n>                 ForgetPress   /forgetme confirmed or not

These strings are on buttons already posted: a change of format is a new prefix, never a
new meaning for an old one."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.charter.outcomes import Response
from bot.flows.payloads import (
    Acceptance,
    CallbackPayload,
    Candidacy,
    Confirmation,
    ForgetPress,
    PetitionChoice,
    PetitionPress,
    Press,
)

MAX_BYTES = 64  # Telegram's limit for callback data

_ID = "([1-9][0-9]{0,11})"
_RESPONSES = {
    Response.AGREE: "a",
    Response.CONCERN: "c",
    Response.ABSTAIN: "s",
    Response.OBJECT: "o",
}
_RESPONSE_OF = {code: response for response, code in _RESPONSES.items()}


def _yes(value: bool, yes: str = "a", no: str = "d") -> str:
    return yes if value else no


@dataclass(frozen=True, slots=True)
class _Format:
    prefix: str
    fields: re.Pattern[str]  # what follows "<prefix>:"
    to_fields: Callable[[Any], tuple[object, ...]]
    from_fields: Callable[[tuple[str, ...]], CallbackPayload]


def _format(
    prefix: str,
    fields: str,
    to_fields: Callable[[Any], tuple[object, ...]],
    from_fields: Callable[[tuple[str, ...]], CallbackPayload],
) -> _Format:
    return _Format(prefix, re.compile(fields), to_fields, from_fields)


_FORMATS: dict[type[CallbackPayload], _Format] = {
    Press: _format(
        "1",
        f"{_ID}:([acso])",
        lambda p: (p.round_id, _RESPONSES[p.choice]),
        lambda f: Press(int(f[0]), _RESPONSE_OF[f[1]]),
    ),
    Acceptance: _format(
        "n1",
        f"{_ID}:([ad])",
        lambda p: (p.nomination_id, _yes(p.accept)),
        lambda f: Acceptance(int(f[0]), f[1] == "a"),
    ),
    Confirmation: _format(
        "d1",
        f"{_ID}:([ad])",
        lambda p: (p.delegation_id, _yes(p.confirm)),
        lambda f: Confirmation(int(f[0]), f[1] == "a"),
    ),
    Candidacy: _format(
        "e1",
        f"{_ID}:([0-9]{{1,2}}):([ad])",
        lambda p: (p.election_id, p.position, _yes(p.stands)),
        lambda f: Candidacy(int(f[0]), int(f[1]), f[2] == "a"),
    ),
    PetitionPress: _format(
        "c1",
        f"{_ID}:([nax])",
        lambda p: (p.petition_id, p.choice.value),
        lambda f: PetitionPress(int(f[0]), PetitionChoice(f[1])),
    ),
    ForgetPress: _format(
        "f1",
        f"{_ID}:([yn])",
        lambda p: (p.person_id, _yes(p.confirm, "y", "n")),
        lambda f: ForgetPress(int(f[0]), f[1] == "y"),
    ),
}
_BY_PREFIX = {codec.prefix: codec for codec in _FORMATS.values()}


def encode(payload: CallbackPayload) -> str:
    """The callback data of a button; ValueError for a payload that would not read back
    (a button nobody could use is never posted)."""
    codec = _FORMATS[type(payload)]
    data = ":".join([codec.prefix, *(str(field) for field in codec.to_fields(payload))])
    if decode(data) != payload:
        raise ValueError(f"{payload!r} has no callback data")
    return data


def decode(data: str | None) -> CallbackPayload | None:
    """None for anything we did not make: forged, foreign, too long, or of an older version."""
    if not data or len(data.encode("utf-8")) > MAX_BYTES:
        return None
    prefix, colon, rest = data.partition(":")
    codec = _BY_PREFIX.get(prefix)
    if codec is None or not colon:
        return None
    match = codec.fields.fullmatch(rest)
    if match is None:
        return None
    return codec.from_fields(match.groups())


def pattern(payload_type: type[CallbackPayload]) -> str:
    """The regex a CallbackQueryHandler takes for this type: its prefix, so that the handler
    also gets what carries the prefix but does not decode, and answers it as stale."""
    return "^" + re.escape(_FORMATS[payload_type].prefix + ":")
