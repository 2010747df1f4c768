"""Rules about teams and rosters (SPEC §1): who may bind a chat, who may admit, who counts.

Plain Python: the handlers ask, these answer with a refusal (bot.charter.refusals) or None."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from bot.charter import refusals
from bot.charter.policy import SINGLE_TEAM_KINDS, RosterMode, TeamKind
from bot.charter.refusals import Refusal

SEATS = ("politik", "verwaltung", "zivilgesellschaft", "ut")
# The seats' English names, accepted as well in commands (an English-speaking network).
SEAT_ALIASES = {
    "politics": "politik",
    "administration": "verwaltung",
    "civil_society": "zivilgesellschaft",
    "civil-society": "zivilgesellschaft",
}


def seat_words(lang: str) -> list[str]:
    """The seats as a person of this language types them."""
    if lang == "de":
        return list(SEATS)
    english: dict[str, str] = {}
    for alias, stored in SEAT_ALIASES.items():
        english.setdefault(stored, alias)  # the first alias is the one shown
    return [english.get(seat, seat) for seat in SEATS]


def seat_word(word: str) -> str:
    """A seat as typed (German or English, any case) -> its stored name."""
    lowered = word.lower()
    return SEAT_ALIASES.get(lowered, lowered)


MAX_TEAM_NAME = 64
MAX_BODY = 100
MAX_REASON = 500


def roster_mode_for(kind: TeamKind) -> RosterMode:
    """LTs start in `chat` mode and may change it; NET is always `chat`; the rest explicit."""
    if kind in (TeamKind.LT, TeamKind.NET):
        return RosterMode.CHAT
    return RosterMode.EXPLICIT


def may_bind(
    kind: TeamKind,
    *,
    is_network_admin: bool,
    is_chat_admin: bool,
    needs_code: bool = False,
    has_code: bool = False,
) -> Refusal | None:
    """PT/ST/KT/UT/NET by an admin of the network they join; an LT also by an admin of that
    group chat — in a deployment of several networks (`needs_code`) with a code one of the
    network's admins handed out (`has_code`: a valid one, checked by the caller)."""
    if is_network_admin:
        return None
    if kind is not TeamKind.LT:
        return refusals.NOT_NETWORK_ADMIN
    if not is_chat_admin:
        return refusals.NOT_CHAT_ADMIN
    if needs_code and not has_code:
        return refusals.LT_CODE_NEEDED
    return None


# --- LT codes (SPEC §1): what a network admin hands out so that a group joins their network --

LT_CODE_VALID = timedelta(days=7)
# 10 characters of 32 (50 bits), no 0/O, 1/I: shown as two halves, "K7QMR-9XPD4".
LT_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
LT_CODE_LENGTH = 10
_HALF = f"[{LT_CODE_ALPHABET}]{{{LT_CODE_LENGTH // 2}}}"
_CODE_TYPED = re.compile(f"{_HALF}-{_HALF}")
_DIGIT = re.compile("[2-9]")


def lt_code_shown(code: str) -> str:
    """A code as the admin is shown it and types it: "K7QMR-9XPD4"."""
    half = LT_CODE_LENGTH // 2
    return f"{code[:half]}-{code[half:]}"


def lt_code_is_good(code: str) -> bool:
    """Whether a drawn code may be handed out: a digit in each half, so that no word of a
    team's name ("Kunst-Markt") ever reads as one."""
    half = LT_CODE_LENGTH // 2
    return (
        len(code) == LT_CODE_LENGTH
        and all(c in LT_CODE_ALPHABET for c in code)
        and bool(_DIGIT.search(code[:half]))
        and bool(_DIGIT.search(code[half:]))
    )


def lt_code_typed(word: str) -> str | None:
    """The code a word of `/setup LT CODE NAME` is (any case), or None for a word of the name."""
    upper = word.upper()
    if not _CODE_TYPED.fullmatch(upper):
        return None
    code = upper.replace("-", "")
    return code if lt_code_is_good(code) else None


