"""The one deep-link codec: what a link that opens the bot hands to /start, as the typed
payloads of bot.flows.payloads, and the one way to build such a link.

    (nothing)         OpenBot         just the private chat (the link has no ?start=)
    petition          RaisePetition   the first question of an Anliegen
    petition_<net>    RaisePetition   the same, in the network <net> (a deployment of several)
    reason_<round>    GiveReason      the reason for an Einwand or Bedenken
    nom_<token>       OpenNomination  a nomination's question to its candidate
    del_<token>       OpenDelegation  a delegation's question to its delegate
    cand_<token>      OpenCandidacy   an election's question to a candidate
    lt_<code>         BindLt          a group may become an LT with this code (a startgroup
                                      link: `group_url`)

These strings are in links already sent: a change of format is a new prefix."""

from __future__ import annotations

import re

from bot.flows.payloads import (
    BindLt,
    GiveReason,
    OpenBot,
    OpenCandidacy,
    OpenDelegation,
    OpenNomination,
    RaisePetition,
    StartPayload,
)

MAX_LENGTH = 64  # Telegram's limit for a start parameter
_ALLOWED = re.compile("[A-Za-z0-9_-]*")  # the characters Telegram allows in one
_ROUND = re.compile("[0-9]{1,18}")

PETITION = "petition"
REASON = "reason_"
NOMINATION = "nom_"
DELEGATION = "del_"
CANDIDACY = "cand_"
LT_CODE = "lt_"
_TOKENS: dict[str, type[OpenNomination | OpenDelegation | OpenCandidacy]] = {
    NOMINATION: OpenNomination,
    DELEGATION: OpenDelegation,
    CANDIDACY: OpenCandidacy,
}
_PREFIX_OF = {kind: prefix for prefix, kind in _TOKENS.items()}


def encode(payload: StartPayload) -> str:
    """The start parameter; ValueError for one Telegram would not carry."""
    match payload:
        case OpenBot():
            text = ""
        case RaisePetition(None):
            text = PETITION
        case RaisePetition(network_id):
            text = f"{PETITION}_{network_id}"
        case GiveReason(round_id):
            text = f"{REASON}{round_id}"
        case OpenNomination(token) | OpenDelegation(token) | OpenCandidacy(token):
            text = _PREFIX_OF[type(payload)] + token
        case BindLt(code):
            text = LT_CODE + code
    if len(text) > MAX_LENGTH or not _ALLOWED.fullmatch(text):
        raise ValueError(f"{payload!r} cannot be a start parameter")
    return text


def decode(text: str | None) -> StartPayload | None:
    """What /start was handed; None for anything that is none of ours."""
    if not text:
        return OpenBot()
    if text == PETITION:
        return RaisePetition()
    if text.startswith(PETITION + "_"):
        network = text[len(PETITION) + 1 :]
        return RaisePetition(int(network)) if _ROUND.fullmatch(network) else None
    if text.startswith(REASON):
        round_id = text[len(REASON) :]
        return GiveReason(int(round_id)) if _ROUND.fullmatch(round_id) else None
    if text.startswith(LT_CODE):
        # An unknown or spent code is the handler's to answer.
        return BindLt(text[len(LT_CODE) :])
    for prefix, kind in _TOKENS.items():
        if text.startswith(prefix):
            # An unknown token is the flow's to answer (the question is no longer open).
            return kind(text[len(prefix) :])
    return None


def url(bot_username: str, payload: StartPayload) -> str:
    """The link that opens the private chat with the bot and hands it `payload` (just the
    chat: no `?start=` with nothing after it, which looks broken)."""
    text = encode(payload)
    return f"https://t.me/{bot_username}?start={text}" if text else f"https://t.me/{bot_username}"


def group_url(bot_username: str, payload: BindLt) -> str:
    """The link that adds the bot to a group of the opener's choice and hands it `payload`
    there (Telegram's startgroup: the group gets `/start <payload>`)."""
    return f"https://t.me/{bot_username}?startgroup={encode(payload)}"
