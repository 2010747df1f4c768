"""The one callback-data codec: a registry from each payload type to its prefix (which
carries its version) and its compact wire format, validated on the way back in.

    1:<round>:<a|c|s|o>               Press         a response on a round's card
    n1:<nomination>:<a|d>             Acceptance    a candidate accepts or declines
    d1:<delegation>:<a|d>             Confirmation  a delegate confirms or declines
    e1:<election>:<position>:<a|d>    Candidacy     a candidate stands or not
    c1:<petition>:<n|a|x>             PetitionPress named, anonymous, or cancelled
    f1:<person>:<y|n>                 ForgetPress   /forgetme confirmed or not
    s1:<team>:<m|p>:<value>           SettingPress  an LT's setting proposed (/einstellungen)
    w1:<network>                      NetworkChoice the network a private chat is for
    b1:<network>                      BindingNetwork the network a group's /setup binds into

These strings are on buttons already posted: a change of format is a new prefix, never a
new meaning for an old one."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.charter.outcomes import Response
from bot.charter.policy import Process, RosterMode
from bot.flows.payloads import (
    Acceptance,
    BindingNetwork,
    CallbackPayload,
    Candidacy,
    Confirmation,
    ForgetPress,
    NetworkChoice,
    PetitionChoice,
    PetitionPress,
    Press,
    SettingField,
    SettingPress,
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


# A setting's field and value, each a short code on the wire.
_FIELDS = {SettingField.MODE: "m", SettingField.PROCESS: "p"}
_FIELD_OF = {code: field for field, code in _FIELDS.items()}
_SETTINGS = {
    SettingField.MODE: {RosterMode.CHAT.value: "c", RosterMode.EXPLICIT.value: "e"},
    SettingField.PROCESS: {
        Process.CONSENSUS_THEN_MAJORITY.value: "cm",
        Process.MAJORITY.value: "m",
        Process.CONSENSUS_ONLY.value: "co",
        Process.CONSENT.value: "cs",
    },
}
_SETTING_OF = {
    (_FIELDS[field], code): value
    for field, values in _SETTINGS.items()
    for value, code in values.items()
}


def _setting(fields: tuple[str, ...]) -> CallbackPayload:
    value = _SETTING_OF[(fields[1], fields[2])]  # KeyError: no such setting (not ours)
    return SettingPress(int(fields[0]), _FIELD_OF[fields[1]], value)


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
    SettingPress: _format(
        "s1",
        f"{_ID}:([mp]):([a-z]{{1,2}})",
        lambda p: (p.team_id, _FIELDS[p.field], _SETTINGS[p.field].get(p.value, "?")),
        _setting,
    ),
    NetworkChoice: _format(
        "w1",
        _ID,
        lambda p: (p.network_id,),
        lambda f: NetworkChoice(int(f[0])),
    ),
    BindingNetwork: _format(
        "b1",
        _ID,
        lambda p: (p.network_id,),
        lambda f: BindingNetwork(int(f[0])),
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
    try:
        return codec.from_fields(match.groups())
    except KeyError:  # well formed, but names nothing we made (a setting that is no setting)
        return None


def pattern(payload_type: type[CallbackPayload]) -> str:
    """The regex a CallbackQueryHandler takes for this type: its prefix, so that the handler
    also gets what carries the prefix but does not decode, and answers it as stale."""
    return "^" + re.escape(_FORMATS[payload_type].prefix + ":")