def lt_code_of_link(text: str) -> str | None:
    """The code a startgroup link carried (its ten characters, no dash), or None."""
    upper = text.upper()
    return upper if lt_code_is_good(upper) else None


@dataclass(frozen=True, slots=True)
class SetupWords:
    """`/setup KIND [NETWORK] [CODE] NAME`, read: NETWORK (only where the bot serves several)
    is the word after the kind when it names a network; CODE (an LT's) a word shaped as one."""

    kind: TeamKind | None
    network: str | None  # the word that named a network, as typed
    code: str | None
    name: str


def read_setup(words: list[str], names_a_network: Callable[[str], bool] | None) -> SetupWords:
    """The words of /setup. `names_a_network` is None in a deployment of one network: there
    every word after the kind is the name, as always."""
    if not words or words[0].upper() not in TeamKind.__members__:
        return SetupWords(None, None, None, "")
    kind = TeamKind(words[0].upper())
    rest = words[1:]
    network = code = None
    if names_a_network is not None:
        if rest and names_a_network(rest[0]):
            network, rest = rest[0], rest[1:]
        if kind is TeamKind.LT and rest and lt_code_typed(rest[0]) is not None:
            code, rest = lt_code_typed(rest[0]), rest[1:]
    return SetupWords(kind, network, code, " ".join(" ".join(rest).split()))


def bot_rights_refusal(*, is_admin: bool, can_invite_users: bool) -> Refusal | None:
    """Only an admin bot gets member updates, checks membership and handles invitations."""
    if not is_admin:
        return refusals.BOT_NOT_ADMIN
    if not can_invite_users:
        return refusals.BOT_CANNOT_INVITE
    return None


def kind_taken(kind: TeamKind, existing_kinds: set[str]) -> bool:
    return kind in SINGLE_TEAM_KINDS and kind.value in existing_kinds


def may_admit_directly(*, is_network_admin: bool, in_setup_phase: bool) -> Refusal | None:
    """Network admins enter existing members only until the team's first decision."""
    if not is_network_admin:
        return refusals.NOT_NETWORK_ADMIN
    if not in_setup_phase:
        return refusals.SETUP_PHASE_OVER
    return None


def decided_by_the_team(
    kind: str, roster_mode: str, is_network_admin: bool, in_setup_phase: bool
) -> bool:
    """An LT with an explicit roster admits by its own decision; only during the set-up
    phase does a network admin still enter members directly."""
    if kind != TeamKind.LT or roster_mode != RosterMode.EXPLICIT:
        return False
    return not (is_network_admin and in_setup_phase)


class Leaving(StrEnum):
    """How a person left a roster (stored in the roster and the record: never rename)."""

    LEFT = "left"  # /leave, or /forgetme
    REMOVED = "removed"  # /remove by a network admin, with a reason
    LEFT_CHAT = "left_chat"  # left the team's chat
    REMOVED_FROM_CHAT = "removed_from_chat"  # removed from the chat by one of its admins


# How a person left a roster that keeps them off it in roster mode `chat`.
STAYS_OUT = frozenset({Leaving.LEFT, Leaving.REMOVED})
# ... of which only a network admin's removal also keeps them from rejoining by a press.
REMOVED = Leaving.REMOVED


def joins_by_sighting(roster_mode: str, *, last_left_how: str | None) -> bool:
    """In roster mode `chat` everyone the bot sees in the chat is on the roster — except a
    person who left with /leave (only taking part again, a press, brings them back) or was
    removed by a network admin."""
    return roster_mode == RosterMode.CHAT and last_left_how not in STAYS_OUT


def parse_seat(words: list[str]) -> tuple[str | None, str | None]:
    """`politik Stadtbezirksbeirat West` -> ("politik", "Stadtbezirksbeirat West")."""
    if not words:
        return None, None
    seat = seat_word(words[0])
    if seat not in SEATS:
        return None, None
    body = " ".join(words[1:]).strip() or None
    return seat, body
